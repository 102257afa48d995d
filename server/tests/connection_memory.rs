//! What an idle client connection costs the relay in memory: the `parley-relay` binary runs
//! as its own process (with its self-signed TLS certificate, as deployed), the test opens
//! N connections that each make one call and then sit idle, and reads the relay's resident
//! set size from /proc before and after. Clients keep one connection per group they are in
//! (docs/PROTOCOL.md, "Channels"), so this is the figure that sizes a relay.
//!
//! The figure is printed (run with `--nocapture`); the assertion is only a loose ceiling, as
//! the allocator's behaviour makes RSS deltas approximate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::ChallengeRequest;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// Idle connections opened for the measurement.
const CONNECTIONS: usize = 300;
/// Well above what a connection should cost; only a leak or a regression crosses it.
const CEILING_PER_CONNECTION: u64 = 512 * 1024;

/// The relay binary with self-signed TLS; killed when dropped.
struct Relay {
    child: Child,
    addr: std::net::SocketAddr,
}

impl Drop for Relay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Relay {
    fn start(data: &Path) -> Relay {
        let addr = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_parley-relay"))
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data")
            .arg(data)
            // Every connection comes from one address; per-source limits would only slow it.
            .env("PARLEY_RELAY_LIMITS_SOURCE_REQUESTS_PER_SECOND", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        Relay { child, addr }
    }

    /// Resident set size of the relay process, in bytes.
    fn rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kib * 1024
    }

    /// A new TLS connection that has made one call.
    async fn connect(&self, cert: &[u8]) -> Result<Channel, String> {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(cert))
            .domain_name("localhost");
        let channel = Endpoint::from_shared(format!("https://{}", self.addr))
            .unwrap()
            .connect_timeout(Duration::from_secs(5))
            .tls_config(tls)
            .unwrap()
            .connect()
            .await
            .map_err(|e| e.to_string())?;
        DirectoryClient::new(channel.clone())
            .challenge(ChallengeRequest {
                handle: "alice".into(),
            })
            .await
            .map_err(|e| e.to_string())?;
        Ok(channel)
    }
}

/// Waits until the relay answers (it writes its certificate on first start).
async fn ready(relay: &Relay, data: &Path) -> Vec<u8> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(cert) = std::fs::read(data.join("tls").join("cert.pem")) {
            if relay.connect(&cert).await.is_ok() {
                return cert;
            }
        }
        assert!(Instant::now() < deadline, "the relay did not start in time");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connection_memory_at_the_relay() {
    let data = tempfile::tempdir().unwrap();
    let relay = Relay::start(data.path());
    let cert = ready(&relay, data.path()).await;
    // Warm up: the first connections grow pools and caches once for all.
    let mut warm = Vec::new();
    for _ in 0..20 {
        warm.push(relay.connect(&cert).await.unwrap());
    }
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = relay.rss();
    let mut open = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        open.push(relay.connect(&cert).await.unwrap());
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = relay.rss();
    let per_connection = after.saturating_sub(before) / CONNECTIONS as u64;
    eprintln!(
        "relay RSS {} KiB -> {} KiB with {CONNECTIONS} idle TLS connections: about {} KiB \
         ({per_connection} bytes) per connection",
        before / 1024,
        after / 1024,
        per_connection / 1024
    );
    assert!(
        per_connection < CEILING_PER_CONNECTION,
        "{per_connection} bytes per idle connection"
    );
    drop(open);
}
