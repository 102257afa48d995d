//! The test relay: a real relay on loopback that a test starts, stops, kills, restarts and
//! splits, and talks to.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::Arc;

use parley_proto::v1::blobs_client::BlobsClient;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_relay::{Metrics, RelayConfig, Released, TlsReloader, TlsSetting};
use tempfile::TempDir;
use tonic::transport::Channel;

use crate::blocking::block_on;
use crate::builder::TestRelayBuilder;
use crate::channel;
use crate::files;
use crate::recorder::{self, ConnectionLog, ConnectionRecorder};
use crate::serving::{Serving, Started};

/// A real relay serving on `127.0.0.1` from a runtime of its own, with its data in a
/// directory that outlives restarts.
///
/// Methods that wait for the relay to stop are async: an async test must keep its runtime
/// running while the relay says goodbye to its clients. Synchronous tests call their
/// `blocking_` twins. Dropping a running relay kills it (see [`TestRelay::kill`]).
pub struct TestRelay {
    config: RelayConfig,
    addr: SocketAddr,
    fingerprint: Option<String>,
    metrics: Metrics,
    reloader: Option<TlsReloader>,
    serving: Option<Serving>,
    recorder: Option<Arc<ConnectionRecorder>>,
    // Declared last, so dropped last: the relay is gone before its directory is deleted.
    _owned_dir: Option<TempDir>,
}

impl std::fmt::Debug for TestRelay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestRelay")
            .field("addr", &self.addr)
            .field("fingerprint", &self.fingerprint)
            .field("data_dir", &self.config.data_dir)
            .field("running", &self.serving.is_some())
            .finish_non_exhaustive()
    }
}

impl TestRelay {
    /// A relay with a self-signed certificate, in a fresh temporary directory, on any port.
    pub fn start() -> TestRelay {
        TestRelay::builder().start()
    }

    /// A plaintext relay, in a fresh temporary directory, on any port.
    pub fn plaintext() -> TestRelay {
        TestRelay::builder().plaintext().start()
    }

    /// A relay set up step by step: limits, clock, port, data directory, certificate.
    pub fn builder() -> TestRelayBuilder {
        TestRelayBuilder::new()
    }

    /// Serves `config` on `127.0.0.1:port`; `owned_dir` is `config.data_dir` when the relay
    /// is to delete it; `recorder` records its connections.
    pub(crate) fn launch(
        config: RelayConfig,
        port: u16,
        owned_dir: Option<TempDir>,
        recorder: Option<Arc<ConnectionRecorder>>,
    ) -> TestRelay {
        let observer = recorder.as_ref().map(recorder::observer);
        let (serving, started) = Serving::start(config.clone(), port, observer);
        let Started {
            addr,
            fingerprint,
            metrics,
            reloader,
        } = started;
        TestRelay {
            config,
            addr,
            fingerprint,
            metrics,
            reloader,
            serving: Some(serving),
            recorder,
            _owned_dir: owned_dir,
        }
    }

    /// What each connection the relay accepted carried (see
    /// [`TestRelayBuilder::record_connections`]); panics if the relay does not record.
    pub fn connections(&self) -> Vec<ConnectionLog> {
        self.recorder().connections()
    }

    /// The recorder of a relay started with
    /// [`TestRelayBuilder::record_connections`]; panics otherwise.
    pub fn recorder(&self) -> Arc<ConnectionRecorder> {
        self.recorder
            .clone()
            .expect("this relay does not record connections: start it with record_connections()")
    }

    /// `https://127.0.0.1:PORT`, or `http://` without TLS.
    pub fn url(&self) -> String {
        let scheme = if self.fingerprint.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://127.0.0.1:{}", self.addr.port())
    }

    /// The SHA-256 fingerprint of the certificate, as the relay reports it (64 lowercase hex
    /// characters); `None` without TLS.
    pub fn fingerprint(&self) -> Option<String> {
        self.fingerprint.clone()
    }

    /// The port the relay listens on (kept across restarts).
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The address the relay listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The relay's data directory.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The relay's metrics, as `Relay::metrics` gives them (those of the current run).
    pub fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    /// The handle that reloads the certificate while the relay serves; `None` without TLS.
    pub fn tls_reloader(&self) -> Option<TlsReloader> {
        self.reloader.clone()
    }

    /// The certificate (PEM) the relay serves, from its files.
    pub fn cert_pem(&self) -> Vec<u8> {
        let path = match &self.config.tls {
            TlsSetting::SelfSigned => self.data_dir().join("tls").join("cert.pem"),
            TlsSetting::Files { cert, .. } => cert.clone(),
            TlsSetting::Plaintext => panic!("a plaintext relay has no certificate"),
        };
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    /// A new connection to the relay: TLS trusting exactly its certificate, or plaintext.
    pub async fn channel(&self) -> Channel {
        self.connect(None).await
    }

    /// A new connection to the relay from the loopback address `source` (127.0.0.2, say),
    /// which the relay's per-source limits count apart from 127.0.0.1.
    pub async fn channel_from(&self, source: IpAddr) -> Channel {
        self.connect(Some(source)).await
    }

    async fn connect(&self, source: Option<IpAddr>) -> Channel {
        let cert_pem = self.fingerprint.is_some().then(|| self.cert_pem());
        channel::connect(self.addr, cert_pem, source).await
    }

    /// A Directory client on a new connection.
    pub async fn directory(&self) -> DirectoryClient<Channel> {
        DirectoryClient::new(self.channel().await)
    }

    /// An Inbox client on a new connection.
    pub async fn inbox(&self) -> InboxClient<Channel> {
        InboxClient::new(self.channel().await)
    }

    /// A Groups client on a new connection.
    pub async fn groups(&self) -> GroupsClient<Channel> {
        GroupsClient::new(self.channel().await)
    }

    /// A Blobs client on a new connection.
    pub async fn blobs(&self) -> BlobsClient<Channel> {
        BlobsClient::new(self.channel().await)
    }

    /// Asks the relay to stop and returns at once: it reports NOT_SERVING for its shutdown
    /// grace, then stops. [`TestRelay::stop`] waits for the end.
    pub fn signal_stop(&mut self) {
        if let Some(serving) = &mut self.serving {
            serving.signal();
        }
    }

    /// Stops the relay gracefully (as on SIGTERM) and waits until its database is closed;
    /// panics if it does not stop cleanly. Nothing happens if it is not running.
    pub async fn stop(&mut self) {
        if let Some(serving) = self.serving.take() {
            serving.stop().await;
        }
    }

    /// [`TestRelay::stop`] for a synchronous test.
    pub fn blocking_stop(&mut self) {
        block_on(self.stop());
    }

    /// Ends the relay abruptly, as a crash would: no NOT_SERVING, no final flush; its
    /// runtime is dropped with every call in flight. (sled, dropped with it, still writes
    /// what it had buffered; to lose that too, kill the `parley-relay` binary instead.)
    pub fn kill(&mut self) {
        drop(self.serving.take());
    }

    /// Stops the relay if it runs and starts it again: same port, same data directory, same
    /// certificate, same clock.
    pub async fn restart(&mut self) {
        self.stop().await;
        let observer = self.recorder.as_ref().map(recorder::observer);
        let (serving, started) = Serving::start(self.config.clone(), self.addr.port(), observer);
        assert_eq!(
            started.fingerprint, self.fingerprint,
            "the certificate survives a restart"
        );
        self.metrics = started.metrics;
        self.reloader = started.reloader;
        self.serving = Some(serving);
    }

    /// [`TestRelay::restart`] for a synchronous test.
    pub fn blocking_restart(&mut self) {
        block_on(self.restart());
    }

    /// Splits the relay in two: stops it, copies its data directory, restarts it and starts
    /// a second relay (same certificate, same settings, another port) on the copy. From then
    /// on the two diverge: what a malicious relay shows when it serves different members
    /// different histories.
    pub async fn split(&mut self) -> TestRelay {
        self.stop().await;
        let copy = TempDir::new().expect("creating the copy's data directory");
        files::copy_tree(self.data_dir(), copy.path());
        self.restart().await;
        let config = RelayConfig {
            data_dir: copy.path().to_owned(),
            ..self.config.clone()
        };
        TestRelay::launch(config, 0, Some(copy), None)
    }

    /// The operator frees `handle` (`parley-relay handle release`): the relay stops, the
    /// handle is released in its data, and the relay starts again (see
    /// [`TestRelay::restart`]). Returns what was removed.
    pub async fn release_handle(&mut self, handle: &str) -> Released {
        self.stop().await;
        let released = parley_relay::release_handle(self.data_dir(), handle)
            .unwrap_or_else(|e| panic!("cannot release {handle}: {e}"));
        self.restart().await;
        released
    }

    /// [`TestRelay::release_handle`] for a synchronous test.
    pub fn blocking_release_handle(&mut self, handle: &str) -> Released {
        block_on(self.release_handle(handle))
    }
}
