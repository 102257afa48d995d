//! The outbox: a message that cannot be sent because the relay is unreachable is kept in
//! the store (sealed like every record) and sent, in the order written, by the next flush.
//!
//! Texts are kept, not ciphertexts: a message is encrypted when it is really sent, in the
//! conversation's epoch of that moment, so a membership change while it waited cannot give
//! it to someone removed meanwhile. A flush that finds the relay unreachable stops at once,
//! so nothing overtakes an older message. A message that fails for another reason (a key
//! changed, the conversation was closed) is kept with the reason and not retried: resending
//! it is the user's decision.

use parley_crypto::handle::Handle;

use crate::api::conversation::{ConversationId, GroupId};
use crate::api::error::{ClientError, StoreError};
use crate::api::outbox::{OutboxReport, QueuedMessage, SendOutcome};
use crate::send::message::{self, check_can_send, check_text};
use crate::state::store::records::QueuedRecord;
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

/// Sends `text` now, or queues it if the relay cannot be reached; older queued messages go
/// first, so the order written is the order sent.
pub(crate) async fn send_or_queue(
    ctx: &mut Ctx<'_>,
    to: &ConversationId,
    text: &str,
) -> Result<SendOutcome, ClientError> {
    check_text(text)?;
    check_queueable(ctx, to)?;
    let report = flush(ctx).await?;
    if report.waiting > 0 {
        return Ok(SendOutcome::Queued(queue(ctx, to, text).await?));
    }
    match message::send_text(ctx, to, text).await {
        Ok(sent) => Ok(SendOutcome::Sent(sent)),
        Err(ClientError::RelayUnreachable(_)) => {
            Ok(SendOutcome::Queued(queue(ctx, to, text).await?))
        }
        Err(other) => Err(other),
    }
}

/// Sends every waiting message in order, stopping at the first the relay cannot take.
pub(crate) async fn flush(ctx: &mut Ctx<'_>) -> Result<OutboxReport, ClientError> {
    let mut report = OutboxReport::default();
    let waiting: Vec<(u64, QueuedRecord)> = records(ctx)?
        .into_iter()
        .filter(|(_, record)| record.failed.is_none())
        .collect();
    let total = waiting.len();
    for (done, (position, record)) in waiting.into_iter().enumerate() {
        let to = target(&record)?;
        match message::send_text(ctx, &to, &record.text).await {
            Ok(sent) => {
                remove(ctx, position).await?;
                report.sent.push(sent);
            }
            Err(ClientError::RelayUnreachable(_)) => {
                report.waiting = total - done;
                break;
            }
            Err(error) => {
                let failed = QueuedRecord {
                    failed: Some(error.to_string()),
                    ..record
                };
                let mut batch = StoreBatch::default();
                batch.put(Key::Outbox(position), &failed)?;
                ctx.store.apply(batch).await?;
                report.failed.push(view(ctx, position, &failed)?);
            }
        }
    }
    Ok(report)
}

/// Every message in the outbox, oldest first, failed ones included.
pub(crate) fn list(ctx: &Ctx<'_>) -> Result<Vec<QueuedMessage>, ClientError> {
    records(ctx)?
        .iter()
        .map(|(position, record)| view(ctx, *position, record))
        .collect()
}

/// Removes a message from the outbox; false if there was none with this id.
pub(crate) async fn cancel(ctx: &mut Ctx<'_>, id: u64) -> Result<bool, ClientError> {
    if !ctx.store.contains(Key::Outbox(id))? {
        return Ok(false);
    }
    remove(ctx, id).await?;
    Ok(true)
}

/// Refuses, before anything is kept, what could never be sent: a group we cannot write in,
/// or ourselves. (A person with no 1:1 yet is looked up when the message is sent.)
fn check_queueable(ctx: &Ctx<'_>, to: &ConversationId) -> Result<(), ClientError> {
    match to {
        ConversationId::Direct(peer) if *peer == ctx.session.handle => {
            Err(ClientError::CannotMessageSelf)
        }
        ConversationId::Direct(peer) => match ctx.direct_with(peer)? {
            Some(conv) => check_can_send(ctx, &conv),
            None => Ok(()),
        },
        ConversationId::Group(_) => check_can_send(ctx, &ctx.require_conversation(to)?),
    }
}

async fn queue(
    ctx: &mut Ctx<'_>,
    to: &ConversationId,
    text: &str,
) -> Result<QueuedMessage, ClientError> {
    let (peer, group_id) = match to {
        ConversationId::Direct(peer) => (Some(peer.to_string()), None),
        ConversationId::Group(gid) => (None, Some(gid.to_string())),
    };
    let record = QueuedRecord {
        peer,
        group_id,
        text: text.to_owned(),
        queued_at_ms: ctx.now_ms(),
        failed: None,
    };
    let position = ctx.store.next_index(Prefix::Outbox)?;
    let mut batch = StoreBatch::default();
    batch.put(Key::Outbox(position), &record)?;
    ctx.store.apply(batch).await?;
    view(ctx, position, &record)
}

fn records(ctx: &Ctx<'_>) -> Result<Vec<(u64, QueuedRecord)>, StoreError> {
    ctx.store.scan_positioned(Prefix::Outbox)
}

async fn remove(ctx: &Ctx<'_>, position: u64) -> Result<(), ClientError> {
    let mut batch = StoreBatch::default();
    batch.remove(Key::Outbox(position));
    ctx.store.apply(batch).await?;
    Ok(())
}

/// Where a kept message goes.
fn target(record: &QueuedRecord) -> Result<ConversationId, StoreError> {
    let corrupt = || StoreError::Corrupt("outbox record");
    match (&record.peer, &record.group_id) {
        (Some(peer), None) => Handle::parse(peer)
            .map(ConversationId::Direct)
            .map_err(|_| corrupt()),
        (None, Some(gid)) => gid
            .parse::<GroupId>()
            .map(ConversationId::Group)
            .map_err(|_| corrupt()),
        _ => Err(corrupt()),
    }
}

fn view(ctx: &Ctx<'_>, id: u64, record: &QueuedRecord) -> Result<QueuedMessage, ClientError> {
    let conversation = target(record)?;
    let conversation_name = match &conversation {
        ConversationId::Direct(peer) => peer.to_string(),
        ConversationId::Group(_) => {
            let conv = ctx.require_conversation(&conversation)?;
            ctx.display_name(&conv)?
        }
    };
    Ok(QueuedMessage {
        id,
        conversation,
        conversation_name,
        text: record.text.clone(),
        queued_at_ms: record.queued_at_ms,
        failed: record.failed.clone(),
    })
}
