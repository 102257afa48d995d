//! Who sent a sealed delivery: authenticated by the sender's own record carried inside a v2
//! envelope, or for a v1 envelope from an older client by the pin we hold. No directory
//! lookup either way, so the relay never learns who wrote to whom; the one exception is a
//! pinned contact's record under a new key, looked up at most once a day to find a rotation.

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
    look_for_rotation(ctx, sender, &signed).await?;
    match contacts::adopt_record(ctx, sender, record, &[]).await {
        Ok(_) => Ok(Authentic::Message(message)),
        Err(ClientError::KeyChanged(who)) if who == *sender => Ok(Authentic::KeyChanged),
        Err(e) => Err(e),
    }
}

/// A contact's delivery carrying another key than the pinned one may come after they rotated
/// their keys: the directory's rotations tell, and adopt the new key if the pinned one
/// endorsed it. Anyone can make up such a delivery, so this lookup happens at most once per
/// contact and day; past that, the key shows as CHANGED until the next day's look or the
/// next conversation of theirs moving to it.
async fn look_for_rotation(
    ctx: &mut Ctx<'_>,
    sender: &Handle,
    carried: &SignedRecord,
) -> Result<(), ClientError> {
    let Some(pinned) = ctx.pinned(sender)? else {
        return Ok(());
    };
    if pinned.identity_key == carried.record().identity_key.to_bytes() {
        return Ok(());
    }
    let day = (ctx.now_ms() / DAY_MS).to_string();
    let marker = ["rotation lookup", sender.as_str(), &day];
    if ctx.marked(&marker)? {
        return Ok(());
    }
    match contacts::refresh_contact(ctx, sender).await {
        // The relay was not asked: the delivery is retried, and so is the lookup.
        Err(e) if e.is_transient() => return Err(e),
        // Adopted, or recorded as a changed key (as the carried record is about to be).
        _ => {}
    }
    ctx.first_time_per(&marker).await?;
    Ok(())
}

/// A day in milliseconds.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

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
