//! Creating a workshop: every room made by the creating facilitator, with the workshop in
//! its MLS group context, and everyone the roster puts in it added.

use parley_crypto::handle::Handle;
use parley_crypto::retention::Retention;
use parley_crypto::workshop::{Role, SideName, WorkshopSpec};
use rand::rngs::OsRng;
use rand::RngCore;

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
use crate::api::workshop::WorkshopPlan;
use crate::api::workshop_error::WorkshopError;
use crate::send::membership;
use crate::state::naming::check_own_group_name;
use crate::state::store::records::{Conversation, StoredKind};
use crate::state::Ctx;
use crate::workshop::locate::room_title;

/// Creates the workshop `name` from `plan`; returns its plenary.
pub(crate) async fn create_workshop(
    ctx: &mut Ctx<'_>,
    name: &str,
    plan: &WorkshopPlan,
) -> Result<ConversationId, ClientError> {
    let spec = plan_spec(&ctx.session.handle, plan)?;
    let rooms = spec.rooms();
    for (room, _) in &rooms {
        let title = room_title(name, room);
        check_own_group_name(&title)?;
        membership::check_name_is_free(ctx, &title)?;
    }
    // Everyone is looked up and a KeyPackage claimed for each room before any room exists:
    // an unknown or untrusted handle stops the creation with nothing made.
    let me = ctx.session.handle.clone();
    let mut claimed = Vec::with_capacity(rooms.len());
    for (room, _) in &rooms {
        let others: Vec<Handle> = spec
            .members_of(room)
            .into_iter()
            .filter(|h| *h != me)
            .collect();
        claimed.push(membership::claim_all(ctx, others).await?);
    }
    for ((room, gid), adds) in rooms.into_iter().zip(claimed) {
        let room_spec = spec
            .for_room(&room)
            .map_err(|e| WorkshopError::InvalidPlan(e.to_string()))?;
        let access = ctx
            .session
            .mls
            .create_workshop_room(gid, plan.retention, room_spec)?;
        membership::register_group(ctx, &gid, &access).await?;
        let title = room_title(name, &room);
        let conv = Conversation {
            group_id: gid,
            kind: StoredKind::Group,
            named_by: me.to_string(),
            peer: None,
            title: title.clone(),
            name: title.clone(),
            active: true,
            retired: false,
            close_pending: false,
        };
        membership::open_new_group(ctx, conv, adds, &title).await?;
        if plan.retention != Retention::Off {
            crate::retention::tell_relay(ctx, &gid).await?;
        }
    }
    let plenary = spec
        .room_id(&parley_crypto::workshop::Room::Plenary)
        .ok_or(WorkshopError::MissingRoom("plenary".to_owned()))?;
    Ok(ConversationId::Group(
        crate::api::conversation::GroupId::from_bytes(plenary),
    ))
}

/// The workshop a plan describes, seen from its plenary, with fresh random ids.
fn plan_spec(me: &Handle, plan: &WorkshopPlan) -> Result<WorkshopSpec, ClientError> {
    if !plan.facilitators.contains(me) {
        return Err(WorkshopError::CreatorNotFacilitator.into());
    }
    let mut members: Vec<(Handle, Role)> = Vec::new();
    let mut put = |handle: &Handle, role: Role| -> Result<(), WorkshopError> {
        if let Some((_, earlier)) = members.iter().find(|(h, _)| h == handle) {
            if *earlier == role {
                return Ok(());
            }
            return Err(WorkshopError::InvalidPlan(format!(
                "{handle} is listed twice, as {earlier} and as {role}; give each person one role"
            )));
        }
        members.push((handle.clone(), role));
        Ok(())
    };
    for handle in &plan.facilitators {
        put(handle, Role::Facilitator)?;
    }
    let mut sides: Vec<SideName> = Vec::new();
    for (side, handles) in &plan.sides {
        if sides.contains(side) {
            return Err(WorkshopError::InvalidPlan(format!(
                "the side {side} is given twice; list its participants once"
            ))
            .into());
        }
        sides.push(side.clone());
        for handle in handles {
            put(handle, Role::Side(side.clone()))?;
        }
    }
    for handle in &plan.observers {
        put(handle, Role::Observer)?;
    }
    let mut id = [0u8; 16];
    OsRng.fill_bytes(&mut id);
    let room_ids: Vec<[u8; 32]> = (0..sides.len() + 2)
        .map(|_| {
            let mut gid = [0u8; 32];
            OsRng.fill_bytes(&mut gid);
            gid
        })
        .collect();
    WorkshopSpec::new(
        id,
        parley_crypto::workshop::Room::Plenary,
        sides,
        room_ids,
        members,
        plan.attribution,
    )
    .map_err(|e| WorkshopError::InvalidPlan(e.to_string()).into())
}
