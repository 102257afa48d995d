//! Configuring and opening a [`Client`].

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use parley_crypto::vault::{KdfParams, Passphrase};
use tokio::sync::Mutex;

use crate::client::{Client, Inner, RelayLink, State};
use crate::error::ClientError;
use crate::store::{OpenFailure, Store, StoreError};

/// Configures a [`Client`]; see [`Client::builder`].
#[derive(Default, Clone)]
pub struct ClientBuilder {
    home: Option<PathBuf>,
    relay: Option<String>,
    fingerprint: Option<String>,
    // Shared, not copied, between clones of the builder; wiped when the last one goes.
    passphrase: Option<Arc<Passphrase>>,
    kdf_params: Option<KdfParams>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("home", &self.home)
            .field("relay", &self.relay)
            .field("fingerprint", &self.fingerprint)
            .field("passphrase", &self.passphrase.as_ref().map(|_| "<set>"))
            .field("kdf_params", &self.kdf_params)
            .finish()
    }
}

impl ClientBuilder {
    /// The directory that holds this client's identity and conversations (created if absent).
    pub fn home(mut self, dir: impl Into<PathBuf>) -> Self {
        self.home = Some(dir.into());
        self
    }

    /// The relay address (`https://host:port`, or `http://127.0.0.1:port` for development).
    /// Needed for `register`, which stores it; later it overrides the stored one.
    pub fn relay(mut self, url: impl Into<String>) -> Self {
        self.relay = Some(url.into());
        self
    }

    /// The relay's TLS certificate fingerprint to pin (SHA-256, hex); stored at `register`.
    pub fn relay_fingerprint(mut self, fp: impl Into<String>) -> Self {
        self.fingerprint = Some(fp.into());
        self
    }

    /// The passphrase that unlocks the local store, or protects a new one. Required.
    pub fn passphrase(mut self, passphrase: Passphrase) -> Self {
        self.passphrase = Some(Arc::new(passphrase));
        self
    }

    /// Argon2id cost of a new store (default [`KdfParams::default`]: 64 MiB, 3 passes). An
    /// existing store keeps the parameters it was created with.
    pub fn kdf_params(mut self, params: KdfParams) -> Self {
        self.kdf_params = Some(params);
        self
    }

    /// Unlocks the store (creating the home directory if needed) and loads the identity if
    /// one was registered. The relay is contacted only when an operation needs it.
    ///
    /// A new store is written to disk with its first record (at `register`). A wrong
    /// passphrase for an existing store fails with [`ClientError::WrongPassphrase`] before
    /// anything is written.
    pub async fn build(self) -> Result<Client, ClientError> {
        let home = self.home.ok_or(ClientError::MissingHome)?;
        let passphrase = self
            .passphrase
            .filter(|p| !p.is_empty())
            .ok_or(ClientError::PassphraseRequired)?;
        let params = self.kdf_params.unwrap_or_default();
        // Argon2id takes most of a second by design: keep it off the async worker threads.
        let store = tokio::task::spawn_blocking(move || Store::open(&home, &passphrase, params))
            .await
            .map_err(|_| ClientError::Store(StoreError::Interrupted))?
            .map_err(|failure| match failure {
                OpenFailure::WrongPassphrase => ClientError::WrongPassphrase,
                OpenFailure::Store(e) => ClientError::Store(e),
            })?;
        let settings = crate::identity::settings(&store)?;
        let (url, fingerprint) = match &settings {
            // The stored pin belongs to the stored relay: never apply it to another address.
            Some(s) if self.relay.is_none() || self.relay.as_deref() == Some(&s.relay_url) => (
                Some(s.relay_url.clone()),
                self.fingerprint.or_else(|| s.relay_fingerprint.clone()),
            ),
            _ => (self.relay, self.fingerprint),
        };
        let session = match settings {
            Some(settings) => {
                let session = crate::identity::load_session(&store, &settings)?;
                crate::migration::run(&store, &session).await?;
                Some(session)
            }
            None => None,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                store,
                state: Mutex::new(State {
                    session,
                    link: RelayLink::new(url, fingerprint),
                    backlog: Vec::new(),
                }),
            }),
        })
    }
}
