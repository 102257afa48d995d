//! Sending text messages.

use parley_crypto::handle::Handle;
use parley_crypto::payload::Payload;
use sha2::{Digest, Sha256};

use crate::api::conversation::ConversationId;
use crate::api::error::{ClientError, CryptoError, RelayError};
use crate::api::message::Message;
use crate::api::workshop_error::WorkshopError;
use crate::pending;
use crate::receive::group_log;
use crate::send::membership::{self, MAX_TRIES};
use crate::state::store::records::{Conversation, HistoryEntry, StoredBody, StoredKind};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;
use crate::trust::{contacts, verification};

/// Longest text, in bytes (the payload format's limit).
const MAX_TEXT_LEN: usize = 64 * 1024;

/// Sends a text to a conversation; a 1:1 that does not exist yet is started.
pub(crate) async fn send_text(
    ctx: &mut Ctx<'_>,
    to: &ConversationId,
    text: &str,
) -> Result<Message, ClientError> {
    check_text(text)?;
    let conv = match to {
        ConversationId::Direct(peer) => direct_to_send_in(ctx, peer).await?,
        ConversationId::Group(_) => ctx.require_conversation(to)?,
    };
    check_can_send(ctx, &conv)?;
    send_body(ctx, conv, StoredBody::Text(text.to_owned())).await
}

/// Sends `body` (a text or a document) in `conv`, checked by [`check_can_send`].
pub(crate) async fn send_body(
    ctx: &mut Ctx<'_>,
    conv: Conversation,
    body: StoredBody,
) -> Result<Message, ClientError> {
    if conv.kind == StoredKind::Direct {
        return match send_in(ctx, conv.clone(), body).await {
            // The relay answers a group it does not know as it answers a wrong key (so that
            // nobody learns which groups exist): either way it no longer takes this 1:1.
            Err(ClientError::Relay(RelayError::NotFound | RelayError::PermissionDenied)) => {
                Err(explain_lost_direct(ctx, &conv).await)
            }
            other => other,
        };
    }
    send_in(ctx, conv, body).await
}

/// The application payload that carries `body`.
fn payload_of(body: &StoredBody, sent_at_ms: u64) -> Result<Vec<u8>, ClientError> {
    let payload = match body {
        StoredBody::Text(text) => Payload::Text {
            sent_at_ms,
            text: text.clone(),
        },
        StoredBody::Document(document) => Payload::Document {
            sent_at_ms,
            reference: document.reference(),
        },
        StoredBody::TextVersion {
            number,
            previous,
            text,
        } => Payload::TextVersion {
            sent_at_ms,
            number: *number,
            previous: *previous,
            text: text.clone(),
        },
        StoredBody::TextComment {
            version,
            para,
            text,
        } => Payload::TextComment {
            sent_at_ms,
            version: *version,
            para: *para,
            text: text.clone(),
        },
        StoredBody::RecordExported => Payload::RecordExported { sent_at_ms },
        StoredBody::TextVersionDocument {
            number,
            previous,
            document,
        } => Payload::TextVersionDocument {
            sent_at_ms,
            number: *number,
            previous: *previous,
            reference: document.reference(),
        },
        _ => return Err(ClientError::EmptyMessage),
    };
    Ok(payload.encode().map_err(CryptoError::from)?)
}

/// Refuses an empty text and one over the payload format's limit.
pub(crate) fn check_text(text: &str) -> Result<(), ClientError> {
    if text.trim().is_empty() {
        return Err(ClientError::EmptyMessage);
    }
    if text.len() > MAX_TEXT_LEN {
        return Err(ClientError::MessageTooLong);
    }
    Ok(())
}

/// Refuses a conversation we cannot write in (left, retired) or whose members include a key
/// that is not the trusted one; decided from the store alone.
pub(crate) fn check_can_send(ctx: &Ctx<'_>, conv: &Conversation) -> Result<(), ClientError> {
    if !conv.active {
        return Err(ctx.not_a_member());
    }
    if conv.retired {
        return Err(ClientError::Retired(ctx.display_name(conv)?));
    }
    crate::workshop::vetting::may_speak(ctx, &conv.group_id)?;
    verification::require_trusted_members(ctx, conv)
}

/// The live 1:1 with `peer`, started now if there is none.
pub(crate) async fn direct_to_send_in(
    ctx: &mut Ctx<'_>,
    peer: &Handle,
) -> Result<Conversation, ClientError> {
    if let Some(conv) = ctx.direct_with(peer)? {
        return Ok(conv);
    }
    if *peer == ctx.session.handle {
        return Err(ClientError::CannotMessageSelf);
    }
    // A crash may have left this 1:1 half-made (its commit accepted, the conversation not yet
    // saved): settle that before starting a second one.
    group_log::settle_pending_commits(ctx).await?;
    match ctx.direct_with(peer)? {
        Some(conv) => Ok(conv),
        None => membership::start_direct(ctx, peer).await,
    }
}

/// A relay that no longer knows a 1:1 may have been replaced along with its directory:
/// the peer's key is looked up again, and a changed key is the failure that matters.
async fn explain_lost_direct(ctx: &mut Ctx<'_>, conv: &Conversation) -> ClientError {
    let members = ctx.session.mls.members(&conv.group_id).unwrap_or_default();
    let us = ctx.session.handle.clone();
    for member in members.iter().filter(|m| m.handle != us) {
        if let Err(changed @ ClientError::KeyChanged(_)) =
            contacts::refresh_contact(ctx, &member.handle).await
        {
            return changed;
        }
    }
    ClientError::Relay(RelayError::NotFound)
}

/// Encrypts and posts `body` in `conv`, retrying after an epoch conflict.
pub(crate) async fn send_in(
    ctx: &mut Ctx<'_>,
    conv: Conversation,
    body: StoredBody,
) -> Result<Message, ClientError> {
    let gid = conv.group_id;
    let sent_at_ms = ctx.now_ms();
    let payload = payload_of(&body, sent_at_ms)?;
    // The mark of a post carries the unrecorded message: if we die (or lose the answer)
    // after the post, the read that finds the entry in the log records it (see
    // `skip_seen_entry`).
    let own = ctx.session.handle.clone();
    let unrecorded = HistoryEntry {
        stored_at_ms: 0,
        sender: crate::workshop::attribution::stored_sender(ctx, &gid, &own)?,
        sent_at_ms,
        body,
    };
    for attempt in 0..MAX_TRIES {
        // The first try posts without reading the log first, unless a commit of ours is
        // still pending (the read settles it): the relay takes a post only at its current
        // epoch, so a commit we have not read yet costs a refused post and a read, and what
        // others posted in this epoch meanwhile is read right after ours went in, before
        // ours is recorded, so the history keeps the log's order.
        if attempt > 0 || pending::has_pending_commit(ctx, &gid)? {
            group_log::sync_group_as_member(ctx, &gid).await?;
            // What the read brought (a removal, a new role) may forbid this message now.
            let current = ctx.conversation_of(&gid)?.unwrap_or_else(|| conv.clone());
            check_can_send(ctx, &current)?;
        }
        let epoch = ctx.session.mls.epoch(&gid)?;
        let access = ctx.session.mls.access_key(&gid)?;
        let frame = match ctx.session.mls.encrypt(&gid, &payload) {
            Ok(frame) => frame,
            Err(e) => {
                ctx.session.mls.discard_changes();
                return Err(e.into());
            }
        };
        let hash: [u8; 32] = Sha256::digest(&frame).into();
        // The ratchet step is saved before posting so a crash can never reuse it, and the
        // hash marks the entry as ours so a later read does not try to decrypt it.
        let mut batch = StoreBatch::default();
        ctx.stage_mls(&mut batch);
        batch.put(Key::Seen(&hash), &unrecorded)?;
        ctx.store.apply(batch).await?;
        crate::state::failpoint::hit("send.after_persist");

        let now = ctx.now_ms();
        let relay = ctx.group_relay(&gid).await?;
        match relay.post(&gid, epoch, &access, &frame, now).await {
            Ok(seq) => {
                crate::state::failpoint::hit("send.after_post");
                // Whatever others posted ahead of ours is processed (and recorded) first.
                if let Err(e) =
                    group_log::catch_up_to(ctx, &gid, seq, group_log::Ours::Message).await
                {
                    // Ours went in: a failed read must not make it look unsent (it would be
                    // sent again). What came before it is recorded after it when next read,
                    // except before a version of the text, whose place depends on it.
                    if unrecorded.body.text_version_number().is_some()
                        || matches!(e, ClientError::Store(_))
                    {
                        return Err(e);
                    }
                    tracing::warn!(kind = %e.kind(), "sent; what came before it was not read");
                }
                if let Some(number) = unrecorded.body.text_version_number() {
                    // Another facilitator's version may have gone into the log just ahead of
                    // ours: the room takes whichever came first, and so must we.
                    if !crate::workshop::vetting::fits_chain(ctx, &gid, &unrecorded.body)? {
                        let mut batch = StoreBatch::default();
                        batch.mark_seen(&hash);
                        ctx.store.apply(batch).await?;
                        return Err(WorkshopError::TextConflict(number).into());
                    }
                }
                let conv = ctx.conversation_of(&gid)?.unwrap_or(conv);
                let mut batch = StoreBatch::default();
                let message = ctx.stage_history_as(&mut batch, &conv, unrecorded, true)?;
                // The read position stays before our entry: the next read fetches it back
                // and checks it is ours (a relay that put another branch's entry in its
                // place is noticed there, see `is_fork_sign`).
                batch.mark_seen(&hash);
                // Not waited for: the mark saved before the post already holds this entry,
                // and a crash that loses the record has the next read record it from the
                // log (`skip_seen_entry`), as after a crash right after the post.
                ctx.store.apply_unflushed(batch)?;
                crate::state::failpoint::hit("send.after_record");
                return Ok(message);
            }
            Err(RelayError::EpochConflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ClientError::Busy(ctx.display_name(&conv)?))
}
