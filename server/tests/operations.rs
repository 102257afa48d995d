//! Operations: health and reflection, graceful shutdown (in process and by SIGTERM to the
//! binary) without losing an acknowledged deposit, TLS reloads that keep connections, and
//! plain (uncoloured) logs when stderr is not a terminal.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::User;
use futures::StreamExt;
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{
    AckRequest, DepositRequest, FetchRequest, LookupRequest, SubscribeInboxRequest,
};
use parley_relay::{LimitsConfig, Relay, RelayConfig, TlsSetting};
use parley_testkit::TestRelay;
use tokio::task::JoinHandle;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

const SERVICES: [&str; 4] = [
    "",
    "parley.v1.Directory",
    "parley.v1.Inbox",
    "parley.v1.Groups",
];

/// Limits out of the way of a test that deposits as fast as it can from one address.
fn unthrottled() -> LimitsConfig {
    LimitsConfig {
        source_requests_per_second: 0,
        inbox_max_messages: 1_000_000,
        inbox_max_bytes: 1 << 30,
        ..LimitsConfig::default()
    }
}

async fn plain_channel(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn tls_channel(addr: SocketAddr, ca_pem: &[u8]) -> Result<Channel, tonic::transport::Error> {
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    Channel::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)?
        .connect()
        .await
}

async fn health_status(channel: Channel, service: &str) -> ServingStatus {
    let status = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: service.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    ServingStatus::try_from(status).unwrap()
}

fn plaintext_config(dir: &Path) -> RelayConfig {
    RelayConfig {
        data_dir: dir.to_owned(),
        tls: TlsSetting::Plaintext,
        limits: unthrottled(),
        ..Default::default()
    }
}

#[tokio::test]
async fn health_and_reflection_answer() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = TestRelay::builder()
        .config(plaintext_config(dir.path()))
        .start();
    let channel = plain_channel(relay.addr()).await;
    for service in SERVICES {
        assert_eq!(
            health_status(channel.clone(), service).await,
            ServingStatus::Serving,
            "{service:?}"
        );
    }
    let unknown = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: "parley.v1.Nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);

    // grpcurl's `list`, then `describe parley.v1.Inbox`.
    let ask = |request| {
        let channel = channel.clone();
        async move {
            let mut responses = ServerReflectionClient::new(channel)
                .server_reflection_info(futures::stream::iter([ServerReflectionRequest {
                    host: String::new(),
                    message_request: Some(request),
                }]))
                .await
                .unwrap()
                .into_inner();
            responses
                .next()
                .await
                .unwrap()
                .unwrap()
                .message_response
                .unwrap()
        }
    };
    let MessageResponse::ListServicesResponse(list) =
        ask(MessageRequest::ListServices(String::new())).await
    else {
        panic!("not a service list");
    };
    let names: BTreeSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "parley.v1.Directory",
        "parley.v1.Inbox",
        "parley.v1.Groups",
        "grpc.health.v1.Health",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
    let MessageResponse::FileDescriptorResponse(files) = ask(MessageRequest::FileContainingSymbol(
        "parley.v1.Inbox".into(),
    ))
    .await
    else {
        panic!("not a file descriptor");
    };
    assert!(files
        .file_descriptor_proto
        .iter()
        .any(|file| file.windows(b"Deposit".len()).any(|w| w == b"Deposit")));

    // The older v1alpha protocol that some tools still speak.
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient as Alpha;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest as AlphaRequest;
    let mut alpha = Alpha::new(channel.clone())
        .server_reflection_info(futures::stream::iter([
            tonic_reflection::pb::v1alpha::ServerReflectionRequest {
                host: String::new(),
                message_request: Some(AlphaRequest::ListServices(String::new())),
            },
        ]))
        .await
        .unwrap()
        .into_inner();
    assert!(alpha.next().await.unwrap().is_ok());

    relay.stop().await;
}

/// Deposits unique envelopes to `handle` as fast as it can on its own connection until a
/// call fails with anything but RESOURCE_EXHAUSTED; records each tag whose call returned OK.
fn depositor(addr: SocketAddr, worker: u64, acked: Arc<Mutex<BTreeSet<u64>>>) -> JoinHandle<u64> {
    tokio::spawn(async move {
        let mut inbox = InboxClient::new(plain_channel(addr).await);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut attempts = 0;
        for seq in 0u64.. {
            if Instant::now() > deadline {
                break;
            }
            let tag = (worker << 32) | seq;
            let mut envelope = vec![0u8; 256];
            envelope[..8].copy_from_slice(&tag.to_be_bytes());
            attempts += 1;
            match inbox
                .deposit(DepositRequest {
                    handle: "bob".into(),
                    envelope,
                })
                .await
            {
                Ok(_) => {
                    acked.lock().unwrap().insert(tag);
                }
                Err(status) if status.code() == Code::ResourceExhausted => {}
                Err(_) => break,
            }
        }
        attempts
    })
}

/// Waits until `count` deposits have been acknowledged.
async fn wait_for_deposits(acked: &Mutex<BTreeSet<u64>>, count: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < count {
        assert!(
            Instant::now() < deadline,
            "deposits are not getting through"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Every envelope tag in bob's inbox, read page by page (fetch, then ack what was read).
async fn stored_tags(addr: SocketAddr, bob: &User) -> BTreeSet<u64> {
    let channel = plain_channel(addr).await;
    let mut directory = DirectoryClient::new(channel.clone());
    let mut inbox = InboxClient::new(channel);
    let mut tags = BTreeSet::new();
    loop {
        let auth = bob
            .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(500))
            .await;
        let page = inbox
            .fetch(FetchRequest {
                handle: "bob".into(),
                limit: 500,
                auth: Some(auth),
            })
            .await
            .unwrap()
            .into_inner()
            .deliveries;
        if page.is_empty() {
            return tags;
        }
        let ids: Vec<u64> = page.iter().map(|d| d.id).collect();
        for delivery in page {
            let tag = u64::from_be_bytes(delivery.envelope[..8].try_into().unwrap());
            assert!(tags.insert(tag), "tag {tag:#x} delivered twice");
        }
        let auth = bob
            .owner_auth(&mut directory, OwnerMethod::Ack, body::ack(&ids))
            .await;
        inbox
            .ack(AckRequest {
                handle: "bob".into(),
                ids,
                auth: Some(auth),
            })
            .await
            .unwrap();
    }
}

/// Opens the data directory again and checks that every acknowledged deposit is there.
async fn assert_all_acknowledged_present(dir: &Path, bob: &User, acked: &BTreeSet<u64>) {
    let mut relay = TestRelay::builder().config(plaintext_config(dir)).start();
    let stored = stored_tags(relay.addr(), bob).await;
    let missing: Vec<_> = acked.difference(&stored).collect();
    assert!(
        missing.is_empty(),
        "{} of {} acknowledged deposits lost, e.g. {:#x?}",
        missing.len(),
        acked.len(),
        &missing[..missing.len().min(5)]
    );
    relay.stop().await;
}

/// Opens a health watch on the whole server; returns the statuses it reported until it
/// ended, and whether it ended cleanly.
fn watch_health(channel: Channel) -> JoinHandle<(Vec<ServingStatus>, bool)> {
    tokio::spawn(async move {
        let mut stream = HealthClient::new(channel)
            .watch(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout(Duration::from_secs(60), stream.message()).await {
                Ok(Ok(Some(update))) => seen.push(ServingStatus::try_from(update.status).unwrap()),
                Ok(Ok(None)) => return (seen, true),
                Ok(Err(_)) | Err(_) => return (seen, false),
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graceful_shutdown_loses_no_acknowledged_deposit() {
    let dir = tempfile::tempdir().unwrap();
    let config = RelayConfig {
        shutdown_grace: Duration::from_millis(400),
        ..plaintext_config(dir.path())
    };
    let mut relay = TestRelay::builder().config(config).start();
    let addr = relay.addr();
    let bob = User::new("bob");
    let channel = plain_channel(addr).await;
    let mut directory = DirectoryClient::new(channel.clone());
    bob.register(&mut directory).await;

    // An open subscription, which must end cleanly rather than hold up the shutdown.
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let mut subscription = InboxClient::new(channel.clone())
        .subscribe(SubscribeInboxRequest {
            handle: "bob".into(),
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner();
    let subscriber = tokio::spawn(async move {
        let mut received = 0u64;
        loop {
            match tokio::time::timeout(Duration::from_secs(60), subscription.message()).await {
                Ok(Ok(Some(_))) => received += 1,
                Ok(Ok(None)) => return (received, true),
                Ok(Err(_)) | Err(_) => return (received, false),
            }
        }
    });
    let watcher = watch_health(channel.clone());

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let workers: Vec<_> = (0..4).map(|w| depositor(addr, w, acked.clone())).collect();
    // Let deposits flow, then ask the relay to stop while they continue.
    wait_for_deposits(&acked, 200).await;
    relay.signal_stop();

    // During the grace period a fresh connection is told NOT_SERVING.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let probe = plain_channel(addr).await;
    for service in SERVICES {
        assert_eq!(
            health_status(probe.clone(), service).await,
            ServingStatus::NotServing
        );
    }
    relay.stop().await;

    let mut attempts = 0;
    for worker in workers {
        attempts += worker.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() as u64 + 4 >= attempts,
        "only failures at the very end are expected"
    );
    let (statuses, watch_clean) = watcher.await.unwrap();
    assert_eq!(
        statuses,
        vec![ServingStatus::Serving, ServingStatus::NotServing]
    );
    assert!(watch_clean, "the health watch did not end cleanly");
    let (received, subscription_clean) = subscriber.await.unwrap();
    assert!(subscription_clean, "the subscription did not end cleanly");
    assert!(received > 0);

    // New calls are refused once the relay has stopped.
    let refused = Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await;
    assert!(refused.is_err());

    assert_all_acknowledged_present(dir.path(), &bob, &acked).await;
}

/// The relay binary, started with flags, its address read from its first line.
struct Binary {
    child: Child,
    addr: SocketAddr,
    first_lines: Vec<String>,
}

impl Binary {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Binary {
        let mut command = Command::new(env!("CARGO_BIN_EXE_parley-relay"));
        command
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null());
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first_lines = Vec::new();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .split_whitespace()
            .find_map(|word| word.parse::<SocketAddr>().ok())
            .unwrap_or_else(|| panic!("no address in {line:?}"));
        first_lines.push(line);
        // TLS relays print the fingerprint and the pinning hint next.
        if first_lines[0].contains("(TLS)") {
            for _ in 0..2 {
                let mut next = String::new();
                stdout.read_line(&mut next).unwrap();
                first_lines.push(next);
            }
        }
        // Keep draining stdout so the relay never blocks on a full pipe.
        std::thread::spawn(move || {
            let mut rest = String::new();
            let _ = stdout.read_to_string(&mut rest);
        });
        Binary {
            child,
            addr,
            first_lines,
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits for the process to exit; returns whether it succeeded and its stderr.
    fn wait(mut self) -> (bool, String) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                self.child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut stderr)
                    .unwrap();
                return (status.success(), stderr);
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the relay did not exit after the signal");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_to_the_binary_drains_and_keeps_every_acknowledged_deposit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let binary = Binary::start(
        &[
            "--plaintext",
            "--listen",
            "127.0.0.1:0",
            "--data",
            data,
            "--log-format",
            "json",
        ],
        &[
            ("PARLEY_RELAY_SHUTDOWN_GRACE", "300ms"),
            ("PARLEY_RELAY_LIMITS_SOURCE_REQUESTS_PER_SECOND", "0"),
            ("PARLEY_RELAY_LIMITS_INBOX_MAX_MESSAGES", "1000000"),
        ],
    );
    let addr = binary.addr;
    let bob = User::new("bob");
    let channel = plain_channel(addr).await;
    bob.register(&mut DirectoryClient::new(channel.clone()))
        .await;
    let watcher = watch_health(channel.clone());

    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let workers: Vec<_> = (0..4).map(|w| depositor(addr, w, acked.clone())).collect();
    wait_for_deposits(&acked, 200).await;
    binary.signal("TERM");
    for worker in workers {
        worker.await.unwrap();
    }
    let (succeeded, stderr) = tokio::task::spawn_blocking(move || binary.wait())
        .await
        .unwrap();
    assert!(succeeded, "the relay exited with an error:\n{stderr}");
    let (statuses, watch_clean) = watcher.await.unwrap();
    assert_eq!(
        statuses,
        vec![ServingStatus::Serving, ServingStatus::NotServing]
    );
    assert!(watch_clean);

    // JSON logs, one object a line, that never name a handle or an address.
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!lines.is_empty());
    for line in &lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON log line: {line}"));
        assert!(event.get("level").is_some(), "{line}");
        assert!(
            !line.contains("127.0.0.1"),
            "an address in the logs: {line}"
        );
        assert!(!line.contains("bob"), "a handle in the logs: {line}");
    }
    assert!(lines.iter().any(|l| l.contains("shutting down")));

    let acked = acked.lock().unwrap().clone();
    assert_all_acknowledged_present(dir.path(), &bob, &acked).await;
}

#[test]
fn human_logs_to_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    // An empty NO_COLOR counts as unset, so only the terminal check can turn colour off.
    let binary = Binary::start(
        &["--plaintext", "--listen", "127.0.0.1:0", "--data", data],
        &[("NO_COLOR", "")],
    );
    binary.signal("TERM");
    let (succeeded, stderr) = binary.wait();
    assert!(succeeded, "the relay exited with an error:\n{stderr}");
    assert!(
        stderr.contains("relay serving"),
        "no startup line in:\n{stderr}"
    );
    assert!(
        stderr.contains("relay stopped"),
        "no stop line in:\n{stderr}"
    );
    assert!(
        !stderr.contains("\x1b["),
        "ANSI escape sequences in a piped log:\n{stderr:?}"
    );
}

/// Copies the self-signed certificate and key of a fresh relay in `from` over those in `to`.
fn replace_certificate(to: &Path, from: &Path) -> String {
    let fresh = Relay::open(RelayConfig {
        data_dir: from.to_owned(),
        tls: TlsSetting::SelfSigned,
        ..Default::default()
    })
    .unwrap();
    let fingerprint = fresh.tls_fingerprint().unwrap();
    drop(fresh);
    // Key first, as the relay itself writes them.
    std::fs::copy(from.join("tls/key.pem"), to.join("tls/key.pem")).unwrap();
    std::fs::copy(from.join("tls/cert.pem"), to.join("tls/cert.pem")).unwrap();
    fingerprint
}

async fn lookup_works(channel: Channel) -> bool {
    let result = DirectoryClient::new(channel)
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await;
    // NOT_FOUND comes from the relay itself, so the call went through.
    match result {
        Ok(_) => true,
        Err(status) => status.code() == Code::NotFound,
    }
}

#[tokio::test]
async fn tls_reload_keeps_open_connections_and_presents_the_new_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let mut relay = TestRelay::builder().data_dir(dir.path()).start();
    let reloader = relay.tls_reloader().unwrap();
    let old_fingerprint = reloader.fingerprint();
    let old_pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();

    let open = tls_channel(relay.addr(), &old_pem).await.unwrap();
    User::new("alice")
        .register(&mut DirectoryClient::new(open.clone()))
        .await;
    assert!(lookup_works(open.clone()).await);

    let new_fingerprint = replace_certificate(dir.path(), other.path());
    assert_eq!(reloader.reload().unwrap(), new_fingerprint);
    assert_ne!(new_fingerprint, old_fingerprint);
    assert_eq!(reloader.fingerprint(), new_fingerprint);
    let new_pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();

    // The connection opened before the reload keeps working (a reconnect would fail, since
    // it trusts only the old certificate).
    for _ in 0..3 {
        assert!(lookup_works(open.clone()).await);
    }
    // New connections get the new certificate.
    let trusting_old = match tls_channel(relay.addr(), &old_pem).await {
        Ok(channel) => lookup_works(channel).await,
        Err(_) => false,
    };
    assert!(
        !trusting_old,
        "a new connection still got the old certificate"
    );
    let fresh = tls_channel(relay.addr(), &new_pem).await.unwrap();
    assert!(lookup_works(fresh).await);

    // A broken file fails the reload and keeps the current certificate.
    std::fs::write(dir.path().join("tls/cert.pem"), b"not a certificate").unwrap();
    assert!(reloader.reload().is_err());
    assert_eq!(reloader.fingerprint(), new_fingerprint);
    let still = tls_channel(relay.addr(), &new_pem).await.unwrap();
    assert!(lookup_works(still).await);
    assert!(lookup_works(open).await);

    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_binary_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let other = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let binary = Binary::start(&["--listen", "127.0.0.1:0", "--data", data], &[]);
    let old_pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    let printed = binary.first_lines.join("");
    let open = tls_channel(binary.addr, &old_pem).await.unwrap();
    assert!(lookup_works(open.clone()).await);

    let new_fingerprint = replace_certificate(dir.path(), other.path());
    assert!(!printed.contains(&new_fingerprint));
    let new_pem = std::fs::read(dir.path().join("tls/cert.pem")).unwrap();
    binary.signal("HUP");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(channel) = tls_channel(binary.addr, &new_pem).await {
            if lookup_works(channel).await {
                break;
            }
        }
        assert!(
            Instant::now() < deadline,
            "SIGHUP did not reload the certificate"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(lookup_works(open).await, "the open connection was dropped");

    binary.signal("TERM");
    let (succeeded, stderr) = tokio::task::spawn_blocking(move || binary.wait())
        .await
        .unwrap();
    assert!(succeeded, "{stderr}");
    assert!(
        stderr.contains(&new_fingerprint),
        "reload not logged:\n{stderr}"
    );
}
