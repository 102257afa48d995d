//! Contacts' key rotations: a new key is adopted without the user's say only when the pinned
//! key endorsed it, through the directory's chain of rotations. Anything else stays a
//! CHANGED key for the user to decide about.

use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentityPublicKey;
use parley_crypto::rotation::{follow_chain, Rotation};

use crate::api::alert::Alert;
use crate::api::error::ClientError;
use crate::state::store::records::Contact;
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

/// How many replaced keys of a contact are remembered.
const MAX_PREVIOUS_KEYS: usize = 8;

/// Whether `rotations` (as the directory served them) lead from `pinned`'s identity key to
/// exactly `current`. A rotation that does not verify breaks the chain.
pub(crate) fn endorsed_by_pin(
    pinned: &Contact,
    current: &SignedRecord,
    rotations: &[Vec<u8>],
) -> bool {
    let Ok(pinned_key) = IdentityPublicKey::from_bytes(&pinned.identity_key) else {
        return false;
    };
    let Ok(chain) = rotations
        .iter()
        .map(|bytes| Rotation::decode_and_verify(bytes))
        .collect::<Result<Vec<_>, _>>()
    else {
        return false;
    };
    follow_chain(&pinned_key, &chain, current).is_ok()
}

/// Replaces `pinned` by the rotated record `current` (its bytes `bytes`): the verification
/// carries over, since the key the user verified signed the new one, and any change shown
/// before is explained. The user is told.
pub(crate) async fn adopt_rotation(
    ctx: &mut Ctx<'_>,
    handle: &Handle,
    pinned: Contact,
    current: &SignedRecord,
) -> Result<Contact, ClientError> {
    let record = current.record();
    let mut previous_keys = pinned.previous_keys;
    previous_keys.push(pinned.identity_key);
    let excess = previous_keys.len().saturating_sub(MAX_PREVIOUS_KEYS);
    previous_keys.drain(..excess);
    let fresh = Contact {
        handle: handle.to_string(),
        identity_key: record.identity_key.to_bytes(),
        inbox_key: record.inbox_key.to_bytes(),
        record_version: record.record_version,
        verified: pinned.verified,
        changed: None,
        record: Some(current.to_bytes()),
        previous_keys,
    };
    let mut batch = StoreBatch::default();
    batch.put(Key::Contact(handle), &fresh)?;
    ctx.store.apply(batch).await?;
    ctx.alert(Alert::KeyRotated {
        handle: handle.clone(),
        verified: pinned.verified,
    })
    .await;
    Ok(fresh)
}
