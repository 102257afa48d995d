//! A real relay (self-signed TLS, sled in a temporary directory) served on 127.0.0.1.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use parley_relay::{Relay, RelayConfig, TlsSetting};
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use super::PATIENCE;

/// A running (or stopped) relay whose data directory outlives restarts.
pub(crate) struct TestRelay {
    data: TempDir,
    addr: SocketAddr,
    fingerprint: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestRelay {
    /// Opens a relay in a fresh data directory and serves it on an ephemeral loopback port.
    pub(crate) async fn start() -> TestRelay {
        let data = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (fingerprint, shutdown, task) = launch(data.path(), listener).await;
        assert_eq!(fingerprint.len(), 64, "fingerprint is 64 hex characters");
        TestRelay {
            data,
            addr,
            fingerprint,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// `https://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// The SHA-256 fingerprint of the relay's certificate, as the relay reports it.
    pub(crate) fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The relay's data directory.
    pub(crate) fn data_dir(&self) -> &Path {
        self.data.path()
    }

    /// The address the relay listens on.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops serving and waits until the relay (and its database) is closed.
    pub(crate) async fn stop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(PATIENCE, task).await.is_err() {
                // Graceful shutdown waits for open streams; the test is done with them.
                abort.abort();
            }
        }
    }

    /// Stops the relay, then opens it again on the same data directory and the same port.
    pub(crate) async fn restart(&mut self) {
        self.stop().await;
        let listener = bind_again(self.addr).await;
        let (fingerprint, shutdown, task) = launch(self.data.path(), listener).await;
        assert_eq!(
            fingerprint, self.fingerprint,
            "the self-signed certificate survives a restart"
        );
        self.shutdown = Some(shutdown);
        self.task = Some(task);
    }

    /// Splits the relay in two: stops it, copies its data directory, restarts it and starts
    /// a second relay on the copy. From then on the two logs diverge: what a malicious relay
    /// shows when it serves different members different histories.
    pub(crate) async fn split(&mut self) -> TestRelay {
        self.stop().await;
        let copy = tempfile::tempdir().unwrap();
        copy_tree(self.data.path(), copy.path());
        self.restart().await;
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (fingerprint, shutdown, task) = launch(copy.path(), listener).await;
        TestRelay {
            data: copy,
            addr,
            fingerprint,
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// The relay's certificate (PEM) from its data directory.
    pub(crate) fn cert_pem(&self) -> Vec<u8> {
        let conventional = self.data.path().join("tls").join("cert.pem");
        if let Ok(pem) = std::fs::read(&conventional) {
            return pem;
        }
        find_cert(self.data.path())
            .unwrap_or_else(|| panic!("no certificate PEM under {}", self.data.path().display()))
    }

    /// A TLS channel to the relay that trusts exactly its certificate.
    pub(crate) async fn channel(&self) -> Channel {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(self.cert_pem()))
            .domain_name("localhost");
        Endpoint::from_shared(self.url())
            .unwrap()
            .tls_config(tls)
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .unwrap()
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

async fn launch(
    dir: &Path,
    listener: TcpListener,
) -> (String, oneshot::Sender<()>, JoinHandle<()>) {
    let relay = open(dir).await;
    let fingerprint = relay
        .tls_fingerprint()
        .expect("a self-signed relay has a fingerprint");
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let shutdown = async move {
            let _ = rx.await;
        };
        relay.serve(listener, shutdown).await.unwrap();
    });
    (fingerprint, tx, task)
}

/// Opens the relay, retrying while a previous instance still holds the database lock.
async fn open(dir: &Path) -> Relay {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let config = RelayConfig {
            data_dir: dir.to_path_buf(),
            tls: TlsSetting::SelfSigned,
            ..Default::default()
        };
        match Relay::open(config) {
            Ok(relay) => return relay,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("relay did not open in {}: {e}", dir.display()),
        }
    }
}

async fn bind_again(addr: SocketAddr) -> TcpListener {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match TcpListener::bind(addr).await {
            Ok(listener) => return listener,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("could not bind {addr} again: {e}"),
        }
    }
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn find_cert(dir: &Path) -> Option<Vec<u8>> {
    let mut stack: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).ok()? {
            let p = entry.ok()?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "pem") {
                let bytes = std::fs::read(&p).ok()?;
                if bytes.starts_with(b"-----BEGIN CERTIFICATE-----") {
                    return Some(bytes);
                }
            }
        }
    }
    None
}
