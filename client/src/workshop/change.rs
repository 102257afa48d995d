//! Changing a workshop (facilitators only): a new roster or policy goes to every room in a
//! commit of its own, which also adds and removes whoever the new roster puts in or takes
//! out of that room. The plenary goes last, so that a change cut short (an unreachable relay)
//! leaves the plenary, which is what everyone reads the workshop from, as it was: making the
//! same change again finishes it. A change already in the roster brings every room in line
//! with it (adding whoever a room is missing).

use parley_crypto::handle::Handle;
use parley_crypto::workshop::{Role, Room, WorkshopSpec};

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
use crate::api::workshop::RosterEdit;
use crate::api::workshop_error::WorkshopError;
use crate::receive::group_log;
use crate::send::membership::{self, Change};
use crate::state::Ctx;
use crate::workshop::locate::{member_handles, plenary_of, require_facilitator};

/// Makes `edit` to the workshop `id` is a room of.
pub(crate) async fn change_workshop(
    ctx: &mut Ctx<'_>,
    id: &ConversationId,
    edit: &RosterEdit,
) -> Result<(), ClientError> {
    // We may have been made a facilitator, or the roster changed, since the last sync.
    let (plenary, _) = plenary_of(ctx, id)?;
    group_log::sync_group(ctx, &plenary.group_id).await?;
    let (plenary, spec) = plenary_of(ctx, id)?;
    require_facilitator(ctx, &plenary, &spec)?;
    let new = edited(&spec, edit, &ctx.session.handle)?;
    let announced: Vec<String> = new
        .changes_since(&spec)
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut rooms = new.rooms();
    // Stable: the plenary (first in a spec's order) moves to the end.
    rooms.sort_by_key(|(room, _)| *room == Room::Plenary);
    for (room, gid) in rooms {
        let missing = || WorkshopError::MissingRoom(room.to_string());
        let conv = ctx
            .conversation_of(&gid)?
            .filter(|c| c.active)
            .ok_or_else(missing)?;
        group_log::sync_group(ctx, &gid).await?;
        let room_spec = new
            .for_room(&room)
            .map_err(|e| WorkshopError::InvalidPlan(e.to_string()))?;
        let present = member_handles(ctx, &gid)?;
        let expected = room_spec.expected_members();
        let removes: Vec<Handle> = present
            .iter()
            .filter(|h| !expected.contains(h))
            .cloned()
            .collect();
        let joining: Vec<Handle> = expected
            .iter()
            .filter(|h| !present.contains(h))
            .cloned()
            .collect();
        if ctx.session.mls.workshop(&gid)?.as_ref() == Some(&room_spec)
            && removes.is_empty()
            && joining.is_empty()
        {
            continue;
        }
        let adds = membership::claim_all(ctx, joining).await?;
        let change = Change::Workshop {
            spec: Box::new(room_spec),
            adds,
            removes,
            announced: announced.clone(),
        };
        let welcome_name = membership::welcome_name(ctx, &conv);
        membership::commit_change(ctx, &gid, &change, &welcome_name, None).await?;
    }
    Ok(())
}

/// The workshop `spec` with `edit` made by `me`.
fn edited(
    spec: &WorkshopSpec,
    edit: &RosterEdit,
    me: &Handle,
) -> Result<WorkshopSpec, ClientError> {
    let invalid =
        |e: parley_crypto::workshop::WorkshopError| WorkshopError::InvalidPlan(e.to_string());
    let own = |handle: &Handle| -> Result<(), WorkshopError> {
        if handle == me {
            return Err(WorkshopError::InvalidPlan(
                "you cannot change your own place in the workshop; ask another facilitator"
                    .to_owned(),
            ));
        }
        Ok(())
    };
    if let RosterEdit::Add {
        role: Role::Side(side),
        ..
    }
    | RosterEdit::SetRole {
        role: Role::Side(side),
        ..
    } = edit
    {
        if !spec.sides().contains(side) {
            let sides: Vec<&str> = spec.sides().iter().map(|s| s.as_str()).collect();
            return Err(WorkshopError::InvalidPlan(format!(
                "the workshop has no side {side}; its sides are {}",
                sides.join(", ")
            ))
            .into());
        }
    }
    let new = match edit {
        // Already so: the rooms are brought in line with the roster again (a change cut
        // short is finished by making it again).
        RosterEdit::Add { handle, role } | RosterEdit::SetRole { handle, role }
            if spec.role_of(handle) == Some(role) =>
        {
            spec.clone()
        }
        RosterEdit::Attribution(attribution) if spec.attribution() == *attribution => spec.clone(),
        RosterEdit::Add { handle, role } => {
            if let Some(current) = spec.role_of(handle) {
                return Err(WorkshopError::AlreadyInRoster {
                    handle: handle.clone(),
                    role: current.to_string(),
                }
                .into());
            }
            spec.with_role(handle, Some(role.clone()))
                .map_err(invalid)?
        }
        RosterEdit::Remove { handle } => {
            own(handle)?;
            if spec.role_of(handle).is_none() {
                return Err(WorkshopError::NotInRoster(handle.clone()).into());
            }
            spec.with_role(handle, None).map_err(invalid)?
        }
        RosterEdit::SetRole { handle, role } => {
            own(handle)?;
            match spec.role_of(handle) {
                None => return Err(WorkshopError::NotInRoster(handle.clone()).into()),
                Some(current) if current == role => {
                    return Err(WorkshopError::AlreadyInRoster {
                        handle: handle.clone(),
                        role: current.to_string(),
                    }
                    .into())
                }
                Some(_) => spec
                    .with_role(handle, Some(role.clone()))
                    .map_err(invalid)?,
            }
        }
        RosterEdit::Attribution(attribution) => spec.with_attribution(*attribution),
    };
    Ok(new)
}
