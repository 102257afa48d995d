//! Pending commits: a membership change handed to the relay whose outcome may not be known
//! yet. One state machine settles them, fed by whoever learns something: the sender (the
//! relay's answer) and the receiver (what the group log shows, what epoch we are in after a
//! restart).
//!
//! A commit is saved as pending (with its Welcome) before it goes to the relay, so a crash or
//! a lost answer is settled later: found in the log -> merged and Welcomes (re)sent; the
//! relay refused it, or another commit took its epoch -> aborted.

use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::mls::GroupId;
use rand::rngs::OsRng;

use crate::api::alert::Alert;
use crate::api::error::{ClientError, CryptoError, StoreError};
use crate::api::event::Event;
use crate::api::message::Message;
use crate::state::store::records::StoredKind;
use crate::state::store::records::{Conversation, HistoryEntry, PendingCommit, StoredBody};
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

/// What was learned about a group while one of our commits was pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Observation {
    /// The relay accepted it at this position.
    Accepted(u64),
    /// The relay refused it (another commit took the epoch first, or any other refusal).
    Refused,
    /// The relay could not be reached: the outcome is unknown.
    Unreachable,
    /// The group log holds this entry (SHA-256 `hash` of its frame; `commit` if it is one).
    InLog {
        seq: u64,
        hash: [u8; 32],
        commit: bool,
    },
    /// Everything the relay holds for the epoch we read with (`epoch`) has been read.
    LogEnded { epoch: u64 },
    /// Our group state is at `epoch` (e.g. after a restart).
    AtEpoch { epoch: u64 },
}

/// What to do with a pending commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    /// It was accepted: merge it (unless merged already), record it, send the Welcomes.
    Finish(Option<u64>),
    /// It will never be accepted: drop it.
    Abort,
    /// Nothing is known yet.
    Keep,
}

/// The rule, in one place.
pub(crate) fn decide(pending: &PendingCommit, seen: Observation) -> Decision {
    match seen {
        Observation::Accepted(seq) => Decision::Finish(Some(seq)),
        Observation::Refused => Decision::Abort,
        Observation::Unreachable => Decision::Keep,
        Observation::InLog { seq, hash, .. } if hash == pending.commit_hash => {
            Decision::Finish(Some(seq))
        }
        // Another commit won the epoch ours was for.
        Observation::InLog { commit: true, .. } => Decision::Abort,
        Observation::InLog { .. } => Decision::Keep,
        // All of the epoch is read and our commit is not in it.
        Observation::LogEnded { epoch } if epoch == pending.epoch => Decision::Abort,
        Observation::LogEnded { .. } => Decision::Keep,
        // Merged before a crash; the Welcomes may not have gone out.
        Observation::AtEpoch { epoch } if epoch > pending.epoch => Decision::Finish(None),
        Observation::AtEpoch { .. } => Decision::Keep,
    }
}

/// Settles the pending commit of `gid`, if there is one, by what was observed; returns what
/// was decided (`Keep` when nothing is pending).
pub(crate) async fn settle(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    seen: Observation,
) -> Result<Decision, ClientError> {
    let Some(pending) = pending_commit(ctx, gid)? else {
        return Ok(Decision::Keep);
    };
    let decision = decide(&pending, seen);
    match decision {
        Decision::Finish(seq) => finish(ctx, pending, seq).await?,
        Decision::Abort => abort(ctx, gid).await?,
        Decision::Keep => {}
    }
    Ok(decision)
}

/// Whether a commit of ours in `gid` awaits its outcome: a plain lookup, for the paths that
/// only decide whether to read first (every send and every pushed entry take it).
pub(crate) fn has_pending_commit(ctx: &Ctx<'_>, gid: &GroupId) -> Result<bool, ClientError> {
    Ok(ctx.store.contains(Key::PendingCommit(gid))?)
}

/// The pending commit of `gid`, if any.
pub(crate) fn pending_commit(
    ctx: &Ctx<'_>,
    gid: &GroupId,
) -> Result<Option<PendingCommit>, ClientError> {
    Ok(ctx.store.get(Key::PendingCommit(gid))?)
}

/// Every pending commit.
pub(crate) fn all(ctx: &Ctx<'_>) -> Result<Vec<PendingCommit>, ClientError> {
    Ok(ctx.store.scan(Prefix::PendingCommits)?)
}

/// Saves a commit as pending (with the MLS state that staged it) before the relay sees it:
/// whatever happens next, it can be settled, and our own commit is never processed as
/// someone else's.
pub(crate) async fn save(ctx: &mut Ctx<'_>, pending: &PendingCommit) -> Result<(), ClientError> {
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.put(Key::PendingCommit(&pending.group_id), pending)?;
    batch.mark_seen(&pending.commit_hash);
    ctx.store.apply(batch).await?;
    Ok(())
}

/// The relay accepted our commit (at `seq`, if known): merge it, save, send Welcomes. The
/// caller has processed what others posted ahead of it in the same epoch.
async fn finish(
    ctx: &mut Ctx<'_>,
    mut pending: PendingCommit,
    seq: Option<u64>,
) -> Result<(), ClientError> {
    let gid = pending.group_id;
    let created = pending.conversation.is_some();
    if ctx.session.mls.epoch(&gid).ok() == Some(pending.epoch) {
        if let Err(e) = ctx.session.mls.merge_own_commit(&gid) {
            ctx.session.mls.discard_changes();
            return Err(e.into());
        }
    }
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    if let Some(seq) = seq {
        batch.put_u64(Key::Cursor(&gid), seq.saturating_add(1));
    }
    let new_conversation = pending.conversation.take();
    if let Some(conv) = &new_conversation {
        ctx.stage_conversation(&mut batch, conv)?;
    }
    // Our own change goes into the history once, in the batch that merges it (a second call,
    // after a crash before the Welcomes went out, finds it recorded).
    let mut message = None;
    if !pending.recorded {
        let conv = match new_conversation {
            Some(conv) => Some(conv),
            None => ctx.conversation_of(&gid)?,
        };
        if let Some(conv) = conv {
            message = stage_own_change(ctx, &mut batch, &conv, &pending, created)?;
        }
        ctx.stage_forget_leave_requests(&mut batch, &gid, Some(&pending.removed))?;
        pending.recorded = true;
    }
    // Kept (without the conversation, now saved) until every Welcome is delivered.
    batch.put(Key::PendingCommit(&gid), &pending)?;
    ctx.store.apply(batch).await?;
    crate::state::failpoint::hit("commit.after_merge");
    if let Some(message) = message {
        ctx.events.push(Event::Message(message));
    }

    if let Some(welcome) = &pending.welcome {
        let welcome = hex::decode(welcome).map_err(|_| StoreError::Corrupt("welcome"))?;
        let vouched = member_records(ctx, &gid)?;
        for recipient in &pending.recipients {
            let handle = Handle::parse(recipient).map_err(|_| StoreError::Corrupt("recipient"))?;
            let records: Vec<Vec<u8>> = vouched
                .iter()
                .filter(|(member, _)| *member != handle)
                .map(|(_, record)| record.clone())
                .collect();
            let invitation = InboxMessage::WelcomeWithRecords {
                conversation_name: pending.welcome_name.clone(),
                welcome: welcome.clone(),
                member_records: records,
            };
            match deliver_welcome(ctx, &handle, &invitation).await {
                Ok(()) => {}
                // Retried by the next sync, which finds the pending commit merged.
                Err(e @ (ClientError::RelayUnreachable(_) | ClientError::Store(_))) => {
                    return Err(e)
                }
                Err(e) => {
                    ctx.alert(Alert::InviteFailed {
                        handle,
                        reason: e.to_string(),
                    })
                    .await;
                }
            }
        }
    }
    let mut batch = StoreBatch::default();
    batch.remove(Key::PendingCommit(&gid));
    ctx.store.apply(batch).await?;
    if let Some(conv) = ctx.conversation_of(&gid)? {
        ctx.events.push(Event::MembershipChanged {
            conversation: conv.id(),
        });
    }
    Ok(())
}

/// The history entry for a change of ours: "created" for a new group, the members added
/// or removed for an existing one, the new retention; none for a new 1:1 or the closing of
/// a retired one.
fn stage_own_change(
    ctx: &Ctx<'_>,
    batch: &mut StoreBatch,
    conv: &Conversation,
    pending: &PendingCommit,
    created: bool,
) -> Result<Option<Message>, ClientError> {
    if let Some(secs) = pending.retention_secs {
        let entry = HistoryEntry {
            stored_at_ms: 0,
            sender: ctx.session.handle.to_string(),
            sent_at_ms: ctx.now_ms(),
            body: StoredBody::Retention { secs },
        };
        return ctx.stage_history(batch, conv, entry).map(Some);
    }
    if !pending.promoted.is_empty() {
        let entry = HistoryEntry {
            stored_at_ms: 0,
            sender: ctx.session.handle.to_string(),
            sent_at_ms: ctx.now_ms(),
            body: StoredBody::Promoted {
                admins: pending.promoted.clone(),
            },
        };
        return ctx.stage_history(batch, conv, entry).map(Some);
    }
    if conv.kind == StoredKind::Direct {
        return Ok(None);
    }
    if !pending.roster_changes.is_empty() && !created {
        let entry = HistoryEntry {
            stored_at_ms: 0,
            sender: ctx.session.handle.to_string(),
            sent_at_ms: ctx.now_ms(),
            body: StoredBody::RosterChanged {
                changes: pending.roster_changes.clone(),
            },
        };
        return ctx.stage_history(batch, conv, entry).map(Some);
    }
    if created {
        return ctx.stage_joined(batch, conv).map(Some);
    }
    let entry = HistoryEntry {
        stored_at_ms: 0,
        sender: ctx.session.handle.to_string(),
        sent_at_ms: ctx.now_ms(),
        body: StoredBody::Membership {
            added: pending.recipients.clone(),
            removed: pending.removed.clone(),
        },
    };
    ctx.stage_history(batch, conv, entry).map(Some)
}

/// The relay refused our commit: drop it and the pending record.
async fn abort(ctx: &mut Ctx<'_>, gid: &GroupId) -> Result<(), ClientError> {
    if ctx.session.mls.has_group(gid) {
        if let Err(e) = ctx.session.mls.abort_own_commit(gid) {
            tracing::debug!(error = %e, "no own commit to abort");
        }
    }
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.remove(Key::PendingCommit(gid));
    ctx.store.apply(batch).await?;
    Ok(())
}

/// The records we hold of the group's members (ourselves aside: our own rides in the
/// envelope), so that whoever we invite can check them without asking the directory.
fn member_records(ctx: &Ctx<'_>, gid: &GroupId) -> Result<Vec<(Handle, Vec<u8>)>, ClientError> {
    let mut records = Vec::new();
    for member in ctx.session.mls.members(gid)? {
        if member.handle == ctx.session.handle {
            continue;
        }
        if let Some(record) = ctx.pinned(&member.handle)?.and_then(|c| c.record) {
            records.push((member.handle, record));
        }
    }
    Ok(records)
}

/// Seals an invitation to `recipient`'s pinned inbox key and deposits it.
async fn deliver_welcome(
    ctx: &mut Ctx<'_>,
    recipient: &Handle,
    invitation: &InboxMessage,
) -> Result<(), ClientError> {
    let contact = crate::trust::contacts::contact(ctx, recipient).await?;
    let message = invitation.encode().map_err(CryptoError::from)?;
    let record = crate::trust::own_record::own_record(ctx).await?;
    let sealed = envelope::seal_invitation(
        &mut OsRng,
        &message,
        &ctx.session.handle,
        &ctx.session.inbox,
        &record,
        recipient,
        &contact.inbox_key(),
    )
    .map_err(CryptoError::from)?;
    let relay = ctx.one_off_relay().await?;
    relay.deposit(recipient, &sealed).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(epoch: u64) -> PendingCommit {
        PendingCommit {
            group_id: [1; 32],
            epoch,
            commit_hash: [7; 32],
            welcome: None,
            recipients: Vec::new(),
            removed: Vec::new(),
            welcome_name: "g".to_owned(),
            conversation: None,
            recorded: false,
            retention_secs: None,
            promoted: Vec::new(),
            roster_changes: Vec::new(),
        }
    }

    #[test]
    fn the_relay_answer_decides_when_it_arrives() {
        let p = pending(3);
        assert_eq!(
            decide(&p, Observation::Accepted(9)),
            Decision::Finish(Some(9))
        );
        assert_eq!(decide(&p, Observation::Refused), Decision::Abort);
        assert_eq!(decide(&p, Observation::Unreachable), Decision::Keep);
    }

    #[test]
    fn the_log_decides_when_the_answer_was_lost() {
        let p = pending(3);
        let ours = Observation::InLog {
            seq: 4,
            hash: [7; 32],
            commit: true,
        };
        let theirs = Observation::InLog {
            seq: 4,
            hash: [8; 32],
            commit: true,
        };
        let message = Observation::InLog {
            seq: 4,
            hash: [8; 32],
            commit: false,
        };
        assert_eq!(decide(&p, ours), Decision::Finish(Some(4)));
        assert_eq!(decide(&p, theirs), Decision::Abort);
        assert_eq!(decide(&p, message), Decision::Keep);
        assert_eq!(
            decide(&p, Observation::LogEnded { epoch: 3 }),
            Decision::Abort
        );
        assert_eq!(
            decide(&p, Observation::LogEnded { epoch: 2 }),
            Decision::Keep
        );
    }

    #[test]
    fn a_commit_merged_before_a_crash_is_finished_without_merging_again() {
        let p = pending(3);
        assert_eq!(
            decide(&p, Observation::AtEpoch { epoch: 4 }),
            Decision::Finish(None)
        );
        assert_eq!(
            decide(&p, Observation::AtEpoch { epoch: 3 }),
            Decision::Keep
        );
    }
}
