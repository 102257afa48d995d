//! Group logs: reading every group's new entries and processing them in order.

use parley_crypto::mls::{GroupId, Incoming, IncomingCommit, Member};
use parley_crypto::payload::Payload;
use sha2::{Digest, Sha256};

use crate::api::alert::Alert;
use crate::api::error::ClientError;
use crate::api::event::Event;
use crate::pending::{self, Decision, Observation};
use crate::state::quarantine::is_fork_sign;
use crate::state::relay::{Entry, ReadPage};
use crate::state::store::records::{
    Conversation, HistoryEntry, StoredBody, StoredDocument, StoredKind,
};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;
use crate::trust::contacts::verify_member;
use crate::trust::rekey::accept_rekey;

/// Entries read per request.
const READ_LIMIT: u32 = 100;

/// Settles every commit whose outcome a crash or a lost answer left unknown, by reading its
/// group. A group that cannot be read now does not stop the others.
pub(crate) async fn settle_pending_commits(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    for commit in pending::all(ctx)? {
        sync_group_or_log(ctx, &commit.group_id).await?;
    }
    Ok(())
}

/// Syncs one group; a relay refusal for one group must not stop the others. Fails only when
/// nothing can be synced (relay unreachable, store failing).
pub(crate) async fn sync_group_or_log(ctx: &mut Ctx<'_>, gid: &GroupId) -> Result<(), ClientError> {
    or_log(sync_group(ctx, gid).await)
}

/// [`sync_pushed`], failing only when nothing can be synced (see [`sync_group_or_log`]).
pub(crate) async fn sync_pushed_or_log(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    pushed: &[Entry],
) -> Result<(), ClientError> {
    or_log(sync_pushed(ctx, gid, pushed).await)
}

/// Keeps a group's sync failure from stopping the others, unless nothing can be synced.
fn or_log(synced: Result<(), ClientError>) -> Result<(), ClientError> {
    match synced {
        Err(e @ (ClientError::RelayUnreachable(_) | ClientError::Store(_))) => Err(e),
        Err(e) => {
            tracing::warn!(kind = %e.kind(), "a group could not be synced");
            tracing::debug!(error = %e, "group sync failed");
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

/// [`sync_group`] before acting in the group: fails with NotAMember when what it read
/// removed us (or we were out already).
pub(crate) async fn sync_group_as_member(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
) -> Result<(), ClientError> {
    sync_group(ctx, gid).await?;
    if ctx.session.mls.is_active(gid).unwrap_or(false) {
        Ok(())
    } else {
        Err(ctx.not_a_member())
    }
}

/// Reads and processes a group's log until we are at the relay's epoch with nothing new,
/// and waits until what it wrote is on disk: the entries are written one by one without
/// waiting (a crash loses only what the relay still holds), so that a page costs one wait
/// for the disk, not one per entry.
pub(crate) async fn sync_group(ctx: &mut Ctx<'_>, gid: &GroupId) -> Result<(), ClientError> {
    let cursor = ctx.store.get_u64(Key::Cursor(gid))?;
    let read = read_log(ctx, gid).await;
    // Only when entries were written: a read that found nothing leaves the flush of a sent
    // message's record to the next write, as before.
    if ctx.store.get_u64(Key::Cursor(gid))? != cursor {
        ctx.store.settle().await?;
    }
    read
}

/// Syncs a group whose notices carried these entries: they are processed as a read would
/// have returned them when they continue the log where we are, in our epoch; whatever they
/// do not cover (a gap, which notices coalesced by the relay leave; another epoch; a commit
/// of ours whose outcome is open; a group we are no longer active in) is read.
///
/// Does not wait for the disk: what it writes is what the relay still holds, and the caller
/// decides whether to wait before it reports anything (`sync::sync_group_events`).
///
/// A pushed entry is checked exactly like a read one (MLS authenticates it; a replay is
/// seen, an old epoch's is set aside): the relay may push only what it could serve.
pub(crate) async fn sync_pushed(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    pushed: &[Entry],
) -> Result<(), ClientError> {
    if take_pushed(ctx, gid, pushed).await? {
        Ok(())
    } else {
        read_log(ctx, gid).await
    }
}

/// Processes the pushed entries that continue the log; false when the rest needs a read.
async fn take_pushed(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    pushed: &[Entry],
) -> Result<bool, ClientError> {
    if pushed.is_empty() || pending::has_pending_commit(ctx, gid)? {
        return Ok(false);
    }
    for entry in pushed {
        let cursor = ctx.store.get_u64(Key::Cursor(gid))?;
        if entry.seq < cursor {
            // Read already, or pushed twice.
            continue;
        }
        let in_line = entry.seq == cursor
            && ctx.session.mls.is_active(gid).unwrap_or(false)
            && ctx.session.mls.epoch(gid).ok() == Some(entry.epoch);
        if !in_line {
            return Ok(false);
        }
        process_entry(ctx, gid, entry).await?;
    }
    Ok(true)
}

/// [`sync_group`] without the final wait for the disk.
async fn read_log(ctx: &mut Ctx<'_>, gid: &GroupId) -> Result<(), ClientError> {
    if let Ok(epoch) = ctx.session.mls.epoch(gid) {
        pending::settle(ctx, gid, Observation::AtEpoch { epoch }).await?;
    }
    loop {
        if !ctx.session.mls.has_group(gid) || !ctx.session.mls.is_active(gid).unwrap_or(false) {
            return Ok(());
        }
        let cursor = ctx.store.get_u64(Key::Cursor(gid))?;
        let (epoch, page) = read_page(ctx, gid, cursor).await?;
        crate::state::failpoint::hit("group.after_fetch");
        if page.entries.is_empty() {
            pending::settle(ctx, gid, Observation::LogEnded { epoch }).await?;
            if page.current_epoch != epoch {
                // A commit we could not process (refused or undecryptable) left us behind.
                tracing::warn!(epoch, current = page.current_epoch, "group is ahead of us");
                report_stuck(ctx, gid, epoch).await?;
            }
            return Ok(());
        }
        // After a commit, the page's remaining entries belong to the epoch it closed: an
        // honest relay never serves any (it takes posts only in the current epoch), a
        // reordering one may. They are still processed (application messages of recent
        // epochs remain readable, anything else is set aside) rather than skipped, which
        // would lose them; then reading goes on with the next epoch's access key.
        let (current_epoch, next_seq) = (page.current_epoch, page.next_seq);
        for entry in page.entries {
            if entry.seq < cursor {
                continue;
            }
            process_entry(ctx, gid, &entry).await?;
        }
        if reached_the_end(ctx, gid, epoch, current_epoch, next_seq)? {
            // What an empty read would have told: the log ended here, in our epoch.
            pending::settle(ctx, gid, Observation::LogEnded { epoch }).await?;
            return Ok(());
        }
    }
}

/// Whether the page just processed ended where the log did when it was read, in the epoch
/// it was read with and we are still in: another read would only come back empty. A relay
/// that lies about the end only hides entries, which it can do anyway by serving fewer.
fn reached_the_end(
    ctx: &Ctx<'_>,
    gid: &GroupId,
    epoch: u64,
    current_epoch: u64,
    next_seq: u64,
) -> Result<bool, ClientError> {
    let still_in_epoch = current_epoch == epoch
        && ctx.session.mls.is_active(gid).unwrap_or(false)
        && ctx.session.mls.epoch(gid).ok() == Some(epoch);
    Ok(still_in_epoch && ctx.store.get_u64(Key::Cursor(gid))? >= next_seq)
}

/// Processes one log entry.
async fn process_entry(ctx: &mut Ctx<'_>, gid: &GroupId, entry: &Entry) -> Result<(), ClientError> {
    let hash: [u8; 32] = Sha256::digest(&entry.message).into();
    let seen = Observation::InLog {
        seq: entry.seq,
        hash,
        commit: entry.commit,
    };
    match pending::settle(ctx, gid, seen).await? {
        // It was our own commit, now merged.
        Decision::Finish(_) => Ok(()),
        _ => process_foreign_entry(ctx, gid, entry, &hash).await,
    }
}

/// Processes an entry that is not our pending commit.
async fn process_foreign_entry(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    entry: &Entry,
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    let hash = *hash;
    if ctx.store.seen(&hash)? {
        return skip_seen_entry(ctx, gid, entry, &hash).await;
    }
    match ctx.session.mls.process(gid, &entry.message) {
        Ok(Incoming::Application { sender, payload }) => {
            accept_application(ctx, gid, entry, &hash, &sender, &payload).await
        }
        Ok(Incoming::Commit(commit)) => accept_commit(ctx, gid, entry, &hash, commit).await,
        Ok(Incoming::LeaveRequest(member)) => {
            accept_leave_request(ctx, gid, entry, &hash, &member).await
        }
        Ok(_) => {
            let mut batch = StoreBatch::default();
            ctx.stage_mls(&mut batch);
            batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
            batch.mark_seen(&hash);
            ctx.store.apply_unflushed(batch)?;
            Ok(())
        }
        Err(e) => {
            // A replay, an entry of an old epoch, garbage: set it aside once, never stall
            // the log, never retry it.
            tracing::debug!(seq = entry.seq, error = %e, "quarantining a group entry");
            ctx.session.mls.discard_changes();
            let fork_sign = is_fork_sign(&e, entry);
            ctx.quarantine_entry(gid, entry, &hash, e.to_string(), fork_sign)
                .await
        }
    }
}

async fn skip_entry(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    entry: &Entry,
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    let mut batch = StoreBatch::default();
    batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
    batch.mark_seen(hash);
    ctx.store.apply_unflushed(batch)?;
    Ok(())
}

async fn accept_application(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    entry: &Entry,
    hash: &[u8; 32],
    sender: &Member,
    payload: &[u8],
) -> Result<(), ClientError> {
    let conv = ctx.conversation_of(gid)?;
    let body = match Payload::decode(payload) {
        Ok(Payload::Text { sent_at_ms, text }) => Some((sent_at_ms, StoredBody::Text(text))),
        Ok(Payload::Document {
            sent_at_ms,
            reference,
        }) => Some((
            sent_at_ms,
            StoredBody::Document(StoredDocument::from(reference)),
        )),
        Ok(Payload::TextVersion {
            sent_at_ms,
            number,
            previous,
            text,
        }) => Some((
            sent_at_ms,
            StoredBody::TextVersion {
                number,
                previous,
                text,
            },
        )),
        Ok(Payload::TextComment {
            sent_at_ms,
            version,
            para,
            text,
        }) => Some((
            sent_at_ms,
            StoredBody::TextComment {
                version,
                para,
                text,
            },
        )),
        Ok(Payload::RecordExported { sent_at_ms }) => {
            Some((sent_at_ms, StoredBody::RecordExported))
        }
        Ok(Payload::TextVersionDocument {
            sent_at_ms,
            number,
            previous,
            reference,
        }) => Some((
            sent_at_ms,
            StoredBody::TextVersionDocument {
                number,
                previous,
                document: StoredDocument::from(reference),
            },
        )),
        Ok(Payload::Unknown {
            kind, sent_at_ms, ..
        }) => Some((sent_at_ms, StoredBody::Unsupported { kind })),
        Err(_) => None,
    };
    // What only a workshop's facilitators may say, or only about the text the room holds,
    // is set aside (with an alert) when it comes from anyone else or does not fit.
    if let Some((_, body)) = &body {
        if let Err(reason) = crate::workshop::vetting::vet(ctx, gid, &sender.handle, body) {
            ctx.session.mls.discard_changes();
            return ctx.quarantine_entry(gid, entry, hash, reason, false).await;
        }
    }
    let stored_sender = crate::workshop::attribution::stored_sender(ctx, gid, &sender.handle)?;
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
    batch.mark_seen(hash);
    // A message older than the conversation's retention is not kept, nor shown: it would
    // be deleted at once (a member offline past the retention, or a relay that served it
    // late).
    let expired = body
        .as_ref()
        .is_some_and(|(sent_at_ms, _)| crate::retention::expired_on_arrival(ctx, gid, *sent_at_ms));
    if expired {
        ctx.store.apply_unflushed(batch)?;
        return Ok(());
    }
    let message = match (&conv, body) {
        (Some(conv), Some((sent_at_ms, body))) => Some(ctx.stage_history_as(
            &mut batch,
            conv,
            HistoryEntry {
                stored_at_ms: 0,
                sender: stored_sender,
                sent_at_ms,
                body,
            },
            false,
        )?),
        _ => None,
    };
    crate::state::failpoint::hit("group.after_process");
    ctx.store.apply_unflushed(batch)?;
    crate::state::failpoint::hit("group.after_persist");
    match message {
        Some(message) => ctx.events.push(Event::Message(message)),
        None => {
            if let Some(conv) = &conv {
                let conversation = ctx.display_name(conv)?;
                ctx.alert(Alert::Unreadable {
                    conversation,
                    sender: sender.handle.clone(),
                })
                .await;
            }
        }
    }
    Ok(())
}

/// Records a member's request to leave: every member sees that they left, and an admin's
/// client removes them after the sync ([`crate::send::leave::remove_leavers`]).
async fn accept_leave_request(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    entry: &Entry,
    hash: &[u8; 32],
    member: &Member,
) -> Result<(), ClientError> {
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
    batch.mark_seen(hash);
    ctx.stage_leave_request(&mut batch, gid, &member.handle)?;
    let message = match ctx.conversation_of(gid)? {
        Some(conv) => Some(ctx.stage_history(
            &mut batch,
            &conv,
            HistoryEntry {
                stored_at_ms: 0,
                sender: member.handle.to_string(),
                sent_at_ms: ctx.now_ms(),
                body: StoredBody::Membership {
                    added: Vec::new(),
                    removed: vec![member.handle.to_string()],
                },
            },
        )?),
        None => None,
    };
    ctx.store.apply(batch).await?;
    if let Some(message) = message {
        ctx.events.push(Event::Message(message));
    }
    Ok(())
}

/// Checks the members a commit adds, then merges it and records the change in the
/// history, where every member sees it.
async fn accept_commit(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    entry: &Entry,
    hash: &[u8; 32],
    commit: IncomingCommit,
) -> Result<(), ClientError> {
    let conv = ctx.conversation_of(gid)?;
    let committer = commit.sender().map(|m| m.handle.to_string());
    // A 1:1 never grows: whoever adds a third person would hear what is meant for one.
    if conv.as_ref().is_some_and(|c| c.kind == StoredKind::Direct) && !commit.added().is_empty() {
        ctx.session.mls.discard_changes();
        let who = committer.unwrap_or_else(|| "someone".to_owned());
        return ctx
            .quarantine_entry(
                gid,
                entry,
                hash,
                format!(
                    "{who} tried to add someone to your private conversation with them; refused"
                ),
                false,
            )
            .await;
    }
    let mut to_check: Vec<Member> = commit.added().to_vec();
    to_check.extend(commit.sender().cloned());
    // A committer moving its leaf to a new key (a rotation) is checked by where it goes: its
    // old leaf is no longer the pin if we learnt of the rotation elsewhere first.
    let rekey = commit.sender().cloned().zip(commit.rekeyed().cloned());
    for member in &to_check {
        let checked = match &rekey {
            Some((committer, new)) if member == committer => {
                accept_rekey(ctx, committer, new).await
            }
            _ => verify_member(ctx, member).await,
        };
        if let Err(e) = checked {
            if e.is_transient() {
                ctx.session.mls.discard_changes();
                return Err(e);
            }
            ctx.session.mls.discard_changes();
            let name = match &conv {
                Some(conv) => ctx.display_name(conv)?,
                None => "a conversation".to_owned(),
            };
            return ctx
                .quarantine_entry(
                    gid,
                    entry,
                    hash,
                    format!("a change to {name} was refused: {e}"),
                    false,
                )
                .await;
        }
    }
    let removes_us = commit.removes_us();
    let retention = commit.retention();
    let roster: Vec<String> = commit
        .roster_changes()
        .iter()
        .map(ToString::to_string)
        .collect();
    let promoted: Vec<String> = commit.promoted().iter().map(|h| h.to_string()).collect();
    let added: Vec<String> = commit
        .added()
        .iter()
        .map(|m| m.handle.to_string())
        .collect();
    let removed: Vec<String> = commit
        .removed()
        .iter()
        .map(|m| m.handle.to_string())
        .collect();
    if let Err(e) = ctx.session.mls.merge_incoming_commit(gid, commit) {
        tracing::warn!(error = %e, "could not merge a commit");
        ctx.session.mls.discard_changes();
        return ctx
            .quarantine_entry(gid, entry, hash, e.to_string(), false)
            .await;
    }
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
    batch.mark_seen(hash);
    // A removal answers a request to leave: were they added back later, the old request
    // must not take them out again.
    ctx.stage_forget_leave_requests(&mut batch, gid, Some(&removed))?;
    let mut message = None;
    if let Some(conv) = &conv {
        let conv = Conversation {
            active: conv.active && !removes_us,
            ..conv.clone()
        };
        ctx.stage_conversation(&mut batch, &conv)?;
        if !roster.is_empty() {
            // A workshop's change says who joined, left or moved, and as what.
            let change = HistoryEntry {
                stored_at_ms: 0,
                sender: committer.clone().unwrap_or_default(),
                sent_at_ms: ctx.now_ms(),
                body: StoredBody::RosterChanged { changes: roster },
            };
            message = Some(ctx.stage_history(&mut batch, &conv, change)?);
        } else if !added.is_empty() || !removed.is_empty() {
            let change = HistoryEntry {
                stored_at_ms: 0,
                sender: committer.clone().unwrap_or_default(),
                sent_at_ms: ctx.now_ms(),
                body: StoredBody::Membership { added, removed },
            };
            message = Some(ctx.stage_history(&mut batch, &conv, change)?);
        } else if let Some(retention) = retention {
            // Every member is told, in the history, who changed how long messages live.
            let change = HistoryEntry {
                stored_at_ms: 0,
                sender: committer.clone().unwrap_or_default(),
                sent_at_ms: ctx.now_ms(),
                body: StoredBody::Retention {
                    secs: retention.as_secs(),
                },
            };
            message = Some(ctx.stage_history(&mut batch, &conv, change)?);
        } else if !promoted.is_empty() {
            let change = HistoryEntry {
                stored_at_ms: 0,
                sender: committer.clone().unwrap_or_default(),
                sent_at_ms: ctx.now_ms(),
                body: StoredBody::Promoted { admins: promoted },
            };
            message = Some(ctx.stage_history(&mut batch, &conv, change)?);
        }
    }
    crate::state::failpoint::hit("group.commit_after_process");
    ctx.store.apply(batch).await?;
    if let Some(conv) = conv {
        if let Some(message) = message {
            ctx.events.push(Event::Message(message));
        }
        ctx.events.push(Event::MembershipChanged {
            conversation: conv.id(),
        });
        if removes_us {
            let by = committer.unwrap_or_else(|| "someone".to_owned());
            let alert = if conv.kind == StoredKind::Direct {
                Alert::DirectClosed { by }
            } else {
                Alert::Removed {
                    conversation: ctx.display_name(&conv)?,
                    by,
                }
            };
            ctx.alert(alert).await;
        }
    }
    Ok(())
}

/// What of ours the relay took at the position a catch-up reads up to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ours {
    /// Our commit, not merged yet.
    Commit,
    /// Our application message.
    Message,
}

/// Processes what others posted ahead of our entry at `commit_seq`: before our commit is
/// merged (after it, those messages could no longer be decrypted), or before our message is
/// recorded (so that the history keeps the log's order).
pub(crate) async fn catch_up_to(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    commit_seq: u64,
    ours: Ours,
) -> Result<(), ClientError> {
    loop {
        let cursor = ctx.store.get_u64(Key::Cursor(gid))?;
        if cursor >= commit_seq {
            return Ok(());
        }
        let (_, page) = read_page(ctx, gid, cursor).await?;
        let mut progressed = false;
        for entry in page.entries {
            if entry.seq < cursor {
                continue;
            }
            if entry.seq >= commit_seq {
                return Ok(());
            }
            progressed = true;
            let hash: [u8; 32] = Sha256::digest(&entry.message).into();
            if entry.commit && ours == Ours::Commit {
                // The relay let no other commit into this epoch before ours.
                skip_entry(ctx, gid, &entry, &hash).await?;
            } else {
                // A commit ahead of our message means the relay took our post in an epoch
                // it had closed: processed like any entry, never skipped, so that we go on
                // in the group as it is.
                process_foreign_entry(ctx, gid, &entry, &hash).await?;
            }
        }
        if !progressed {
            return Ok(());
        }
    }
}

/// Reads one page of the group log at our current epoch, from `cursor` on, signed with
/// that epoch's access key; returns the epoch it read with and the page.
async fn read_page(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    cursor: u64,
) -> Result<(u64, ReadPage), ClientError> {
    let epoch = ctx.session.mls.epoch(gid)?;
    let access = ctx.session.mls.access_key(gid)?;
    let now = ctx.now_ms();
    let relay = ctx.group_relay(gid).await?;
    let page = relay
        .read(gid, epoch, &access, cursor, READ_LIMIT, now)
        .await?;
    Ok((epoch, page))
}

/// Skips a log entry we already know (ours, or processed before). If it is our own message
/// whose post a crash or a lost answer left unrecorded, it goes into the history now.
pub(crate) async fn skip_seen_entry(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    entry: &Entry,
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    // A plain mark is empty and decodes to nothing.
    let unrecorded: Option<HistoryEntry> = ctx.store.get(Key::Seen(hash)).unwrap_or(None);
    let mut batch = StoreBatch::default();
    batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
    batch.mark_seen(hash);
    let conv = ctx.conversation_of(gid)?;
    // A version of ours that lost its place to another facilitator's is not recorded: the
    // room did not take it.
    let unrecorded = match unrecorded {
        Some(u) if !crate::workshop::vetting::fits_chain(ctx, gid, &u.body)? => None,
        other => other,
    };
    let message = match (unrecorded, &conv) {
        // Ours by definition (it carries our mark), even when kept under a side or role.
        (Some(unrecorded), Some(conv)) => {
            Some(ctx.stage_history_as(&mut batch, conv, unrecorded, true)?)
        }
        _ => None,
    };
    ctx.store.apply_unflushed(batch)?;
    if let Some(message) = message {
        ctx.events.push(Event::Message(message));
    }
    Ok(())
}

/// Tells the user, once per group and epoch, that the group moved on without us: its log
/// holds nothing more we can read at our epoch, yet the relay is at a later one.
async fn report_stuck(ctx: &mut Ctx<'_>, gid: &GroupId, epoch: u64) -> Result<(), ClientError> {
    let Some(conv) = ctx.conversation_of(gid)? else {
        return Ok(());
    };
    let conversation = ctx.display_name(&conv)?;
    ctx.alert_once_per(
        &["room stuck", &hex::encode(gid), &epoch.to_string()],
        Alert::RoomStuck { conversation },
    )
    .await
}
