//! How a test describes the relay it wants before starting it.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parley_crypto::clock::Clock;
use parley_relay::{LimitsConfig, RelayConfig, StoreSetting, TlsSetting};
use tempfile::TempDir;

use crate::files;
use crate::recorder::ConnectionRecorder;
use crate::relay::TestRelay;

/// A [`TestRelay`] to be: self-signed TLS, default limits, the system clock, a fresh
/// temporary data directory and any free port, unless told otherwise.
#[derive(Debug)]
#[must_use = "a builder does nothing until started"]
pub struct TestRelayBuilder {
    config: RelayConfig,
    /// `None`: a temporary directory the relay owns and deletes.
    data_dir: Option<PathBuf>,
    port: u16,
    /// A data directory whose `tls/` folder the relay starts with.
    certificate_from: Option<PathBuf>,
    recorder: Option<Arc<ConnectionRecorder>>,
}

impl TestRelayBuilder {
    pub(crate) fn new() -> TestRelayBuilder {
        TestRelayBuilder {
            config: RelayConfig {
                tls: TlsSetting::SelfSigned,
                ..RelayConfig::default()
            },
            data_dir: None,
            port: 0,
            certificate_from: None,
            recorder: None,
        }
    }

    /// Keeps the relay's data in `store` (a PostgreSQL database, say) instead of the data
    /// directory's embedded one.
    pub fn store(mut self, store: StoreSetting) -> Self {
        self.config.store = store;
        self
    }

    /// No TLS: `http://` URLs, no fingerprint.
    pub fn plaintext(self) -> Self {
        self.tls(TlsSetting::Plaintext)
    }

    /// This transport security (operator certificate files, say).
    pub fn tls(mut self, tls: TlsSetting) -> Self {
        self.config.tls = tls;
        self
    }

    /// These abuse limits, retention and compaction settings.
    pub fn limits(mut self, limits: LimitsConfig) -> Self {
        self.config.limits = limits;
        self
    }

    /// Reads time from `clock` (a [`ManualClock`](crate::ManualClock) clone, typically)
    /// instead of the system clock.
    pub fn clock(mut self, clock: impl Clock) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }

    /// Reports NOT_SERVING for `grace` after being asked to stop, before it stops.
    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.config.shutdown_grace = grace;
        self
    }

    /// Exactly this configuration, its data directory included (which the caller owns).
    pub fn config(mut self, config: RelayConfig) -> Self {
        self.data_dir = Some(config.data_dir.clone());
        self.config = config;
        self
    }

    /// Keeps its data in `dir`, which the caller owns (and may have filled before), instead
    /// of a fresh temporary directory.
    pub fn data_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.data_dir = Some(dir.into());
        self
    }

    /// Listens on `127.0.0.1:port` (waiting for the port to be free) instead of any port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Starts with a copy of `other`'s self-signed certificate and key: to its clients it is
    /// the same relay, whatever its data says (a relay that lost or rewrote its directory).
    pub fn certificate_of(mut self, other: &TestRelay) -> Self {
        self.certificate_from = Some(other.data_dir().to_owned());
        self
    }

    /// Records, for every TCP connection, which handles, groups and anonymous calls its
    /// requests touched ([`TestRelay::connections`]), across restarts too.
    pub fn record_connections(mut self) -> Self {
        self.recorder = Some(Arc::new(ConnectionRecorder::default()));
        self
    }

    /// Opens the relay and serves it; panics if it cannot.
    pub fn start(self) -> TestRelay {
        let TestRelayBuilder {
            mut config,
            data_dir,
            port,
            certificate_from,
            recorder,
        } = self;
        let owned = match data_dir {
            Some(dir) => {
                config.data_dir = dir;
                None
            }
            None => {
                let dir = TempDir::new().expect("creating the relay's data directory");
                config.data_dir = dir.path().to_owned();
                Some(dir)
            }
        };
        if let Some(from) = certificate_from {
            files::copy_certificate(&from, &config.data_dir);
        }
        TestRelay::launch(config, port, owned, recorder)
    }
}
