//! What spans the layers: one full sync, and what follows a decision about a key. Used by
//! the public front and by the event stream.

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;

use crate::api::alert::Alert;
use crate::api::error::{ClientError, RelayError};
use crate::api::event::Event;
use crate::receive::{group_log, inbox};
use crate::send::membership;
use crate::state::relay::Entry;
use crate::state::{Ctx, Shared};

/// A full sync's events and the active groups at our epochs after it (what the event stream
/// subscribes to).
pub(crate) async fn sync_events(
    shared: &Shared,
) -> Result<(Vec<Event>, Vec<(GroupId, u64)>), ClientError> {
    let mut state = shared.state.lock().await;
    let mut ctx = state.ctx(&shared.store, &shared.clock)?;
    sync_all(&mut ctx).await?;
    hand_out(&mut ctx).await
}

/// The events a sync gathered and the active groups at our epochs, once everything the sync
/// wrote is on disk: nothing is reported before it is.
async fn hand_out(ctx: &mut Ctx<'_>) -> Result<(Vec<Event>, Vec<(GroupId, u64)>), ClientError> {
    let groups = ctx.active_groups()?;
    ctx.store.settle().await?;
    Ok((std::mem::take(ctx.events), groups))
}

/// A sync of `groups` alone, for pushes that named only them: local expiry, unfinished
/// commits, then each group's pushed entries or one read of its log, where a full sync
/// would also fetch the inbox, read every other group and count our KeyPackages at the
/// relay (five calls, two of them signed challenges, for one message). Anything but new
/// written messages (a membership change, an alert) is followed by a full sync, which does
/// what such changes call for.
pub(crate) async fn sync_group_events(
    shared: &Shared,
    groups: &[(GroupId, Vec<Entry>)],
) -> Result<(Vec<Event>, Vec<(GroupId, u64)>), ClientError> {
    let mut state = shared.state.lock().await;
    let mut ctx = state.ctx(&shared.store, &shared.clock)?;
    crate::retention::expire(&mut ctx).await?;
    group_log::settle_pending_commits(&mut ctx).await?;
    let active: Vec<GroupId> = ctx
        .conversations()?
        .into_iter()
        .filter(|conv| conv.active)
        .map(|conv| conv.group_id)
        .collect();
    for (group, pushed) in groups.iter().filter(|(group, _)| active.contains(group)) {
        group_log::sync_pushed_or_log(&mut ctx, group, pushed).await?;
    }
    let only_messages = ctx
        .events
        .iter()
        .all(|event| matches!(event, Event::Message(message) if !message.body.is_membership()));
    if only_messages {
        // New messages, or nothing (our own pushed back to us): what was written is what the
        // relay still holds (MLS state, history, read position and seen marks of entries it
        // keeps), so the messages are shown before the disk has them; it does within half a
        // second (sled's own flush), or with the next write that waits. A crash in between
        // rolls all of it back together and the next sync reads those entries again: the
        // messages are shown again, once in history, and the conversation goes on. Waiting
        // here was one flush per message received, about half a member's work per message.
        return Ok((std::mem::take(ctx.events), ctx.active_groups()?));
    }
    sync_all(&mut ctx).await?;
    hand_out(&mut ctx).await
}

/// One full sync: expiry, unfinished commits, the inbox, held deliveries the user decided
/// about, every active group, retired 1:1s to close, members who asked to leave, retentions the relay was not told,
/// expiry again (what a commit just changed), a key rotation to finish, the KeyPackage top-up.
pub(crate) async fn sync_all(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    // First, and without the relay: what expired goes even when the relay cannot be reached.
    crate::retention::expire(ctx).await?;
    group_log::settle_pending_commits(ctx).await?;
    match inbox::sync_inbox(ctx).await {
        // The relay no longer takes our key for our handle (it was released and someone
        // registered it again): our conversations still work, only the inbox is lost.
        Err(ClientError::Relay(RelayError::PermissionDenied)) => {
            let handle = ctx.session.handle.clone();
            ctx.alert_once(Alert::HandleReleased { handle }).await;
        }
        other => other?,
    }
    inbox::release_decided(ctx).await?;
    for conv in ctx.conversations()? {
        if conv.active {
            group_log::sync_group_or_log(ctx, &conv.group_id).await?;
        }
    }
    membership::close_retired_directs(ctx).await?;
    crate::send::leave::remove_leavers(ctx).await?;
    crate::retention::tell_relay_all(ctx).await?;
    crate::retention::expire(ctx).await?;
    crate::rotation::continue_rotation(ctx).await?;
    match crate::keypackages::top_up_key_packages(ctx).await {
        // Our handle was released (see above): nobody can be given our KeyPackages.
        Err(ClientError::Relay(RelayError::PermissionDenied)) => Ok(()),
        other => other,
    }
}

/// After a key was adopted: close the 1:1s that hold the old one and process what the new
/// one sent meanwhile. An unreachable relay leaves both to the next sync.
pub(crate) async fn after_key_adopted(
    ctx: &mut Ctx<'_>,
    peer: &Handle,
    adopted: bool,
) -> Result<(), ClientError> {
    if !adopted {
        return Ok(());
    }
    membership::close_retired_directs(ctx).await?;
    match inbox::release_held(ctx, peer).await {
        Err(e) if e.is_transient() => {
            tracing::debug!(error = %e, "held deliveries wait for the next sync");
            Ok(())
        }
        other => other,
    }
}
