//! What the PostgreSQL store costs and buys (issue 15), in one run against its baselines:
//!
//! - **Throughput**: `Inbox.Deposit` and `Groups.Post` accepted per second with 64 requests in
//!   flight over 8 connections (1 KiB envelopes and entries, 64 inboxes and 64 groups so that
//!   no one row is the bottleneck), on (a) one relay on sled, (b) one relay node on
//!   PostgreSQL, (c) two relay nodes on the same PostgreSQL database, each request going to
//!   node `i % 2`. Ratios b/a (what the database costs one node) and c/b (what a second node
//!   adds). One-second windows are taken in turn (a, b, c, a, b, c, ...) so that the
//!   machine's load hits all three alike.
//! - **Delivery latency**: from the call of `Groups.Post` to the `GroupNotice` reaching a
//!   subscriber, posts one at a time: posted on the subscriber's own node vs on the other
//!   node (LISTEN/NOTIFY in between), with one relay on sled as the reference; p50 and p99
//!   over `PARLEY_BENCH_POSTS` posts (default 300), the three interleaved post by post.
//!
//! Every relay runs plaintext on 127.0.0.1 (TLS costs both stores alike and would only
//! dilute the ratios), on one server runtime built like the binary's; the load generator
//! has a runtime of its own. The database is the PostgreSQL server of `PARLEY_TEST_POSTGRES`
//! (default: the local one), in a scratch database dropped afterwards; on this machine kind
//! it shares the two cores with the relays and the load, as a small deployment's would not.
//!
//! `cargo bench -p parley-relay --bench store_nodes` (`PARLEY_BENCH_SECONDS`, default 6
//! windows per subject and workload). Without `--bench` (as `cargo test --benches` runs it)
//! it only checks, briefly, that every subject serves; without a PostgreSQL server it says so
//! and stops. `PARLEY_BENCH_ONLY=b-deposit` (subject letter, workload) runs one load alone,
//! for a profiler.

// A benchmark binary: a failed setup step should stop it loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, group_transcript, GroupMethod};
use parley_crypto::padding;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{
    CreateGroupRequest, DepositRequest, GroupAuth, GroupSubscription, PostRequest,
    SubscribeGroupsRequest,
};
use parley_relay::{LimitsConfig, Relay, RelayConfig, StoreSetting, TlsSetting};
use parley_testkit::postgres::{scratch_database, ScratchDatabase};
use rand::rngs::OsRng;
use rand::RngCore;
use support::{now_ms, register};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// Requests in flight at any moment.
const IN_FLIGHT: usize = 64;
/// HTTP/2 connections the requests are spread over, as from several clients.
const CONNECTIONS: usize = 8;
/// Envelope size; group entries are padded to the same bucket.
const PAYLOAD_LEN: usize = 1024;

/// How long to measure.
struct Plan {
    rounds: u32,
    warm_up: Duration,
    window: Duration,
    posts: usize,
}

impl Plan {
    fn from_args() -> Plan {
        let env = |name: &str, default: u32| {
            std::env::var(name)
                .ok()
                .and_then(|s| s.parse::<u32>().ok())
                .unwrap_or(default)
                .max(1)
        };
        if std::env::args().any(|arg| arg == "--bench") {
            Plan {
                rounds: env("PARLEY_BENCH_SECONDS", 6),
                warm_up: Duration::from_millis(300),
                window: Duration::from_secs(1),
                posts: env("PARLEY_BENCH_POSTS", 300) as usize,
            }
        } else {
            Plan {
                rounds: 1,
                warm_up: Duration::from_millis(50),
                window: Duration::from_millis(150),
                posts: 5,
            }
        }
    }
}

/// A relay serving on the server runtime.
struct Node {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), parley_relay::RelayError>>,
    _dir: tempfile::TempDir,
}

/// One or more nodes sharing a store, with what the load needs on it.
struct Subject {
    name: &'static str,
    nodes: Vec<Node>,
    handles: Vec<String>,
    groups: Vec<([u8; 32], Arc<AccessKey>)>,
    deposits: Tally,
    posts: Tally,
}

#[derive(Default)]
struct Tally {
    completed: u64,
    elapsed: Duration,
}

impl Tally {
    fn rate(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }
}

#[derive(Clone, Copy, Debug)]
enum Workload {
    Deposit,
    Post,
}

fn main() {
    let plan = Plan::from_args();
    let server_runtime = Runtime::new().unwrap();
    let client_runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some((url, database)) = client_runtime.block_on(scratch_database()) else {
        println!("store_nodes: no PostgreSQL server; nothing measured");
        return;
    };
    let postgres = StoreSetting::Postgres(url);
    let mut subjects = vec![
        start(&server_runtime, "(a) 1 node, sled", &[StoreSetting::Sled]),
        start(
            &server_runtime,
            "(b) 1 node, PostgreSQL",
            std::slice::from_ref(&postgres),
        ),
        start(
            &server_runtime,
            "(c) 2 nodes, PostgreSQL",
            &[postgres.clone(), postgres],
        ),
    ];
    // (b) and (c) share the database: each prepares its own handles and groups.
    for (i, subject) in subjects.iter_mut().enumerate() {
        client_runtime.block_on(prepare(subject, i));
    }

    // For a profiler: `PARLEY_BENCH_ONLY=b-deposit` loads only subject (b) with deposits,
    // for the windows asked, and measures nothing else.
    let only = std::env::var("PARLEY_BENCH_ONLY").ok();
    if let Some(only) = &only {
        for _ in 0..plan.rounds {
            for subject in &subjects {
                for workload in [Workload::Deposit, Workload::Post] {
                    let name = format!("{}-{workload:?}", &subject.name[1..2]).to_lowercase();
                    if name == *only {
                        let (done, elapsed) =
                            client_runtime.block_on(load(subject, workload, &plan));
                        println!("{name}: {:.0}/s", done as f64 / elapsed.as_secs_f64());
                    }
                }
            }
        }
        return;
    }
    for _ in 0..plan.rounds {
        for workload in [Workload::Deposit, Workload::Post] {
            for subject in &mut subjects {
                let (completed, elapsed) = client_runtime.block_on(load(subject, workload, &plan));
                let tally = match workload {
                    Workload::Deposit => &mut subject.deposits,
                    Workload::Post => &mut subject.posts,
                };
                tally.completed += completed;
                tally.elapsed += elapsed;
            }
        }
    }
    println!(
        "throughput: {IN_FLIGHT} in flight over {CONNECTIONS} connections, {PAYLOAD_LEN} B, \
         {} x {:?} per subject and workload",
        plan.rounds, plan.window
    );
    for subject in &subjects {
        println!(
            "  {:<26} deposits {:>8.0}/s   posts {:>8.0}/s",
            subject.name,
            subject.deposits.rate(),
            subject.posts.rate()
        );
        assert!(subject.deposits.rate() > 0.0 && subject.posts.rate() > 0.0);
    }
    let (a, b, c) = (&subjects[0], &subjects[1], &subjects[2]);
    println!(
        "  deposits: b/a = {:.2}, c/b = {:.2};  posts: b/a = {:.2}, c/b = {:.2}",
        b.deposits.rate() / a.deposits.rate(),
        c.deposits.rate() / b.deposits.rate(),
        b.posts.rate() / a.posts.rate(),
        c.posts.rate() / b.posts.rate(),
    );

    let latencies = client_runtime.block_on(latency(&subjects, plan.posts));
    println!(
        "delivery latency, post call to notice at the subscriber ({} posts each):",
        plan.posts
    );
    for (name, samples) in &latencies {
        println!(
            "  {name:<36} p50 {:>8.2} ms   p99 {:>8.2} ms",
            percentile(samples, 0.50),
            percentile(samples, 0.99)
        );
    }
    let (same, cross) = (&latencies[1].1, &latencies[2].1);
    println!(
        "  cross-node / same-node on PostgreSQL: p50 {:.2}, p99 {:.2}",
        percentile(cross, 0.50) / percentile(same, 0.50),
        percentile(cross, 0.99) / percentile(same, 0.99)
    );

    for subject in subjects {
        for node in subject.nodes {
            let _ = node.stop.send(());
            server_runtime.block_on(node.server).unwrap().unwrap();
        }
    }
    drop::<ScratchDatabase>(database);
}

/// Starts one node per store setting, in fresh data directories.
fn start(runtime: &Runtime, name: &'static str, stores: &[StoreSetting]) -> Subject {
    let nodes = stores
        .iter()
        .map(|store| {
            let dir = tempfile::tempdir().unwrap();
            let relay = runtime
                .block_on(async {
                    Relay::open(RelayConfig {
                        data_dir: dir.path().to_owned(),
                        store: store.clone(),
                        tls: TlsSetting::Plaintext,
                        // All requests come from 127.0.0.1, and inboxes fill up without being
                        // read: per-source limiting and quotas would measure the limiter.
                        limits: LimitsConfig {
                            source_requests_per_second: 0,
                            inbox_max_messages: u64::MAX / 2,
                            inbox_max_bytes: u64::MAX / 2,
                            ..Default::default()
                        },
                        ..Default::default()
                    })
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
            Node {
                addr,
                stop,
                server,
                _dir: dir,
            }
        })
        .collect();
    Subject {
        name,
        nodes,
        handles: Vec::new(),
        groups: Vec::new(),
        deposits: Tally::default(),
        posts: Tally::default(),
    }
}

async fn connect(addr: SocketAddr) -> Channel {
    // Node start-up (migrations, the listener) may still be under way.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
        {
            Ok(channel) => return channel,
            Err(error) if Instant::now() > deadline => panic!("cannot reach {addr}: {error}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(20)).await,
        }
    }
}

/// Registers one handle and creates one group per request in flight.
async fn prepare(subject: &mut Subject, index: usize) {
    let channel = connect(subject.nodes[0].addr).await;
    let mut directory = DirectoryClient::new(channel.clone());
    let mut groups = GroupsClient::new(channel);
    for i in 0..IN_FLIGHT {
        let handle = format!("bench{index}x{i:02}");
        register(&mut directory, &handle).await;
        subject.handles.push(handle);
        let group = create_group(&mut groups).await;
        subject.groups.push(group);
    }
}

/// Keeps `IN_FLIGHT` requests of `workload` in flight for a warm-up and a window; returns
/// those completed in the window and its exact length.
async fn load(subject: &Subject, workload: Workload, plan: &Plan) -> (u64, Duration) {
    let mut channels = Vec::new();
    for i in 0..CONNECTIONS {
        channels.push(connect(subject.nodes[i % subject.nodes.len()].addr).await);
    }
    let measuring = Arc::new(AtomicBool::new(false));
    let stopping = Arc::new(AtomicBool::new(false));
    let completed = Arc::new(AtomicU64::new(0));
    let mut workers = Vec::new();
    for i in 0..IN_FLIGHT {
        let channel = channels[i % CONNECTIONS].clone();
        let handle = subject.handles[i].clone();
        let (group_id, key) = &subject.groups[i];
        let (group_id, key) = (*group_id, key.clone());
        let (measuring, stopping, completed) =
            (measuring.clone(), stopping.clone(), completed.clone());
        workers.push(tokio::spawn(async move {
            let mut inbox = InboxClient::new(channel.clone());
            let mut groups = GroupsClient::new(channel);
            let envelope = vec![0xa5u8; PAYLOAD_LEN];
            let entry = padding::pad(&[0xa5u8; PAYLOAD_LEN - 64], 0).unwrap();
            while !stopping.load(Ordering::Relaxed) {
                let result = match workload {
                    Workload::Deposit => inbox
                        .deposit(DepositRequest {
                            handle: handle.clone(),
                            envelope: envelope.clone(),
                        })
                        .await
                        .map(|_| ()),
                    Workload::Post => post(&mut groups, &group_id, &key, &entry).await,
                };
                if let Err(status) = result {
                    panic!("{workload:?} failed: {status:?}");
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

/// Post-to-notice latency in milliseconds: sled on one node, PostgreSQL posted on the
/// subscriber's node, PostgreSQL posted on the other node; interleaved post by post.
async fn latency(subjects: &[Subject], posts: usize) -> Vec<(&'static str, Vec<f64>)> {
    let cases = [
        ("sled, same node", &subjects[0], 0),
        ("PostgreSQL, same node", &subjects[2], 0),
        ("PostgreSQL, cross-node (2 -> 1)", &subjects[2], 1),
    ];
    let mut runs = Vec::new();
    for (name, subject, poster) in cases {
        let group =
            create_group(&mut GroupsClient::new(connect(subject.nodes[0].addr).await)).await;
        let mut subscriber = GroupsClient::new(connect(subject.nodes[0].addr).await);
        let notices = subscriber
            .subscribe(SubscribeGroupsRequest {
                groups: vec![GroupSubscription {
                    group_id: group.0.to_vec(),
                    epoch: 0,
                    auth: Some(auth(
                        &group.1,
                        GroupMethod::Subscribe,
                        &group.0,
                        body::empty(),
                    )),
                }],
            })
            .await
            .unwrap()
            .into_inner();
        let poster = GroupsClient::new(connect(subject.nodes[poster].addr).await);
        runs.push((name, group, notices, poster, Vec::with_capacity(posts)));
    }
    // Let every subscription take hold before the first post.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let entry = padding::pad(&[0x5au8; PAYLOAD_LEN - 64], 0).unwrap();
    for _ in 0..posts {
        for (_, (group_id, key), notices, poster, samples) in &mut runs {
            let start = Instant::now();
            post(poster, group_id, key, &entry).await.unwrap();
            let notice = tokio::time::timeout(Duration::from_secs(10), notices.next())
                .await
                .expect("a notice within 10 s")
                .expect("the subscription stays open")
                .unwrap();
            assert_eq!(notice.group_id, group_id.to_vec());
            samples.push(start.elapsed().as_secs_f64() * 1e3);
        }
    }
    runs.into_iter()
        .map(|(name, _, _, _, samples)| (name, samples))
        .collect()
}

fn percentile(samples: &[f64], q: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// Signs a group request of `method` at epoch 0 with a fresh nonce.
fn auth(key: &AccessKey, method: GroupMethod, group_id: &[u8; 32], digest: [u8; 32]) -> GroupAuth {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let timestamp_ms = now_ms();
    let transcript = group_transcript(method, group_id, 0, timestamp_ms, &nonce, &digest);
    GroupAuth {
        timestamp_ms,
        nonce: nonce.to_vec(),
        signature: key.sign(&transcript).to_vec(),
    }
}

/// Creates a fresh group at epoch 0 and returns its id and access key.
async fn create_group(groups: &mut GroupsClient<Channel>) -> ([u8; 32], Arc<AccessKey>) {
    let mut group_id = [0u8; 32];
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut group_id);
    OsRng.fill_bytes(&mut secret);
    let key = AccessKey::from_exporter_secret(&secret);
    let public = key.public_key().to_bytes();
    groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(auth(
                &key,
                GroupMethod::Create,
                &group_id,
                body::create(&public),
            )),
        })
        .await
        .unwrap();
    (group_id, Arc::new(key))
}

async fn post(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    key: &AccessKey,
    entry: &[u8],
) -> Result<(), tonic::Status> {
    groups
        .post(PostRequest {
            group_id: group_id.to_vec(),
            epoch: 0,
            message: entry.to_vec(),
            auth: Some(auth(key, GroupMethod::Post, group_id, body::post(entry))),
        })
        .await
        .map(|_| ())
}
