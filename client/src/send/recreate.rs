//! Starting a group again: when a room cannot go on (a member sent a change nobody can
//! process, or someone must go who would race their own removal), a member makes a fresh
//! group with the same members, less those named, each checked against the pins as any new
//! group's members are, and tells the new room what it replaces. The old room keeps its
//! history under a name of its own.

use parley_crypto::handle::Handle;

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
use crate::api::workshop_error::WorkshopError;
use crate::send::{membership, message};
use crate::state::store::StoreBatch;
use crate::state::Ctx;

/// Creates a group with the members of `group` (as our MLS state knows them) less us and
/// `without`, under the same title; returns the new group's id.
pub(crate) async fn recreate_group(
    ctx: &mut Ctx<'_>,
    group: &ConversationId,
    without: &[Handle],
) -> Result<ConversationId, ClientError> {
    let old = membership::require_group(ctx, group)?;
    // A workshop's room started again as a plain group would lose its roster and its rules.
    if ctx.session.mls.workshop(&old.group_id)?.is_some() {
        return Err(WorkshopError::NotRecreatable(ctx.display_name(&old)?).into());
    }
    let members: Vec<Handle> = ctx
        .session
        .mls
        .members(&old.group_id)?
        .into_iter()
        .map(|member| member.handle)
        .collect();
    if let Some(stranger) = without.iter().find(|h| !members.contains(h)) {
        return Err(ClientError::NotAMember(stranger.clone()));
    }
    let keep: Vec<Handle> = members
        .into_iter()
        .filter(|m| *m != ctx.session.handle && !without.contains(m))
        .collect();
    let old_name = ctx.display_name(&old)?;
    let ours = old.named_by == ctx.session.handle.as_str();
    // Our own room hands its name over to the new one; someone else's keeps theirs
    // (`inviter/title`), and the new one, ours now, is named by its title.
    let name = if ours {
        ctx.names()?.unique(&format!("{} (new)", old.title))
    } else {
        ctx.names()?.unique(&old.title)
    };
    // The new room keeps what its members agreed on: how long messages live.
    let retention = ctx.session.mls.retention(&old.group_id).unwrap_or_default();
    let id = membership::create_named(ctx, &old.title, &name, &keep, retention).await?;
    if ours {
        let mut names = StoreBatch::default();
        let retired_name = ctx.names()?.unique(&format!("{} (old)", old.title));
        let mut renamed_old = old.clone();
        renamed_old.title = retired_name.clone();
        renamed_old.name = retired_name;
        ctx.stage_conversation(&mut names, &renamed_old)?;
        let mut new = ctx.require_conversation(&id)?;
        new.name = old.name.clone();
        ctx.stage_conversation(&mut names, &new)?;
        ctx.store.apply(names).await?;
    }
    let left_out = if without.is_empty() {
        String::new()
    } else {
        let handles: Vec<&str> = without.iter().map(Handle::as_str).collect();
        format!(", without {}", handles.join(", "))
    };
    let announcement = format!(
        "{} started this group again to replace \"{}\", which could not go on{left_out}.",
        ctx.session.handle, old.title
    );
    message::send_text(ctx, &id, &announcement).await?;
    tracing::debug!(old = %old_name, "group recreated");
    Ok(id)
}
