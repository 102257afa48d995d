//! Our identity: creating it at registration, saving and loading it, and describing it.

use parley_crypto::directory::DirectoryRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::Mls;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::client::{Session, State};
use crate::error::{crypto, ClientError};
use crate::relay::RelayError;
use crate::store::records::Settings;
use crate::store::{Key, Prefix, Store, StoreBatch, StoreError};

/// Who this client is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhoAmI {
    /// Our handle.
    pub handle: String,
    /// Our identity public key (Ed25519), hex.
    pub identity_key: String,
    /// The relay we registered with.
    pub relay_url: String,
    /// The relay TLS fingerprint we pinned, if any.
    pub relay_fingerprint: Option<String>,
}

pub(crate) fn settings(store: &Store) -> Result<Option<Settings>, ClientError> {
    Ok(store.get(Key::Settings)?)
}

pub(crate) fn whoami(store: &Store) -> Result<WhoAmI, ClientError> {
    let settings = settings(store)?.ok_or(ClientError::NotInitialized)?;
    Ok(WhoAmI {
        handle: settings.handle,
        identity_key: settings.identity_key,
        relay_url: settings.relay_url,
        relay_fingerprint: settings.relay_fingerprint,
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
    let mls = Mls::new(handle.clone(), &identity, state).map_err(crypto)?;
    Ok(Session {
        handle,
        identity,
        inbox,
        mls,
    })
}

/// Creates and registers a new identity; see [`crate::Client::register`].
pub(crate) async fn register(
    store: &Store,
    state: &mut State,
    handle: &str,
) -> Result<WhoAmI, ClientError> {
    if state.session.is_some() || settings(store)?.is_some() {
        return Err(ClientError::AlreadyInitialized);
    }
    let handle =
        Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))?;
    let relay_url = state.link.url.clone().ok_or(ClientError::MissingRelay)?;
    let identity = IdentitySecretKey::generate(&mut OsRng);
    let inbox = InboxSecretKey::generate(&mut OsRng);
    let record = DirectoryRecord {
        handle: handle.clone(),
        identity_key: identity.public_key(),
        inbox_key: inbox.public_key(),
        record_version: 1,
        created_at_ms: crate::clock::now_ms(),
    }
    .sign(&identity)
    .map_err(crypto)?;

    let relay = state.link.get().await?;
    match relay.register(&record).await {
        Ok(()) => {}
        Err(RelayError::AlreadyExists) => return Err(ClientError::HandleTaken(handle.to_string())),
        Err(e) => return Err(e.into()),
    }

    // Saved only now: a refused handle must leave the home directory untouched.
    let mls = Mls::new(handle.clone(), &identity, Vec::new()).map_err(crypto)?;
    let settings = Settings {
        handle: handle.to_string(),
        identity_key: hex::encode(identity.public_key().to_bytes()),
        relay_url,
        relay_fingerprint: state.link.fingerprint.clone(),
        last_resort_published: false,
    };
    let mut secrets = Zeroizing::new(Vec::with_capacity(64));
    secrets.extend_from_slice(&identity.to_bytes()[..]);
    secrets.extend_from_slice(&inbox.to_bytes()[..]);
    let mut batch = StoreBatch::default();
    batch.put_raw(Key::Identity, &secrets);
    batch.put(Key::Settings, &settings)?;
    store.apply(batch).await?;

    state.session = Some(Session {
        handle,
        identity,
        inbox,
        mls,
    });
    let mut ctx = state.ctx(store)?;
    // The handle is ours now whatever happens next; a failed publish is retried by the
    // top-up at the next sync, so it must not make registration look failed.
    if let Err(e) = ctx.top_up_key_packages().await {
        tracing::warn!(error = %e, "could not publish KeyPackages; will retry at the next sync");
    }
    whoami(store)
}
