//! Finding a workshop: from any of its rooms to its plenary, whose MLS state is what every
//! member agreed on; and naming its rooms.

use parley_crypto::workshop::{Role, Room, WorkshopSpec};

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
use crate::api::workshop_error::WorkshopError;
use crate::state::store::records::Conversation;
use crate::state::Ctx;

/// The plenary of the workshop `id` is a room of, and the workshop as the plenary says.
pub(crate) fn plenary_of(
    ctx: &Ctx<'_>,
    id: &ConversationId,
) -> Result<(Conversation, WorkshopSpec), ClientError> {
    let conv = ctx.require_conversation(id)?;
    let not_one = || WorkshopError::NotAWorkshop(ctx.display_name(&conv).unwrap_or_default());
    let spec = ctx
        .session
        .mls
        .workshop(&conv.group_id)?
        .ok_or_else(not_one)?;
    if *spec.room() == Room::Plenary {
        return Ok((conv, spec));
    }
    let missing = || WorkshopError::MissingRoom(Room::Plenary.to_string());
    let pid = spec.room_id(&Room::Plenary).ok_or_else(missing)?;
    let plenary = ctx.conversation_of(&pid)?.ok_or_else(missing)?;
    match ctx.session.mls.workshop(&pid)? {
        // A room names its plenary; the plenary must name the room back.
        Some(pspec)
            if pspec.id() == spec.id() && pspec.room_id(spec.room()) == Some(conv.group_id) =>
        {
            Ok((plenary, pspec))
        }
        _ => Err(not_one().into()),
    }
}

/// Refuses a change only facilitators may make when we are not one.
pub(crate) fn require_facilitator(
    ctx: &Ctx<'_>,
    plenary: &Conversation,
    spec: &WorkshopSpec,
) -> Result<(), ClientError> {
    if spec.role_of(&ctx.session.handle) == Some(&Role::Facilitator) {
        return Ok(());
    }
    Err(WorkshopError::NotFacilitator {
        workshop: ctx.display_name(plenary)?,
        facilitators: spec.facilitators(),
    }
    .into())
}

/// The name a room of the workshop `name` is created with: the workshop's own name for
/// the plenary, `name:facilitators`, `name:<side>` for a caucus.
pub(crate) fn room_title(name: &str, room: &Room) -> String {
    match room {
        Room::Plenary => name.to_owned(),
        Room::Facilitators => format!("{name}:facilitators"),
        Room::Caucus(side) => format!("{name}:{side}"),
    }
}

/// Who is in the group `gid` now, as its MLS state says.
pub(crate) fn member_handles(
    ctx: &Ctx<'_>,
    gid: &parley_crypto::mls::GroupId,
) -> Result<Vec<parley_crypto::handle::Handle>, ClientError> {
    Ok(ctx
        .session
        .mls
        .members(gid)?
        .into_iter()
        .map(|m| m.handle)
        .collect())
}
