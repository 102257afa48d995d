//! What a member's software checks before it keeps a workshop message: only a facilitator
//! publishes a version of the text or exports the record, a version follows the chain the
//! room holds, and a comment names a paragraph that exists. Anything else is set aside with
//! an alert, whoever the relay says sent it.

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;
use parley_crypto::workshop::{Role, Room, WorkshopSpec};

use crate::state::store::records::StoredBody;
use crate::state::Ctx;
use crate::workshop::text::paragraphs;

/// Why `body` from `sender` in `gid` must not be kept, if it must not.
pub(crate) fn vet(
    ctx: &Ctx<'_>,
    gid: &GroupId,
    sender: &Handle,
    body: &StoredBody,
) -> Result<(), String> {
    let workshop_only = matches!(
        body,
        StoredBody::TextVersion { .. }
            | StoredBody::TextComment { .. }
            | StoredBody::RecordExported
    );
    if !workshop_only {
        return Ok(());
    }
    let spec = match ctx.session.mls.workshop(gid) {
        Ok(Some(spec)) if *spec.room() == Room::Plenary => spec,
        _ => {
            return Err(format!(
                "{sender} sent part of a workshop's negotiating text outside a workshop's plenary; set aside"
            ))
        }
    };
    observer_silent(ctx, gid, sender)?;
    let facilitator = spec.role_of(sender) == Some(&Role::Facilitator);
    let chain = ctx.text_chain(gid).map_err(|e| e.to_string())?;
    match body {
        StoredBody::TextVersion {
            number, previous, ..
        }
        | StoredBody::TextVersionDocument {
            number, previous, ..
        } => {
            if !facilitator {
                return Err(format!(
                    "{sender}, who is not a facilitator, tried to publish a version of the negotiating text; refused"
                ));
            }
            let (next, _) = chain.next();
            if !chain.accepts(*number, previous) {
                return Err(format!(
                    "a version {number} of the negotiating text from {sender} does not follow the versions this room holds (next is {next}); set aside"
                ));
            }
        }
        StoredBody::TextComment { version, para, .. } => {
            let Some(commented) = chain.get(*version) else {
                return Err(format!(
                    "a comment from {sender} on version {version} of the text, which this room does not hold; set aside"
                ));
            };
            // A version kept as a document and not fetched yet cannot be counted here; its
            // readers' clients check again when they fetch it.
            let count = paragraphs(&commented.text).len();
            let uncounted = commented.pending.is_some();
            if *para == 0 || (!uncounted && usize::try_from(*para).map_or(true, |p| p > count)) {
                return Err(format!(
                    "a comment from {sender} on paragraph {para} of version {version}, which has {count}; set aside"
                ));
            }
        }
        StoredBody::RecordExported if !facilitator => {
            return Err(format!(
                "{sender}, who is not a facilitator, announced an export of the record; set aside"
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Refuses what an observer writes in a workshop's room: observers read the plenary and
/// say nothing.
fn observer_silent(ctx: &Ctx<'_>, gid: &GroupId, sender: &Handle) -> Result<(), String> {
    match ctx.session.mls.workshop(gid) {
        Ok(Some(spec)) if spec.role_of(sender) == Some(&Role::Observer) => Err(format!(
            "{sender}, an observer, wrote in the {}; observers do not speak, so it was set aside",
            spec.room()
        )),
        _ => Ok(()),
    }
}

/// Refuses to send in a workshop's room when we only observe it.
pub(crate) fn may_speak(
    ctx: &Ctx<'_>,
    gid: &GroupId,
) -> Result<(), crate::api::error::ClientError> {
    match ctx.session.mls.workshop(gid)? {
        Some(spec) if spec.role_of(&ctx.session.handle) == Some(&Role::Observer) => {
            let name = match ctx.conversation_of(gid)? {
                Some(conv) => ctx.display_name(&conv)?,
                None => String::new(),
            };
            Err(crate::api::workshop_error::WorkshopError::ObserverSilent(name).into())
        }
        _ => Ok(()),
    }
}

/// Whether a version of the text still follows the chain the room `gid` holds here (true
/// for anything that is not a version).
pub(crate) fn fits_chain(
    ctx: &Ctx<'_>,
    gid: &GroupId,
    body: &StoredBody,
) -> Result<bool, crate::api::error::ClientError> {
    match body {
        StoredBody::TextVersion {
            number, previous, ..
        }
        | StoredBody::TextVersionDocument {
            number, previous, ..
        } => Ok(ctx.text_chain(gid)?.accepts(*number, previous)),
        _ => Ok(true),
    }
}

/// Refuses to join a workshop's room unless a facilitator invited us into it, the group is
/// the room the workshop names, and everyone in it belongs there by the roster: a member
/// cannot pass a group of their own off as a caucus. When we hold the workshop's plenary,
/// the inviter must be a facilitator by the plenary's roster too: a group whose own roster
/// names its maker a facilitator proves nothing.
pub(crate) fn vet_welcome(
    ctx: &Ctx<'_>,
    spec: &WorkshopSpec,
    group_id: &GroupId,
    inviter: &Handle,
    members: &[parley_crypto::mls::Member],
) -> Result<(), crate::api::error::ClientError> {
    let plenary = spec
        .room_id(&Room::Plenary)
        .filter(|pid| pid != group_id)
        .and_then(|pid| ctx.session.mls.workshop(&pid).ok().flatten());
    let handles: Vec<Handle> = members.iter().map(|m| m.handle.clone()).collect();
    match welcome_refusal(spec, plenary.as_ref(), group_id, inviter, &handles) {
        None => Ok(()),
        Some(why) => Err(crate::api::workshop_error::WorkshopError::InvalidPlan(why).into()),
    }
}

/// Why a Welcome from `inviter` into `group_id`, whose context says `spec` and which holds
/// `members`, must be refused; `plenary` is the workshop's plenary as we hold it, if we do.
fn welcome_refusal(
    spec: &WorkshopSpec,
    plenary: Option<&WorkshopSpec>,
    group_id: &GroupId,
    inviter: &Handle,
    members: &[Handle],
) -> Option<String> {
    if spec.role_of(inviter) != Some(&Role::Facilitator) {
        return Some(format!(
            "{inviter} invited you into a room of a workshop they do not facilitate; refused"
        ));
    }
    if let Some(pspec) = plenary.filter(|p| p.id() == spec.id()) {
        if pspec.role_of(inviter) != Some(&Role::Facilitator) {
            return Some(format!(
                "{inviter} invited you into a room of a workshop whose plenary does not name them a facilitator; refused"
            ));
        }
    }
    if spec.room_id(spec.room()) != Some(*group_id) {
        return Some(format!(
            "{inviter} invited you into a group that is not the {} of its workshop; refused",
            spec.room()
        ));
    }
    let expected = spec.expected_members();
    members.iter().find(|m| !expected.contains(m)).map(|stranger| {
        format!(
            "the {} {inviter} invited you into holds {stranger}, whom the workshop's roster does not put there; refused",
            spec.room()
        )
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use parley_crypto::workshop::{Attribution, SideName};

    use super::*;

    fn handle(name: &str) -> Handle {
        Handle::parse(name).unwrap()
    }

    fn side(name: &str) -> SideName {
        SideName::parse(name).unwrap()
    }

    /// ann facilitates; carol and mallory are north, fay south. With `mallory_facilitates`
    /// (mallory's own copy of the roster) mallory is a facilitator.
    fn spec(room: Room, rooms: [[u8; 32]; 4], mallory_facilitates: bool) -> WorkshopSpec {
        let mallory = if mallory_facilitates {
            Role::Facilitator
        } else {
            Role::Side(side("north"))
        };
        WorkshopSpec::new(
            [5; 16],
            room,
            vec![side("north"), side("south")],
            rooms.to_vec(),
            vec![
                (handle("ann"), Role::Facilitator),
                (handle("carol"), Role::Side(side("north"))),
                (handle("mallory"), mallory),
                (handle("fay"), Role::Side(side("south"))),
            ],
            Attribution::Side,
        )
        .unwrap()
    }

    const ROOMS: [[u8; 32]; 4] = [[1; 32], [2; 32], [3; 32], [4; 32]];
    const FORGED: [[u8; 32]; 4] = [[1; 32], [2; 32], [3; 32], [9; 32]];

    #[test]
    fn a_facilitator_inviting_into_the_room_the_workshop_names_is_let_in() {
        let south = spec(Room::Caucus(side("south")), ROOMS, false);
        let plenary = spec(Room::Plenary, ROOMS, false);
        let members = [handle("ann"), handle("fay")];
        let verdict = welcome_refusal(&south, Some(&plenary), &[4; 32], &handle("ann"), &members);
        assert_eq!(verdict, None);
    }

    #[test]
    fn a_participant_passing_off_a_group_of_their_own_as_a_caucus_is_refused() {
        let plenary = spec(Room::Plenary, ROOMS, false);
        let members = [handle("mallory"), handle("carol")];
        // Her copy names her facilitator and gives the caucus a group id of her making.
        let forged = spec(Room::Caucus(side("south")), FORGED, true);
        let verdict = welcome_refusal(
            &forged,
            Some(&plenary),
            &[9; 32],
            &handle("mallory"),
            &members,
        );
        assert!(verdict
            .unwrap()
            .contains("whose plenary does not name them a facilitator"));
        // With the true roster she is no facilitator at all.
        let honest_copy = spec(Room::Caucus(side("south")), FORGED, false);
        let verdict = welcome_refusal(&honest_copy, None, &[9; 32], &handle("mallory"), &members);
        assert!(verdict.unwrap().contains("they do not facilitate"));
        // A room that is not the group it claims to be.
        let south = spec(Room::Caucus(side("south")), ROOMS, false);
        let verdict = welcome_refusal(&south, None, &[9; 32], &handle("ann"), &[handle("ann")]);
        assert!(verdict.unwrap().contains("not the caucus south"));
        // A room holding someone the roster does not put there.
        let verdict = welcome_refusal(&south, None, &[4; 32], &handle("ann"), &members);
        assert!(verdict.unwrap().contains("holds mallory"));
    }
}
