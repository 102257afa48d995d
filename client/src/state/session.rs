//! Our identity as the store keeps it: the settings written at registration, and loading the
//! secret keys and MLS state saved by earlier runs.

use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::Mls;
use zeroize::Zeroizing;

use crate::api::error::{ClientError, StoreError};
use crate::api::fingerprint::Fingerprint;
use crate::api::relay_url::RelayUrl;
use crate::api::trust::WhoAmI;
use crate::state::store::records::Settings;
use crate::state::store::{Key, Prefix, Store};
use crate::state::{PreviousKeys, Session};

/// What `register` saved, if anything.
pub(crate) fn settings(store: &Store) -> Result<Option<Settings>, ClientError> {
    Ok(store.get(Key::Settings)?)
}

/// Our handle, identity key and relay.
pub(crate) fn whoami(store: &Store) -> Result<WhoAmI, ClientError> {
    let settings = settings(store)?.ok_or(ClientError::NotInitialized)?;
    let corrupt = |what| StoreError::Corrupt(what);
    Ok(WhoAmI {
        handle: Handle::parse(&settings.handle).map_err(|_| corrupt("handle"))?,
        identity_key: settings.identity_key,
        relay_url: RelayUrl::parse(&settings.relay_url).map_err(|_| corrupt("relay url"))?,
        relay_fingerprint: settings
            .relay_fingerprint
            .as_deref()
            .map(Fingerprint::parse)
            .transpose()
            .map_err(|_| corrupt("relay fingerprint"))?,
    })
}

/// Loads the identity and the MLS state saved by earlier runs.
pub(crate) fn load_session(store: &Store, settings: &Settings) -> Result<Session, ClientError> {
    let handle = Handle::parse(&settings.handle).map_err(|_| StoreError::Corrupt("handle"))?;
    let secrets = store
        .get_raw(Key::Identity)?
        .ok_or(StoreError::Corrupt("identity missing"))?;
    if secrets.len() != 64 {
        return Err(StoreError::Corrupt("identity").into());
    }
    let mut identity_bytes = Zeroizing::new([0u8; 32]);
    identity_bytes.copy_from_slice(&secrets[..32]);
    let mut inbox_bytes = Zeroizing::new([0u8; 32]);
    inbox_bytes.copy_from_slice(&secrets[32..]);
    let identity = IdentitySecretKey::from_bytes(&identity_bytes);
    let inbox = InboxSecretKey::from_bytes(*inbox_bytes);
    if hex::encode(identity.public_key().to_bytes()) != settings.identity_key {
        return Err(StoreError::Corrupt("identity does not match settings").into());
    }
    let state = store
        .scan_raw(Prefix::Mls)?
        .into_iter()
        .map(|(key, value)| (key, value.to_vec()));
    let mut mls = Mls::new(handle.clone(), &identity, state)?;
    let previous = previous_keys(store)?;
    if let Some(previous) = &previous {
        mls = mls.with_previous_identity(&previous.identity);
    }
    Ok(Session {
        handle,
        identity,
        inbox,
        previous,
        mls,
    })
}

/// The keys our last rotation replaced, if still kept:
/// `identity secret[32] | inbox secret[32] | u64 BE until_ms`.
fn previous_keys(store: &Store) -> Result<Option<PreviousKeys>, ClientError> {
    let Some(bytes) = store.get_raw(Key::PreviousIdentity)? else {
        return Ok(None);
    };
    let corrupt = || StoreError::Corrupt("previous identity");
    let (identity, rest) = bytes.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let (inbox, rest) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let until: [u8; 8] = rest.try_into().map_err(|_| corrupt())?;
    Ok(Some(PreviousKeys {
        identity: IdentitySecretKey::from_bytes(identity),
        inbox: InboxSecretKey::from_bytes(*inbox),
        until_ms: u64::from_be_bytes(until),
    }))
}

/// `previous` as [`previous_keys`] reads it back.
pub(crate) fn encode_previous_keys(previous: &PreviousKeys) -> Zeroizing<Vec<u8>> {
    let mut bytes = Zeroizing::new(Vec::with_capacity(72));
    bytes.extend_from_slice(&previous.identity.to_bytes()[..]);
    bytes.extend_from_slice(&previous.inbox.to_bytes()[..]);
    bytes.extend_from_slice(&previous.until_ms.to_be_bytes());
    bytes
}
