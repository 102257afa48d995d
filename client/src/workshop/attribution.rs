//! The Chatham House rule as this client keeps its record: in a workshop's plenary whose
//! policy is `side` or `none`, a message is stored under the side or role the policy shows,
//! and who sent it is not kept. MLS still authenticates every sender to every member's
//! software; the policy binds honest clients and the record they keep.

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;
use parley_crypto::workshop::{Attribution, Room};

use crate::api::error::ClientError;
use crate::state::history::ATTRIBUTED_MARK;
use crate::state::Ctx;

/// How a message `sender` wrote in `gid` is stored: their handle, or the side or role the
/// workshop's policy shows in its plenary.
pub(crate) fn stored_sender(
    ctx: &Ctx<'_>,
    gid: &GroupId,
    sender: &Handle,
) -> Result<String, ClientError> {
    let Some(spec) = ctx.session.mls.workshop(gid)? else {
        return Ok(sender.to_string());
    };
    if *spec.room() != Room::Plenary || spec.attribution() == Attribution::Person {
        return Ok(sender.to_string());
    }
    // The roster check keeps strangers out of the room; were one there, they are no one.
    let label = spec
        .label_for(sender)
        .unwrap_or_else(|| "participant".to_owned());
    Ok(format!("{ATTRIBUTED_MARK}{label}"))
}
