//! Creating an identity and registering its handle on the relay.

use std::sync::Arc;

use parley_crypto::clock::Clock;
use parley_crypto::directory::DirectoryRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::Mls;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::api::error::{ClientError, CryptoError, RelayError};
use crate::api::trust::WhoAmI;
use crate::state::session::{settings, whoami};
use crate::state::store::records::Settings;
use crate::state::store::{Key, Store, StoreBatch};
use crate::state::{Session, State};

/// Creates and registers a new identity; see [`crate::Client::register`]. Nothing is saved
/// unless the relay accepted the handle.
pub(crate) async fn register(
    store: &Store,
    state: &mut State,
    clock: &Arc<dyn Clock>,
    handle: &Handle,
) -> Result<WhoAmI, ClientError> {
    if state.session.is_some() || settings(store)?.is_some() {
        return Err(ClientError::AlreadyInitialized);
    }
    let relay_url = state.link.url.clone().ok_or(ClientError::MissingRelay)?;
    let identity = IdentitySecretKey::generate(&mut OsRng);
    let inbox = InboxSecretKey::generate(&mut OsRng);
    let record = DirectoryRecord {
        handle: handle.clone(),
        identity_key: identity.public_key(),
        inbox_key: inbox.public_key(),
        record_version: 1,
        created_at_ms: clock.now_ms(),
    }
    .sign(&identity)
    .map_err(CryptoError::from)?;

    let relay = state.link.owner().await?;
    match relay.register(&record).await {
        Ok(()) => {}
        Err(RelayError::AlreadyExists) => return Err(ClientError::HandleTaken(handle.clone())),
        Err(e) => return Err(e.into()),
    }

    // Saved only now: a refused handle must leave the home directory untouched.
    let mls = Mls::new(handle.clone(), &identity, Vec::new())?;
    let settings = Settings {
        handle: handle.to_string(),
        identity_key: hex::encode(identity.public_key().to_bytes()),
        relay_url: relay_url.to_string(),
        relay_fingerprint: state.link.fingerprint.clone(),
        last_resort_published: false,
        proxy: state.link.proxy().map(ToString::to_string),
        key_packages_rotated_at_ms: None,
    };
    let mut secrets = Zeroizing::new(Vec::with_capacity(64));
    secrets.extend_from_slice(&identity.to_bytes()[..]);
    secrets.extend_from_slice(&inbox.to_bytes()[..]);
    let mut batch = StoreBatch::default();
    batch.put_raw(Key::Identity, &secrets);
    batch.put_raw(Key::OwnRecord, record.as_bytes());
    batch.put(Key::Settings, &settings)?;
    store.apply(batch).await?;

    state.session = Some(Session {
        handle: handle.clone(),
        identity,
        inbox,
        previous: None,
        mls,
    });
    let mut ctx = state.ctx(store, clock)?;
    // The handle is ours now whatever happens next; a failed publish is retried by the
    // top-up at the next sync, so it must not make registration look failed.
    if let Err(e) = crate::keypackages::top_up_key_packages(&mut ctx).await {
        tracing::warn!(kind = %e.kind(), "could not publish KeyPackages; will retry at the next sync");
        tracing::debug!(error = %e, "KeyPackages not published");
    }
    whoami(store)
}
