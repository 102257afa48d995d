//! Fair shares: four flooding sources (127.0.0.2 to .5) take every subscription slot they
//! can, ask for challenges in the calm user's name and their own, and deposit and look up as
//! fast as they may, while a calm client on 127.0.0.1 keeps making owner calls, holds its
//! subscription and has its deliveries pushed. Each flooder gets only its share of every
//! pool, so the calm client is never refused; its owner-call latency is measured unloaded and
//! loaded in the same run (reported; the ratio is asserted only in the long form:
//! `cargo test --release -p parley-relay --test fair_share -- --ignored --nocapture`).

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod limits_support;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::User;
use limits_support::{limited, percentile, CallCounts, FromSource, CALM};
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{
    ChallengeRequest, DepositRequest, FetchRequest, LookupRequest, SubscribeInboxRequest,
};
use parley_relay::LimitsConfig;
use parley_testkit::TestRelay;
use tokio_stream::StreamExt;
use tonic::transport::Channel;

/// The flooding sources.
const FLOODERS: [u8; 4] = [2, 3, 4, 5];
/// Subscription slots over all clients: fewer than the flooders would take without shares.
const MAX_SUBSCRIPTIONS: u32 = 3000;
/// Each source's share of them.
const PER_SOURCE: u32 = 600;

fn limits() -> LimitsConfig {
    LimitsConfig {
        max_subscriptions: MAX_SUBSCRIPTIONS,
        max_subscriptions_per_source: PER_SOURCE,
        ..LimitsConfig::default()
    }
}

#[derive(Default)]
struct Counts {
    calls: CallCounts,
    subscriptions_held: AtomicU64,
}

/// One owner call of `user`: a challenge for its handle, then a fetch signed over it.
async fn owner_call(
    directory: &mut DirectoryClient<Channel>,
    inbox: &mut InboxClient<Channel>,
    user: &User,
) -> Result<(), tonic::Status> {
    let challenge = directory
        .challenge(ChallengeRequest {
            handle: user.handle.as_str().into(),
        })
        .await?
        .into_inner()
        .challenge;
    let auth = user.sign_owner(
        OwnerMethod::Fetch,
        challenge.try_into().unwrap(),
        body::fetch(1),
    );
    inbox
        .fetch(FetchRequest {
            handle: user.handle.as_str().into(),
            limit: 1,
            auth: Some(auth),
        })
        .await?;
    Ok(())
}

/// The calm client's owner calls, paced; each one's latency. Every call must succeed.
async fn calm_calls(relay: &TestRelay, calm: &User, samples: usize) -> Vec<Duration> {
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let mut latencies = Vec::with_capacity(samples);
    let mut ticks = tokio::time::interval(Duration::from_millis(20));
    for _ in 0..samples {
        ticks.tick().await;
        let started = Instant::now();
        owner_call(&mut directory, &mut inbox, calm).await.unwrap();
        latencies.push(started.elapsed());
    }
    latencies
}

/// One flooder: holds as many inbox subscriptions as the relay lets it, then asks for
/// challenges in the calm user's name and its own, deposits and looks up, until stopped.
async fn flood(
    relay: Arc<TestRelay>,
    source: IpAddr,
    own: Arc<User>,
    counts: Arc<Counts>,
    stop: Arc<AtomicBool>,
) {
    let mut held = Vec::new();
    // At most 100 streams per connection: a new connection every 90 subscriptions.
    let mut directory = relay.directory_from(source).await;
    let mut inbox = relay.inbox_from(source).await;
    for i in 0..(PER_SOURCE + 100) {
        if i % 90 == 0 {
            inbox = relay.inbox_from(source).await;
        }
        let Ok(challenge) = directory
            .challenge(ChallengeRequest {
                handle: own.handle.as_str().into(),
            })
            .await
        else {
            continue;
        };
        let auth = own.sign_owner(
            OwnerMethod::SubscribeInbox,
            challenge.into_inner().challenge.try_into().unwrap(),
            body::empty(),
        );
        let subscribed = inbox
            .subscribe(SubscribeInboxRequest {
                handle: own.handle.as_str().into(),
                auth: Some(auth),
            })
            .await;
        counts.calls.count(&subscribed);
        if let Ok(stream) = subscribed {
            held.push(stream.into_inner());
        }
    }
    counts
        .subscriptions_held
        .fetch_add(held.len() as u64, Ordering::Relaxed);
    while !stop.load(Ordering::Relaxed) {
        for handle in ["calm", own.handle.as_str()] {
            let challenge = directory
                .challenge(ChallengeRequest {
                    handle: handle.into(),
                })
                .await;
            counts.calls.count(&challenge);
        }
        let deposited = inbox
            .deposit(DepositRequest {
                handle: own.handle.as_str().into(),
                envelope: vec![2; 1024],
            })
            .await;
        counts.calls.count(&deposited);
        let looked_up = directory
            .lookup(LookupRequest {
                handle: "calm".into(),
            })
            .await;
        counts.calls.count(&looked_up);
    }
    drop(held);
}

struct Report {
    unloaded: (Duration, Duration),
    loaded: (Duration, Duration),
    flood_ok: u64,
    flood_exhausted: u64,
    flood_other: u64,
    subscriptions_held: u64,
    delivery: Duration,
}

impl Report {
    fn ratio(&self) -> f64 {
        self.loaded.1.as_secs_f64() / self.unloaded.1.as_secs_f64()
    }
}

async fn run(samples: usize) -> Report {
    let relay = Arc::new(limited(limits()));
    let calm = User::new("calm");
    calm.register(&mut relay.directory_from(CALM).await).await;
    let mut unloaded = calm_calls(&relay, &calm, samples).await;

    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut flooders = Vec::new();
    for last in FLOODERS {
        let source = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
        let own = Arc::new(User::new(&format!("flooder-{last}")));
        own.register(&mut relay.directory_from(source).await).await;
        // Each flooder is another program: its own thread and runtime.
        let (relay, counts, stop) = (relay.clone(), counts.clone(), stop.clone());
        flooders.push(std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(flood(relay, source, own, counts, stop));
        }));
    }
    // Let the flooders take their subscriptions and reach their steady state.
    tokio::time::sleep(Duration::from_secs(8)).await;
    let mut loaded = calm_calls(&relay, &calm, samples).await;

    // The calm client still gets a subscription, and a delivery is pushed to it.
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let challenge = common::challenge_for(&mut directory, "calm").await;
    let auth = calm.sign_owner(OwnerMethod::SubscribeInbox, challenge, body::empty());
    let mut pushes = inbox
        .subscribe(SubscribeInboxRequest {
            handle: "calm".into(),
            auth: Some(auth),
        })
        .await
        .expect("the calm client is not refused a subscription")
        .into_inner();
    let sent = Instant::now();
    relay
        .inbox_from(CALM)
        .await
        .deposit(DepositRequest {
            handle: "calm".into(),
            envelope: vec![3; 256],
        })
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(10), pushes.next())
        .await
        .expect("the delivery is pushed")
        .unwrap()
        .unwrap();
    let delivery = sent.elapsed();

    stop.store(true, Ordering::Relaxed);
    for flooder in flooders {
        tokio::task::spawn_blocking(move || flooder.join().unwrap())
            .await
            .unwrap();
    }
    Report {
        unloaded: (
            percentile(&mut unloaded, 50.0),
            percentile(&mut unloaded, 99.0),
        ),
        loaded: (percentile(&mut loaded, 50.0), percentile(&mut loaded, 99.0)),
        flood_ok: counts.calls.ok.load(Ordering::Relaxed),
        flood_exhausted: counts.calls.exhausted.load(Ordering::Relaxed),
        flood_other: counts.calls.other.load(Ordering::Relaxed),
        subscriptions_held: counts.subscriptions_held.load(Ordering::Relaxed),
        delivery,
    }
}

fn print_and_check(report: &Report) {
    println!(
        "fair share: calm owner call p50 {:?} -> {:?}, p99 {:?} -> {:?} (ratio {:.2}); \
         delivery pushed in {:?}; {} flooders held {} subscriptions ({} each at most), \
         calls: {} accepted, {} RESOURCE_EXHAUSTED, {} other",
        report.unloaded.0,
        report.loaded.0,
        report.unloaded.1,
        report.loaded.1,
        report.ratio(),
        report.delivery,
        FLOODERS.len(),
        report.subscriptions_held,
        PER_SOURCE,
        report.flood_ok,
        report.flood_exhausted,
        report.flood_other,
    );
    // Each flooder got exactly its share of the subscriptions, no more.
    assert_eq!(
        report.subscriptions_held,
        u64::from(PER_SOURCE) * FLOODERS.len() as u64
    );
    assert!(report.flood_exhausted > 0, "nobody was refused");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flooding_sources_get_their_share_and_a_calm_client_keeps_working() {
    let report = run(100).await;
    print_and_check(&report);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "long form; run with --release -- --ignored --nocapture"]
async fn long_fair_share_keeps_calm_p99_within_twice_unloaded() {
    let report = run(1000).await;
    print_and_check(&report);
    assert!(report.ratio() <= 2.0, "p99 ratio {:.2}", report.ratio());
}
