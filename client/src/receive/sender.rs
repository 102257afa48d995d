//! Who sent a sealed delivery: authenticated by the sender's own record carried inside a v2
//! envelope, or for a v1 envelope from an older client by the pin we hold. No directory
//! lookup either way, so the relay never learns who wrote to whom.

use parley_crypto::directory::SignedRecord;
use parley_crypto::envelope;
use parley_crypto::handle::Handle;

use crate::api::error::{ClientError, CryptoError};
use crate::state::Ctx;
use crate::trust::contacts;

/// What authenticating a delivery found.
pub(crate) enum Authentic {
    /// The sender's key sealed it: its message.
    Message(Vec<u8>),
    /// Sealed by a key that is not the pinned one; the contact is now CHANGED and the
    /// delivery waits for the user's decision.
    KeyChanged,
}

/// A v2 delivery: the sender's own signed record, carried inside the envelope, is checked
/// and pinned like a directory answer, so the relay is never asked who sent it. The record
/// must name the claimed sender, and the delivery must authenticate under the record's inbox
/// key before the record may touch the pins.
pub(crate) async fn authenticate_by_record(
    ctx: &mut Ctx<'_>,
    opened: envelope::OpenedEnvelope,
    sender: &Handle,
    record: &[u8],
) -> Result<Authentic, ClientError> {
    let not_authentic = || ClientError::from(CryptoError::DeliveryNotAuthentic(sender.clone()));
    let signed = match SignedRecord::decode_and_verify(record) {
        Ok(signed) if signed.record().handle == *sender => signed,
        _ => return Err(not_authentic()),
    };
    let message = opened
        .authenticate(&signed.record().inbox_key)
        .map_err(|_| not_authentic())?;
    match contacts::adopt_record(ctx, sender, record, &[]).await {
        Ok(_) => Ok(Authentic::Message(message)),
        Err(ClientError::KeyChanged(who)) if who == *sender => Ok(Authentic::KeyChanged),
        Err(e) => Err(e),
    }
}

/// A v1 delivery (from a client that does not send its record): accepted only from a
/// contact we have pinned, under the pinned key. Nobody is looked up for it: the claimed
/// sender of an unauthenticated delivery is the depositor's choice, and a lookup would both
/// tell the relay whom we talk to and let a stranger spend our request budget.
pub(crate) fn authenticate_by_pin(
    ctx: &mut Ctx<'_>,
    opened: envelope::OpenedEnvelope,
    sender: &Handle,
) -> Result<Authentic, ClientError> {
    let not_authentic = || ClientError::from(CryptoError::DeliveryNotAuthentic(sender.clone()));
    let contact = ctx.pinned(sender)?.ok_or_else(not_authentic)?;
    opened
        .authenticate(&contact.inbox_key())
        .map(Authentic::Message)
        .map_err(|_| not_authentic())
}
