//! Configuring a [`Client`](crate::Client): what to open, and checking it.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use parley_crypto::clock::Clock;
use parley_crypto::vault::{KdfParams, Passphrase};
use tokio::sync::Mutex;

use crate::api::error::{ClientError, StoreError};
use crate::api::fingerprint::Fingerprint;
use crate::api::proxy_url::ProxyUrl;
use crate::api::relay_url::RelayUrl;
use crate::state::clock::SystemClock;
use crate::state::store::records::Settings;
use crate::state::store::{Key, Store, StoreBatch};
use crate::state::{RelayLink, Shared, State};

/// How the relay is to be reached.
#[derive(Debug, Default, Clone)]
enum ProxyChoice {
    /// As the folder remembers (directly for a folder that never named a proxy).
    #[default]
    Remembered,
    /// Through this proxy, remembered from now on.
    Through(String),
    /// Directly, forgetting a remembered proxy.
    Direct,
}

/// Configures a [`Client`](crate::Client); see [`Client::builder`](crate::Client::builder). Everything given here is checked by
/// [`ClientBuilder::build`], before anything is opened or written.
#[derive(Default, Clone)]
pub struct ClientBuilder {
    home: Option<PathBuf>,
    relay: Option<String>,
    fingerprint: Option<String>,
    proxy: ProxyChoice,
    // Shared, not copied, between clones of the builder; wiped when the last one goes.
    passphrase: Option<Arc<Passphrase>>,
    kdf_params: Option<KdfParams>,
    clock: Option<Arc<dyn Clock>>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("home", &self.home)
            .field("relay", &self.relay)
            .field("fingerprint", &self.fingerprint)
            .field("proxy", &self.proxy)
            .field("passphrase", &self.passphrase.as_ref().map(|_| "<set>"))
            .field("kdf_params", &self.kdf_params)
            .field("clock", &self.clock.as_ref().map(|_| "<given>"))
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
    /// Needed for `register`, which stores it; later it overrides the stored one. Checked by
    /// `build` ([`ClientError::InvalidRelay`]).
    pub fn relay(mut self, url: impl Into<String>) -> Self {
        self.relay = Some(url.into());
        self
    }

    /// The relay's TLS certificate fingerprint to pin (SHA-256, 64 hex digits); stored at
    /// `register`. Checked by `build` ([`ClientError::InvalidRelay`]).
    pub fn relay_fingerprint(mut self, fp: impl Into<String>) -> Self {
        self.fingerprint = Some(fp.into());
        self
    }

    /// Reach the relay through a SOCKS5 proxy: `socks5h://host:port` (the proxy resolves the
    /// relay's name; with Tor, `socks5h://127.0.0.1:9050`) or `socks5://host:port` (this
    /// computer resolves it). Every connection the client opens then goes through the proxy
    /// with a username and password of its own, which Tor takes as a request for a separate
    /// circuit, so the relay sees neither this computer's address nor one address shared by
    /// the client's connections. Remembered by the folder (at `register`, or by `build` of a
    /// registered folder): later clients of the folder use it without being told, so that
    /// forgetting it once does not reveal this computer's address; [`ClientBuilder::direct`]
    /// forgets it. Checked by `build` ([`ClientError::InvalidProxy`]).
    pub fn proxy(mut self, url: impl Into<String>) -> Self {
        self.proxy = ProxyChoice::Through(url.into());
        self
    }

    /// Reach the relay directly, without the proxy the folder remembers (and forget it).
    pub fn direct(mut self) -> Self {
        self.proxy = ProxyChoice::Direct;
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

    /// The clock the client reads (default: the system clock). Tests hand in one they can
    /// move.
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// What `build` opens (see [`crate::ClientBuilder::build`]).
    pub(crate) async fn open(self) -> Result<Shared, ClientError> {
        let home = self.home.ok_or(ClientError::MissingHome)?;
        let passphrase = self
            .passphrase
            .filter(|p| !p.is_empty())
            .ok_or(ClientError::PassphraseRequired)?;
        let relay = self
            .relay
            .as_deref()
            .map(RelayUrl::parse)
            .transpose()
            .map_err(ClientError::InvalidRelay)?;
        let fingerprint = self
            .fingerprint
            .as_deref()
            .map(Fingerprint::parse)
            .transpose()
            .map_err(ClientError::InvalidRelay)?;
        let given = match &self.proxy {
            ProxyChoice::Through(url) => Some(Some(
                ProxyUrl::parse(url).map_err(ClientError::InvalidProxy)?,
            )),
            ProxyChoice::Direct => Some(None),
            ProxyChoice::Remembered => None,
        };
        let params = self.kdf_params.unwrap_or_default();
        // Argon2id takes most of a second by design: keep it off the async worker threads.
        let store = tokio::task::spawn_blocking(move || Store::open(&home, &passphrase, params))
            .await
            .map_err(|_| ClientError::Store(StoreError::Interrupted))??;
        let settings = crate::state::session::settings(&store)?;
        let stored_url = settings
            .as_ref()
            .map(|s| RelayUrl::parse(&s.relay_url))
            .transpose()
            .map_err(|_| StoreError::Corrupt("relay url"))?;
        let (url, fingerprint) = match (&settings, stored_url) {
            // The stored pin belongs to the stored relay: never apply it to another address.
            (Some(s), Some(stored)) if relay.is_none() || relay.as_ref() == Some(&stored) => (
                Some(stored),
                fingerprint
                    .map(|f| f.to_hex())
                    .or_else(|| s.relay_fingerprint.clone()),
            ),
            _ => (relay, fingerprint.map(|f| f.to_hex())),
        };
        let proxy = match (given, &settings) {
            (Some(proxy), Some(settings)) => {
                remember_proxy(&store, settings, proxy.as_ref()).await?;
                proxy
            }
            (Some(proxy), None) => proxy,
            (None, Some(settings)) => settings
                .proxy
                .as_deref()
                .map(ProxyUrl::parse)
                .transpose()
                .map_err(|_| StoreError::Corrupt("proxy url"))?,
            (None, None) => None,
        };
        let session = match settings {
            Some(settings) => {
                let session = crate::state::session::load_session(&store, &settings)?;
                crate::state::migration::run(&store, &session).await?;
                Some(session)
            }
            None => None,
        };
        Ok(Shared {
            store,
            clock: self.clock.unwrap_or_else(|| Arc::new(SystemClock)),
            state: Mutex::new(State {
                session,
                link: RelayLink::new(url, fingerprint, proxy),
                backlog: Vec::new(),
                new_groups: tokio::sync::watch::channel(0).0,
            }),
        })
    }
}

/// Stores `proxy` as the folder's way to the relay, if it is not that already.
async fn remember_proxy(
    store: &Store,
    settings: &Settings,
    proxy: Option<&ProxyUrl>,
) -> Result<(), ClientError> {
    let proxy = proxy.map(ToString::to_string);
    if settings.proxy == proxy {
        return Ok(());
    }
    let mut batch = StoreBatch::default();
    batch.put(
        Key::Settings,
        &Settings {
            proxy,
            ..settings.clone()
        },
    )?;
    store.apply(batch).await?;
    Ok(())
}
