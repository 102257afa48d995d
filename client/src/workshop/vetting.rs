//! What a member's software checks before it keeps a workshop message: only a facilitator
//! publishes a version of the text or exports the record, a version follows the chain the
//! room holds, and a comment names a paragraph that exists. Anything else is set aside with
//! an alert, whoever the relay says sent it.

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;
use parley_crypto::workshop::{Role, Room};

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
    let facilitator = spec.role_of(sender) == Some(&Role::Facilitator);
    let chain = ctx.text_chain(gid).map_err(|e| e.to_string())?;
    match body {
        StoredBody::TextVersion {
            number, previous, ..
        } => {
            if !facilitator {
                return Err(format!(
                    "{sender}, who is not a facilitator, tried to publish a version of the negotiating text; refused"
                ));
            }
            let (next, expected) = chain.next();
            if *number != next || *previous != expected {
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
            let count = paragraphs(&commented.text).len();
            if *para == 0 || usize::try_from(*para).map_or(true, |p| p > count) {
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
        } => Ok(ctx.text_chain(gid)?.next() == (*number, *previous)),
        _ => Ok(true),
    }
}

/// Refuses to join a workshop's room unless a facilitator invited us into it, the group is
/// the room the workshop names, and everyone in it belongs there by the roster: a member
/// cannot pass a group of their own off as a caucus.
pub(crate) fn vet_welcome(
    spec: &parley_crypto::workshop::WorkshopSpec,
    group_id: &GroupId,
    inviter: &Handle,
    members: &[parley_crypto::mls::Member],
) -> Result<(), crate::api::error::ClientError> {
    let refuse = |why: String| {
        crate::api::error::ClientError::Workshop(
            crate::api::workshop_error::WorkshopError::InvalidPlan(why),
        )
    };
    if spec.role_of(inviter) != Some(&Role::Facilitator) {
        return Err(refuse(format!(
            "{inviter} invited you into a room of a workshop they do not facilitate; refused"
        )));
    }
    if spec.room_id(spec.room()) != Some(*group_id) {
        return Err(refuse(format!(
            "{inviter} invited you into a group that is not the {} of its workshop; refused",
            spec.room()
        )));
    }
    let expected = spec.expected_members();
    if let Some(stranger) = members.iter().find(|m| !expected.contains(&m.handle)) {
        return Err(refuse(format!(
            "the {} {inviter} invited you into holds {}, whom the workshop's roster does not put there; refused",
            spec.room(),
            stranger.handle
        )));
    }
    Ok(())
}
