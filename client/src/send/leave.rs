//! Leaving a group, and acting on others' requests to leave. A member cannot commit its own
//! removal (RFC 9420), so it posts a proposal removing itself and stops reading the group; an
//! admin's client, reading the request, removes it by a commit of its own (any admin's: the
//! first one's commit wins, the others find the member gone). Requests are kept until a
//! commit removes the member, so an admin who is offline, or promoted later, still acts.

use parley_crypto::handle::Handle;

use crate::api::conversation::ConversationId;
use crate::api::error::{ClientError, RelayError};
use crate::api::event::Event;
use crate::receive::group_log;
use crate::send::membership::{self, require_group, MAX_TRIES};
use crate::state::store::records::{Conversation, HistoryEntry, StoredBody, StoredKind};
use crate::state::store::StoreBatch;
use crate::state::Ctx;

/// Leaves a group: asks its admins to remove us, then stops reading it. The only admin of a
/// group with others in it must make another member an admin first.
pub(crate) async fn leave_group(
    ctx: &mut Ctx<'_>,
    group: &ConversationId,
) -> Result<(), ClientError> {
    let conv = require_group(ctx, group)?;
    let gid = conv.group_id;
    group_log::sync_group(ctx, &gid).await?;
    let me = ctx.session.handle.clone();
    let members = ctx.session.mls.members(&gid)?;
    if members.len() > 1 {
        if let Some(admins) = ctx.session.mls.admins(&gid)? {
            if admins == [me.clone()] {
                return Err(ClientError::LastAdmin(ctx.display_name(&conv)?));
            }
        }
        post_leave_request(ctx, &conv).await?;
    }
    let conv = ctx.conversation_of(&gid)?.unwrap_or(conv);
    let left = Conversation {
        active: false,
        ..conv.clone()
    };
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    ctx.stage_conversation(&mut batch, &left)?;
    let message = ctx.stage_history(
        &mut batch,
        &left,
        HistoryEntry {
            stored_at_ms: 0,
            sender: me.to_string(),
            sent_at_ms: ctx.now_ms(),
            body: StoredBody::Membership {
                added: Vec::new(),
                removed: vec![me.to_string()],
            },
        },
    )?;
    ctx.store.apply(batch).await?;
    ctx.events.push(Event::Message(message));
    ctx.events.push(Event::MembershipChanged {
        conversation: left.id(),
    });
    Ok(())
}

/// Posts our request to be removed in the group's current epoch, retrying when a commit
/// moves it first (a request is good for its epoch only).
async fn post_leave_request(ctx: &mut Ctx<'_>, conv: &Conversation) -> Result<(), ClientError> {
    let gid = conv.group_id;
    for _ in 0..MAX_TRIES {
        group_log::sync_group(ctx, &gid).await?;
        if !ctx.session.mls.is_active(&gid).unwrap_or(false) {
            // Removed meanwhile: nothing left to ask.
            return Ok(());
        }
        let epoch = ctx.session.mls.epoch(&gid)?;
        let access = ctx.session.mls.access_key(&gid)?;
        let frame = match ctx.session.mls.leave(&gid) {
            Ok(frame) => frame,
            Err(e) => {
                ctx.session.mls.discard_changes();
                return Err(e.into());
            }
        };
        let now = ctx.now_ms();
        let relay = ctx.group_relay(&gid).await?;
        match relay.post(&gid, epoch, &access, &frame, now).await {
            Ok(_) => return Ok(()),
            Err(RelayError::EpochConflict) => ctx.session.mls.discard_changes(),
            Err(e) => {
                ctx.session.mls.discard_changes();
                return Err(e.into());
            }
        }
    }
    Err(ClientError::Busy(ctx.display_name(conv)?))
}

/// Removes, in every group we are an admin of, the members who asked to leave and are still
/// in it; forgets requests no longer needed. An unreachable relay leaves them for the next
/// sync.
pub(crate) async fn remove_leavers(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    for conv in ctx.conversations()? {
        let gid = conv.group_id;
        let requests = ctx.leave_requests(&gid)?;
        if requests.is_empty() {
            continue;
        }
        // A 1:1 is closed, not left: a request there (which no Parley sends) is dropped.
        let members = if conv.active && conv.kind == StoredKind::Group {
            ctx.session.mls.members(&gid)?
        } else {
            Vec::new()
        };
        let still: Vec<Handle> = members
            .iter()
            .map(|m| m.handle.clone())
            .filter(|h| requests.iter().any(|r| r == h.as_str()))
            .collect();
        if still.is_empty() {
            let mut batch = StoreBatch::default();
            ctx.stage_forget_leave_requests(&mut batch, &gid, None)?;
            ctx.store.apply(batch).await?;
            continue;
        }
        let admin = match ctx.session.mls.admins(&gid)? {
            Some(admins) => admins.contains(&ctx.session.handle),
            None => true,
        };
        if !admin {
            continue;
        }
        for member in still {
            match membership::remove_member(ctx, &conv.id(), &member).await {
                Ok(()) | Err(ClientError::NotAMember(_)) => {}
                Err(e) if e.is_transient() => {
                    tracing::debug!(error = %e, "removing a member who left waits for the relay");
                    return Ok(());
                }
                Err(e) => tracing::warn!(error = %e, "could not remove a member who left"),
            }
        }
    }
    Ok(())
}
