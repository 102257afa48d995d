//! Enforcing each conversation's agreed retention on this device: expired history entries
//! (and the document keys they hold) are deleted, the secrets of MLS epochs whose messages
//! have all expired are dropped, and the relay is told the retention so that it drops the
//! group's ciphertext too.
//!
//! An entry expires `retention` after the earlier of when its sender says it was sent and
//! when it was stored here: a sender's clock set ahead cannot keep a message longer, and
//! one set behind only shortens the life of that sender's own message.

use parley_crypto::document::{BlobId, DocumentKey};
use parley_crypto::mls::GroupId;
use parley_crypto::retention::Retention;

use crate::api::error::{ClientError, RelayError};
use crate::api::event::Event;
use crate::state::store::records::{
    Conversation, HistoryEntry, RetentionState, StoredDocument, UnreadMark,
};
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

/// Deletes what expired in every conversation and drops the epoch secrets that could read
/// it. Needs no relay: it runs first in every sync, online or not.
pub(crate) async fn expire(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    for conv in ctx.conversations()? {
        let Some(cutoff_ms) = cutoff_ms(ctx, &conv.group_id) else {
            continue;
        };
        expire_history(ctx, &conv, cutoff_ms).await?;
        if conv.active {
            forget_expired_epochs(ctx, &conv.group_id, cutoff_ms).await?;
        }
    }
    Ok(())
}

/// Whether a message sent at `sent_at_ms` (its sender's clock) is past the group's
/// retention already as it arrives.
pub(crate) fn expired_on_arrival(ctx: &Ctx<'_>, gid: &GroupId, sent_at_ms: u64) -> bool {
    cutoff_ms(ctx, gid).is_some_and(|cutoff| sent_at_ms < cutoff)
}

/// What was sent before this time (ms) has expired in the group, if it has a retention.
fn cutoff_ms(ctx: &Ctx<'_>, gid: &GroupId) -> Option<u64> {
    let keep = ctx
        .session
        .mls
        .retention(gid)
        .unwrap_or_default()
        .duration()?;
    let keep_ms = u64::try_from(keep.as_millis()).unwrap_or(u64::MAX);
    Some(ctx.now_ms().saturating_sub(keep_ms))
}

/// Tells the relay every active conversation's retention it was not told yet; a relay that
/// cannot be reached is asked again at the next sync.
pub(crate) async fn tell_relay_all(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    for conv in ctx.conversations()? {
        if conv.active && !conv.retired {
            tell_relay(ctx, &conv.group_id).await?;
        }
    }
    Ok(())
}

/// Tells the relay the group's retention if it was not told this one yet, with the current
/// epoch's access key. A transient failure (or a group that moved on meanwhile) leaves it to
/// the next sync.
pub(crate) async fn tell_relay(ctx: &mut Ctx<'_>, gid: &GroupId) -> Result<(), ClientError> {
    let retention = ctx.session.mls.retention(gid).unwrap_or(Retention::Off);
    let mut state = state_of(ctx, gid)?;
    if state.told_relay_secs == retention.as_secs() {
        return Ok(());
    }
    let (epoch, access) = match (ctx.session.mls.epoch(gid), ctx.session.mls.access_key(gid)) {
        (Ok(epoch), Ok(access)) => (epoch, access),
        // Not a member any more: the relay is no business of ours.
        _ => return Ok(()),
    };
    let now = ctx.now_ms();
    let told = match ctx.group_relay(gid).await {
        Ok(relay) => {
            relay
                .set_retention(gid, epoch, &access, retention.as_secs(), now)
                .await
        }
        Err(e) if e.is_transient() => return Ok(()),
        Err(e) => return Err(e),
    };
    match told {
        Ok(()) => {
            if !shorten_documents(ctx, gid, retention).await? {
                return Ok(());
            }
            state.told_relay_secs = retention.as_secs();
            save(ctx, gid, &state).await
        }
        Err(RelayError::EpochConflict) => Ok(()),
        Err(e) => {
            tracing::debug!(error = %e, "the relay is told the retention at the next sync");
            Ok(())
        }
    }
}

/// Asks the relay to delete the blob of every document the conversation still holds once
/// `retention` has passed since its upload: those uploaded under a longer retention (or
/// none) would outlive it otherwise. Over one connection of its own, which the relay can link
/// to the group only by timing. Returns false if the relay could not be reached (asked again
/// at the next sync); a blob already gone is fine.
async fn shorten_documents(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    retention: Retention,
) -> Result<bool, ClientError> {
    if retention == Retention::Off {
        return Ok(true);
    }
    let entries: Vec<(u64, HistoryEntry)> = ctx.store.scan_positioned(Prefix::History(gid))?;
    let documents: Vec<&StoredDocument> = entries
        .iter()
        .filter_map(|(_, entry)| entry.body.document())
        .collect();
    if documents.is_empty() {
        return Ok(true);
    }
    let relay = match ctx.one_off_relay().await {
        Ok(relay) => relay,
        Err(e) if e.is_transient() => return Ok(false),
        Err(e) => return Err(e),
    };
    for document in documents {
        let blob_id = BlobId::from_bytes(document.blob_id);
        let read = DocumentKey::from_bytes(document.key).read_capability(&blob_id);
        match relay
            .shorten_blob(&document.blob_id, read.as_bytes(), retention.as_secs())
            .await
        {
            Ok(_) => {}
            Err(RelayError::Unreachable(_)) => return Ok(false),
            Err(e) => tracing::debug!(error = %e, "the relay did not shorten a document's blob"),
        }
    }
    Ok(true)
}

/// Deletes the entries of `conv` that expired before `cutoff_ms`, their document records
/// and their unread marks, in one batch.
async fn expire_history(
    ctx: &mut Ctx<'_>,
    conv: &Conversation,
    cutoff_ms: u64,
) -> Result<(), ClientError> {
    let gid = conv.group_id;
    let entries: Vec<(u64, HistoryEntry)> = ctx.store.scan_positioned(Prefix::History(&gid))?;
    let mut batch = StoreBatch::default();
    let mut expired = Vec::new();
    for (index, entry) in &entries {
        let stored = Some(entry.stored_at_ms).filter(|&t| t > 0);
        let born = stored.map_or(entry.sent_at_ms, |s| s.min(entry.sent_at_ms));
        if born >= cutoff_ms {
            continue;
        }
        batch.remove(Key::History(&gid, *index));
        if let Some(document) = entry.body.document() {
            batch.remove(Key::Document(&document.blob_id));
        }
        expired.push(*index);
    }
    let Some(&last) = expired.iter().max() else {
        return Ok(());
    };
    let marks: Vec<(u64, UnreadMark)> = ctx.store.scan_positioned(Prefix::Unread)?;
    for (position, mark) in marks {
        if mark.group_id == gid && expired.contains(&mark.index) {
            batch.remove(Key::Unread(position));
        }
    }
    // The ids of deleted entries are never given again.
    let mut state = state_of(ctx, &gid)?;
    state.next_history_index = state.next_history_index.max(last.saturating_add(1));
    batch.put(Key::Retention(&gid), &state)?;
    ctx.store.apply(batch).await?;
    ctx.store.note_deletions();
    // What this sync fetched and expiry deleted at once is not reported either.
    ctx.events.retain(|event| match event {
        Event::Message(message) => {
            message.id.group_id().to_bytes() != gid || !expired.contains(&message.id.index())
        }
        _ => true,
    });
    Ok(())
}

/// Drops the secrets of the group's past epochs once everything sent in them has expired:
/// when the current epoch began (as first seen here) before `cutoff_ms`. The current epoch's
/// secrets stay; OpenMLS deletes each message key once it decrypted that message.
async fn forget_expired_epochs(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    cutoff_ms: u64,
) -> Result<(), ClientError> {
    let epoch = ctx.session.mls.epoch(gid)?;
    let mut state = state_of(ctx, gid)?;
    if state.epoch != epoch || state.epoch_seen_ms == 0 {
        state.epoch = epoch;
        state.epoch_seen_ms = ctx.now_ms();
        state.past_forgotten = false;
        return save(ctx, gid, &state).await;
    }
    if state.past_forgotten || state.epoch_seen_ms >= cutoff_ms {
        return Ok(());
    }
    if let Err(e) = ctx.session.mls.forget_past_epochs(gid) {
        ctx.session.mls.discard_changes();
        return Err(e.into());
    }
    state.past_forgotten = true;
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.put(Key::Retention(gid), &state)?;
    ctx.store.apply(batch).await?;
    ctx.store.note_deletions();
    Ok(())
}

fn state_of(ctx: &Ctx<'_>, gid: &GroupId) -> Result<RetentionState, ClientError> {
    Ok(ctx.store.get(Key::Retention(gid))?.unwrap_or_default())
}

async fn save(ctx: &Ctx<'_>, gid: &GroupId, state: &RetentionState) -> Result<(), ClientError> {
    let mut batch = StoreBatch::default();
    batch.put(Key::Retention(gid), state)?;
    ctx.store.apply(batch).await?;
    Ok(())
}
