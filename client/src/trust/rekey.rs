//! A group member moving its leaf to a new key (its own commit after a rotation): accepted
//! only where the directory's chain of rotations leads from the pin to that key.

use parley_crypto::mls::Member;

use super::contacts::{record_changed_key, refresh_contact};
use crate::api::error::ClientError;
use crate::state::store::records::ChangedKey;
use crate::state::Ctx;

/// Checks a commit by `committer` that moves its leaf to `new` (a rotation). Accepted when
/// `new` already is the pinned key, or when the committer's leaf holds the pinned key and the
/// directory's chain of rotations leads from it to a record of `new`; otherwise `new` is
/// recorded as the contact's changed key and the commit must be refused.
pub(crate) async fn accept_rekey(
    ctx: &mut Ctx<'_>,
    committer: &Member,
    new: &Member,
) -> Result<(), ClientError> {
    let handle = &committer.handle;
    if *handle == ctx.session.handle {
        // Only we can move our own leaf; a commit doing it is not ours to accept.
        return Err(ClientError::KeyChanged(handle.clone()));
    }
    let new_key = new.identity_key.to_bytes();
    if let Some(pinned) = ctx.pinned(handle)? {
        if pinned.identity_key == new_key && pinned.changed.is_none() {
            return Ok(());
        }
    }
    // `refresh_contact` follows the directory's rotations from the pin (adopting the
    // rotation, or recording a changed key it cannot explain).
    let contact = match refresh_contact(ctx, handle).await {
        Ok(contact) => contact,
        Err(ClientError::KeyChanged(_)) => return Err(ClientError::KeyChanged(handle.clone())),
        Err(ClientError::UnknownContact(h)) => return Err(ClientError::UntrustedMember(h)),
        Err(e) => return Err(e),
    };
    if contact.identity_key == new_key {
        return Ok(());
    }
    // The directory shows the pinned key (or another one) but the member moved elsewhere.
    let seen = ChangedKey {
        identity_key: new_key,
        inbox_key: None,
        record_version: contact.record_version,
    };
    Err(record_changed_key(ctx, handle, contact, seen).await)
}
