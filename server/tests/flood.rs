//! Flood test: a client flooding deposits and reads from 127.0.0.2 is refused with
//! RESOURCE_EXHAUSTED while a calm client on 127.0.0.1 keeps its latency, measured unloaded
//! and loaded in the same run, in alternating phases.
//!
//! The short form runs in CI: it asserts the refusals and reports the latency ratio without
//! asserting it (two shared CI cores make timing noisy). The long form asserts the ratio:
//! `cargo test --release -p parley-relay --test flood -- --ignored --nocapture`.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod limits_support;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::User;
use limits_support::{limited, percentile, CallCounts, FromSource, CALM, FLOODER};
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{DepositRequest, FetchRequest, LookupRequest};
use parley_relay::LimitsConfig;
use tonic::transport::Channel;
use tonic::transport::Endpoint;

/// How one flood run is shaped.
#[derive(Clone, Copy)]
struct Shape {
    /// Calm calls measured per phase (unloaded and loaded), over all rounds.
    samples: usize,
    /// Unloaded and loaded phases alternate this many times each, so that a change in the
    /// machine's load during the run hits both alike.
    rounds: usize,
    /// Time between the starts of two calm calls.
    pace: Duration,
    /// Flooding connections, and calls in flight on each.
    flood_connections: usize,
    flood_in_flight: usize,
}

/// What one run measured.
#[derive(Debug)]
struct Report {
    unloaded_p50: Duration,
    unloaded_p99: Duration,
    loaded_p50: Duration,
    loaded_p99: Duration,
    flood_ok: u64,
    flood_exhausted: u64,
    flood_other: u64,
    flood_secs: f64,
}

impl Report {
    fn ratio(&self) -> f64 {
        self.loaded_p99.as_secs_f64() / self.unloaded_p99.as_secs_f64()
    }

    fn print(&self) {
        let per_sec = |n: u64| n as f64 / self.flood_secs;
        println!(
            "flood: calm p50 {:?} -> {:?}, p99 {:?} -> {:?} (ratio {:.2}); flooder, per second of \
             the run: {:.0} calls, \
             {:.0}/s accepted, {:.0}/s RESOURCE_EXHAUSTED, {} other errors",
            self.unloaded_p50,
            self.loaded_p50,
            self.unloaded_p99,
            self.loaded_p99,
            self.ratio(),
            per_sec(self.flood_ok + self.flood_exhausted + self.flood_other),
            per_sec(self.flood_ok),
            per_sec(self.flood_exhausted),
            self.flood_other,
        );
    }
}

/// Every source may sustain 200 calls/s (burst 200): the calm client uses half of that, the
/// flooder tries for far more. Refusals are held 250 ms (the default).
fn limits() -> LimitsConfig {
    LimitsConfig {
        source_requests_per_second: 200,
        source_burst: 200,
        ..LimitsConfig::default()
    }
}

/// The calm client's calls, alternating a 1 KiB deposit and a directory lookup, paced; returns
/// each call's latency.
async fn calm_calls(
    directory: &mut DirectoryClient<Channel>,
    inbox: &mut InboxClient<Channel>,
    shape: &Shape,
) -> Vec<Duration> {
    let mut latencies = Vec::with_capacity(shape.samples);
    let mut ticks = tokio::time::interval(shape.pace);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    for i in 0..shape.samples {
        ticks.tick().await;
        let started = Instant::now();
        if i % 2 == 0 {
            inbox
                .deposit(DepositRequest {
                    handle: "calm".into(),
                    envelope: vec![1; 1024],
                })
                .await
                .unwrap();
        } else {
            directory
                .lookup(LookupRequest {
                    handle: "calm".into(),
                })
                .await
                .unwrap();
        }
        latencies.push(started.elapsed());
    }
    latencies
}

/// Turns the flooder on and off between phases, and stops it.
#[derive(Default)]
struct FloodSwitch {
    on: AtomicBool,
    stop: AtomicBool,
}

/// One flooding task: deposits into its owner's inbox and fetches it, as fast as it can.
async fn flood(
    channel: Channel,
    owner: Arc<User>,
    counts: Arc<CallCounts>,
    switch: Arc<FloodSwitch>,
) {
    let mut directory = DirectoryClient::new(channel.clone());
    let mut inbox = InboxClient::new(channel);
    while !switch.stop.load(Ordering::Relaxed) {
        if !switch.on.load(Ordering::Relaxed) {
            tokio::time::sleep(Duration::from_millis(5)).await;
            continue;
        }
        let deposited = inbox
            .deposit(DepositRequest {
                handle: "flooder".into(),
                envelope: vec![2; 1024],
            })
            .await;
        counts.count(&deposited);
        let challenge = directory
            .challenge(parley_proto::v1::ChallengeRequest {
                handle: owner.handle.as_str().to_owned(),
            })
            .await;
        counts.count(&challenge);
        let Ok(challenge) = challenge else { continue };
        let challenge: [u8; 32] = challenge.into_inner().challenge.try_into().unwrap();
        let auth = owner.sign_owner(OwnerMethod::Fetch, challenge, body::fetch(10));
        let fetched = inbox
            .fetch(FetchRequest {
                handle: "flooder".into(),
                limit: 10,
                auth: Some(auth),
            })
            .await;
        counts.count(&fetched);
    }
}

async fn run(shape: Shape, limits: LimitsConfig) -> Report {
    let mut relay = limited(limits);
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    User::new("calm").register(&mut directory).await;
    let flooder = Arc::new(User::new("flooder"));
    flooder.register(&mut directory).await;

    // Warm up connections and the database, then let the calm bucket refill.
    calm_calls(
        &mut directory,
        &mut inbox,
        &Shape {
            samples: 20,
            ..shape
        },
    )
    .await;
    let counts = Arc::new(CallCounts::default());
    let switch = Arc::new(FloodSwitch::default());
    // The flooder is another program: its own thread and runtime, its own connections.
    let flooding = std::thread::spawn({
        let (addr, counts, switch, flooder) =
            (relay.addr(), counts.clone(), switch.clone(), flooder);
        move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let mut tasks = Vec::new();
                for _ in 0..shape.flood_connections {
                    let channel = Endpoint::from_shared(format!("http://{addr}"))
                        .unwrap()
                        .local_address(Some(FLOODER))
                        .connect()
                        .await
                        .unwrap();
                    for _ in 0..shape.flood_in_flight {
                        tasks.push(tokio::spawn(flood(
                            channel.clone(),
                            flooder.clone(),
                            counts.clone(),
                            switch.clone(),
                        )));
                    }
                }
                for task in tasks {
                    task.await.unwrap();
                }
            });
        }
    });
    let flood_started = Instant::now();
    let slice = Shape {
        samples: shape.samples / shape.rounds,
        ..shape
    };
    let (mut unloaded, mut loaded) = (Vec::new(), Vec::new());
    for _ in 0..shape.rounds {
        // Quiet: the flooder's held refusals (250 ms) are answered, the calm bucket refills.
        switch.on.store(false, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(1)).await;
        unloaded.extend(calm_calls(&mut directory, &mut inbox, &slice).await);
        // Flooding: let the flooder spend its refilled burst and reach its steady state.
        switch.on.store(true, Ordering::Relaxed);
        tokio::time::sleep(Duration::from_secs(2)).await;
        loaded.extend(calm_calls(&mut directory, &mut inbox, &slice).await);
    }
    switch.stop.store(true, Ordering::Relaxed);
    tokio::task::spawn_blocking(move || flooding.join().unwrap())
        .await
        .unwrap();
    let flood_secs = flood_started.elapsed().as_secs_f64();
    relay.stop().await;

    Report {
        unloaded_p50: percentile(&mut unloaded, 50.0),
        unloaded_p99: percentile(&mut unloaded, 99.0),
        loaded_p50: percentile(&mut loaded, 50.0),
        loaded_p99: percentile(&mut loaded, 99.0),
        flood_ok: counts.ok.load(Ordering::Relaxed),
        flood_exhausted: counts.exhausted.load(Ordering::Relaxed),
        flood_other: counts.other.load(Ordering::Relaxed),
        flood_secs,
    }
}

fn check_refusals(report: &Report) {
    // Held refusals slow the flooder down to a few refusals per call in flight and second,
    // so most of its calls are refused only while it keeps within reach of its allowance.
    assert!(
        report.flood_exhausted >= 50,
        "the flooder was hardly refused: {report:?}"
    );
    assert_eq!(report.flood_other, 0, "{report:?}");
    // The flooder got no more than its allowance: its burst plus its rate, with slack for
    // calls in flight when a phase switches.
    let allowance = 200.0 + 200.0 * report.flood_secs;
    assert!(
        (report.flood_ok as f64) <= allowance * 1.1,
        "the flooder got more than its allowance: {report:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooder_is_refused_while_a_calm_client_keeps_its_latency() {
    let shape = Shape {
        samples: 300,
        rounds: 2,
        pace: Duration::from_millis(10),
        flood_connections: 2,
        flood_in_flight: 8,
    };
    let report = run(shape, limits()).await;
    report.print();
    check_refusals(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long form (about two minutes); run with --release -- --ignored"]
async fn long_flood_keeps_calm_p99_within_twice_unloaded() {
    let shape = Shape {
        samples: 3000,
        rounds: 6,
        pace: Duration::from_millis(10),
        flood_connections: 4,
        flood_in_flight: 8,
    };
    // For comparison, refusals answered at once: the flooder then makes the relay parse tens
    // of thousands of calls per second, which on two shared cores costs the calm client its
    // latency. Reported, not asserted.
    let immediate = run(
        shape,
        LimitsConfig {
            refusal_delay_ms: 0,
            ..limits()
        },
    )
    .await;
    print!("without holding refusals: ");
    immediate.print();
    check_refusals(&immediate);

    let report = run(shape, limits()).await;
    print!("as configured by default: ");
    report.print();
    check_refusals(&report);
    assert!(
        report.ratio() <= 2.0,
        "calm p99 {:?} loaded vs {:?} unloaded",
        report.loaded_p99,
        report.unloaded_p99
    );
}
