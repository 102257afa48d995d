//! Configuring and opening a [`Client`].

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::Mutex;

use crate::client::{Client, Inner, RelayLink, State};
use crate::error::ClientError;
use crate::store::Store;

/// Configures a [`Client`]; see [`Client::builder`].
#[derive(Debug, Default, Clone)]
pub struct ClientBuilder {
    home: Option<PathBuf>,
    relay: Option<String>,
    fingerprint: Option<String>,
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

    /// Opens the store (creating the home directory if needed) and loads the identity if one
    /// was registered. The relay is contacted only when an operation needs it.
    pub async fn build(self) -> Result<Client, ClientError> {
        let home = self.home.ok_or(ClientError::MissingHome)?;
        let store = tokio::task::spawn_blocking(move || Store::open(&home))
            .await
            .map_err(|_| ClientError::Store(crate::store::StoreError::Interrupted))??;
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
            Some(settings) => Some(crate::identity::load_session(&store, &settings)?),
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
