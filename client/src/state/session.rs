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
use crate::state::Session;

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
    let mls = Mls::new(handle.clone(), &identity, state)?;
    Ok(Session {
        handle,
        identity,
        inbox,
        mls,
    })
}
