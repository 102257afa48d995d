//! A workshop as this member's software holds it: rooms, roster with each person's
//! verification status, policies, and the disagreements it can see.

use parley_crypto::handle::Handle;
use parley_crypto::workshop::Room;

use crate::api::conversation::{ConversationId, GroupId as PublicGroupId};
use crate::api::error::ClientError;
use crate::api::verification::Verification;
use crate::api::workshop::{Participant, Workshop, WorkshopRoom};
use crate::api::workshop_error::WorkshopError;
use crate::state::Ctx;
use crate::workshop::locate::{member_handles, plenary_of};

/// The workshop `id` is a room of.
pub(crate) fn workshop(ctx: &Ctx<'_>, id: &ConversationId) -> Result<Workshop, ClientError> {
    let (plenary, spec) = plenary_of(ctx, id)?;
    let me = &ctx.session.handle;
    let mut problems = Vec::new();
    let mut rooms = Vec::new();
    let mut in_plenary: Vec<Handle> = Vec::new();
    for (room, gid) in spec.rooms() {
        let conv = ctx.conversation_of(&gid)?.filter(|c| c.active);
        let belongs = spec.members_of(&room).contains(me);
        let Some(conv) = conv else {
            if belongs {
                problems.push(format!(
                    "you are not in the {room}, where the roster puts you; ask a facilitator to make the change that put you there again: it adds everyone a room is missing"
                ));
            }
            rooms.push(WorkshopRoom {
                room,
                conversation: None,
                name: None,
                members: Vec::new(),
            });
            continue;
        };
        let members = member_handles(ctx, &gid)?;
        let agreed = ctx.session.mls.workshop(&gid)?;
        if !agreed.as_ref().is_some_and(|s| s.same_workshop(&spec)) {
            problems.push(format!(
                "the {room} holds another roster than the plenary (a change was not finished); a facilitator finishes it by making the change again"
            ));
        }
        if room == Room::Plenary {
            in_plenary = members.clone();
        }
        rooms.push(WorkshopRoom {
            room,
            conversation: Some(conv.id()),
            name: Some(ctx.display_name(&conv)?),
            members,
        });
    }
    let roster = spec
        .members()
        .iter()
        .map(|(handle, role)| Participant {
            handle: handle.clone(),
            role: role.clone(),
            status: if handle == me {
                Verification::Verified
            } else {
                ctx.status_of(handle)
            },
            present: in_plenary.contains(handle),
        })
        .collect();
    let my_role = spec
        .role_of(me)
        .cloned()
        .ok_or_else(|| WorkshopError::NotInRoster(me.clone()))?;
    Ok(Workshop {
        name: ctx.display_name(&plenary)?,
        plenary: ConversationId::Group(PublicGroupId::from_bytes(plenary.group_id)),
        rooms,
        roster,
        sides: spec.sides().to_vec(),
        attribution: spec.attribution(),
        retention: ctx.session.mls.retention(&plenary.group_id)?,
        my_role,
        text_version: ctx
            .text_chain(&plenary.group_id)?
            .latest()
            .map(|v| v.number),
        problems,
    })
}

/// Every workshop we are in, by the plenaries we hold.
pub(crate) fn workshops(ctx: &Ctx<'_>) -> Result<Vec<Workshop>, ClientError> {
    let mut found = Vec::new();
    for conv in ctx.conversations()?.into_iter().filter(|c| c.active) {
        let is_plenary = matches!(
            ctx.session.mls.workshop(&conv.group_id),
            Ok(Some(spec)) if *spec.room() == Room::Plenary
        );
        if is_plenary {
            found.push(workshop(ctx, &conv.id())?);
        }
    }
    Ok(found)
}
