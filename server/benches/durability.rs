//! What durability costs: Inbox.Deposit over real gRPC on loopback, 64 requests in flight,
//! 1 KiB envelopes, against three relays in one process that differ only in their flush
//! policy: (a) group commit as shipped, (b) no flushing, (c) a flush per write.
//!
//! `cargo bench -p parley-relay --bench durability` measures each policy for
//! `PARLEY_BENCH_SECONDS` (default 6) in one-second windows taken in turn (a, b, c, a, b, c,
//! ...), so that a change in machine load hits all three alike, and prints requests per second
//! and the ratios a/b and a/c. Run without `--bench` (as `cargo test --benches` does) it only
//! checks that every policy serves deposits, for a fraction of a second each.
//!
//! The relays run on a runtime of their own built like the binary's (`Runtime::new()`), the
//! load generator on another, as if it were a separate process.

// A benchmark binary: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::DepositRequest;
use parley_relay::{FlushPolicy, LimitsConfig, Relay, RelayConfig, TlsSetting};
use support::register;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

/// Requests in flight at any moment.
const IN_FLIGHT: usize = 64;
/// HTTP/2 connections the requests are spread over, as from several clients.
const CONNECTIONS: usize = 8;
/// Envelope size.
const ENVELOPE_LEN: usize = 1024;

/// How long to measure.
struct Plan {
    /// Windows per policy.
    rounds: u32,
    /// Load before each window starts counting.
    warm_up: Duration,
    /// One counted window.
    window: Duration,
}

impl Plan {
    fn from_args() -> Plan {
        if std::env::args().any(|arg| arg == "--bench") {
            let seconds = std::env::var("PARLEY_BENCH_SECONDS")
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(6)
                .max(1);
            Plan {
                rounds: seconds,
                warm_up: Duration::from_millis(300),
                window: Duration::from_secs(1),
            }
        } else {
            Plan {
                rounds: 1,
                warm_up: Duration::from_millis(50),
                window: Duration::from_millis(150),
            }
        }
    }
}

/// One relay under test, serving on the server runtime.
struct Subject {
    name: &'static str,
    policy: FlushPolicy,
    addr: SocketAddr,
    handles: Vec<String>,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), parley_relay::RelayError>>,
    _dir: tempfile::TempDir,
    completed: u64,
    elapsed: Duration,
}

fn main() {
    let plan = Plan::from_args();
    let server_runtime = Runtime::new().unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let mut subjects: Vec<Subject> = [
        ("(a) group commit", FlushPolicy::GroupCommit),
        ("(b) no flush", FlushPolicy::Disabled),
        ("(c) flush per write", FlushPolicy::PerWrite),
    ]
    .into_iter()
    .map(|(name, policy)| {
        let subject = start(&server_runtime, name, policy);
        client_runtime.block_on(register_all(subject))
    })
    .collect();

    for _ in 0..plan.rounds {
        for subject in &mut subjects {
            let (completed, elapsed) = client_runtime.block_on(load(subject, &plan));
            subject.completed += completed;
            subject.elapsed += elapsed;
        }
    }

    let mut rates = Vec::new();
    for subject in subjects {
        let rate = subject.completed as f64 / subject.elapsed.as_secs_f64();
        println!("deposit {:<22} {rate:>10.0} req/s", subject.name);
        assert!(rate > 0.0, "{}: no deposit succeeded", subject.name);
        rates.push(rate);
        let _ = subject.stop.send(());
        server_runtime.block_on(subject.server).unwrap().unwrap();
    }
    let (a, b, c) = (rates[0], rates[1], rates[2]);
    println!(
        "deposit a/b = {:.1}% (target >= 75%), a/c = {:.2}x  [{IN_FLIGHT} in flight over \
         {CONNECTIONS} connections, {ENVELOPE_LEN} B envelopes, {} x {:?} per policy]",
        100.0 * a / b,
        a / c,
        plan.rounds,
        plan.window
    );
}

/// Opens a relay with `policy` in a fresh directory and serves it on `runtime`.
fn start(runtime: &Runtime, name: &'static str, policy: FlushPolicy) -> Subject {
    let dir = tempfile::tempdir().unwrap();
    let relay = Relay::open(RelayConfig {
        data_dir: dir.path().to_owned(),
        tls: TlsSetting::Plaintext,
        flush: policy,
        // Every request comes from 127.0.0.1: per-source limiting would measure the limiter.
        limits: LimitsConfig {
            source_requests_per_second: 0,
            ..Default::default()
        },
        ..Default::default()
    })
    .unwrap();
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let server = runtime.spawn(relay.serve(listener, async move {
        let _ = stopped.await;
    }));
    Subject {
        name,
        policy,
        addr,
        handles: Vec::new(),
        stop,
        server,
        _dir: dir,
        completed: 0,
        elapsed: Duration::ZERO,
    }
}

async fn connect(addr: SocketAddr) -> Channel {
    Channel::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Registers one handle per request in flight, so every inbox stays far below its quota.
async fn register_all(mut subject: Subject) -> Subject {
    let mut directory = DirectoryClient::new(connect(subject.addr).await);
    for i in 0..IN_FLIGHT {
        let handle = format!("bench{i:02}");
        register(&mut directory, &handle).await;
        subject.handles.push(handle);
    }
    subject
}

/// Keeps `IN_FLIGHT` deposits in flight for a warm-up and a window; returns the deposits
/// completed in the window and its exact length.
async fn load(subject: &Subject, plan: &Plan) -> (u64, Duration) {
    let mut channels = Vec::new();
    for _ in 0..CONNECTIONS {
        channels.push(connect(subject.addr).await);
    }
    let measuring = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for (i, handle) in subject.handles.iter().enumerate() {
        let mut inbox = InboxClient::new(channels[i % CONNECTIONS].clone());
        let handle = handle.clone();
        let (measuring, stopping, completed) =
            (measuring.clone(), stopping.clone(), completed.clone());
        let policy = subject.policy;
        workers.push(tokio::spawn(async move {
            let envelope = vec![0xa5u8; ENVELOPE_LEN];
            while !stopping.load(Ordering::Relaxed) {
                if let Err(status) = inbox
                    .deposit(DepositRequest {
                        handle: handle.clone(),
                        envelope: envelope.clone(),
                    })
                    .await
                {
                    panic!("{policy:?}: deposit failed: {status:?}");
                }
                if measuring.load(Ordering::Relaxed) {
                    completed.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    tokio::time::sleep(plan.warm_up).await;
    measuring.store(true, Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(plan.window).await;
    let done = completed.load(Ordering::Relaxed);
    let elapsed = start.elapsed();
    stopping.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.await.unwrap();
    }
    (done, elapsed)
}
