//! Time-driven rules against a real relay over real gRPC, with the relay reading a
//! [`ManualClock`] that the test moves instead of sleeping: challenge expiry, the replay
//! window of group requests and the retention sweep, each at its exact boundary.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::groups::frame;
use common::{access_key, challenge_for, fetch, group_auth_at, random, read_all_at, User};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{CreateGroupRequest, DepositRequest, FetchRequest, PostRequest};
use parley_relay::LimitsConfig;
use parley_testkit::{ManualClock, TestRelay};
use tonic::transport::Channel;
use tonic::Code;

/// How long a challenge is good for (`service/challenges.rs`).
const CHALLENGE_TTL: Duration = Duration::from_secs(120);
/// How far a group request's timestamp may be from the relay clock (`service/group_auth.rs`).
const MAX_SKEW_MS: u64 = 300_000;
/// How long the relay remembers an accepted group transcript (`service/replay.rs`).
const REMEMBER_FOR: Duration = Duration::from_secs(600);
const MS: Duration = Duration::from_millis(1);

fn relay_with(clock: &ManualClock) -> TestRelay {
    TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .start()
}

/// A fetch of bob's inbox authorised with `challenge`.
fn fetch_with(bob: &User, challenge: [u8; 32]) -> FetchRequest {
    FetchRequest {
        handle: "bob".into(),
        limit: 10,
        auth: Some(bob.sign_owner(OwnerMethod::Fetch, challenge, body::fetch(10))),
    }
}

#[tokio::test]
async fn a_challenge_is_accepted_until_its_ttl_and_refused_from_then_on() {
    let clock = ManualClock::new();
    let mut relay = relay_with(&clock);
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let early = challenge_for(&mut directory, "bob").await;
    let late = challenge_for(&mut directory, "bob").await;

    // The last millisecond of their lifetime: spent now, a challenge is accepted.
    clock.advance(CHALLENGE_TTL - MS);
    inbox.fetch(fetch_with(&bob, early)).await.unwrap();

    // A lifetime after issue it has expired, although it was never used.
    clock.advance(MS);
    let refused = inbox.fetch(fetch_with(&bob, late)).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unauthenticated);
    assert!(
        refused.message().contains("unknown, expired, already used"),
        "{refused:?}"
    );

    // A challenge issued at the new time is good: only the old ones aged.
    let fresh = challenge_for(&mut directory, "bob").await;
    inbox.fetch(fetch_with(&bob, fresh)).await.unwrap();
    relay.stop().await;
}

async fn create(groups: &mut GroupsClient<Channel>, clock: &ManualClock) -> ([u8; 32], AccessKey) {
    let group_id = random::<32>();
    let key = access_key();
    let public = key.public_key().to_bytes();
    let auth = group_auth_at(
        &key,
        GroupMethod::Create,
        &group_id,
        0,
        body::create(&public),
        clock.now_ms(),
    );
    groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(auth),
        })
        .await
        .unwrap();
    (group_id, key)
}

/// A post of `message` to epoch 0, signed with a fresh nonce at `timestamp_ms`.
fn post_at(group_id: &[u8; 32], key: &AccessKey, message: &[u8], timestamp_ms: u64) -> PostRequest {
    let auth = group_auth_at(
        key,
        GroupMethod::Post,
        group_id,
        0,
        body::post(message),
        timestamp_ms,
    );
    PostRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        message: message.to_vec(),
        auth: Some(auth),
    }
}

/// The rules of `service/group_auth.rs` and `service/replay.rs`: a timestamp is fresh while
/// it is at most 300 s from the relay clock; an accepted transcript is refused as a replay
/// for 600 s after its acceptance (inclusive) and then forgotten, which is safe because by
/// then its timestamp is stale. Tested with the transcript that stays fresh the longest: one
/// signed 300 s ahead of the relay clock.
#[tokio::test]
async fn a_replayed_group_request_is_refused_until_its_timestamp_is_stale() {
    let clock = ManualClock::new();
    let mut relay = relay_with(&clock);
    let mut groups = relay.groups().await;
    let (group_id, key) = create(&mut groups, &clock).await;

    let accepted_at = clock.now_ms();
    let ahead = accepted_at + MAX_SKEW_MS;
    let original = post_at(&group_id, &key, &frame("hello"), ahead);
    groups.post(original.clone()).await.unwrap();

    // Within the window the same transcript is a replay...
    let replayed = groups.post(original.clone()).await.unwrap_err();
    assert_eq!(replayed.code(), Code::PermissionDenied);
    assert_eq!(replayed.message(), "request replayed");
    // ...while the same message and timestamp under a new nonce is a new request.
    groups
        .post(post_at(&group_id, &key, &frame("hello"), ahead))
        .await
        .unwrap();

    // The window's last millisecond: the timestamp is exactly 300 s old, still fresh, and
    // the cache still remembers the transcript.
    clock.advance(REMEMBER_FOR);
    assert_eq!(clock.now_ms() - ahead, MAX_SKEW_MS);
    let replayed = groups.post(original.clone()).await.unwrap_err();
    assert_eq!(replayed.code(), Code::PermissionDenied);
    assert_eq!(replayed.message(), "request replayed");

    // One millisecond on, the cache may forget it: the freshness check refuses it first.
    clock.advance(MS);
    let stale = groups.post(original).await.unwrap_err();
    assert_eq!(stale.code(), Code::Unauthenticated);
    assert!(stale.message().contains("300 s"), "{stale:?}");
    // Freshness is measured from the relay clock: a request signed at its time is accepted.
    groups
        .post(post_at(&group_id, &key, &frame("later"), clock.now_ms()))
        .await
        .unwrap();
    relay.stop().await;
}

/// The envelopes in bob's inbox and the messages of the group log, in arrival order.
type Held = (Vec<Vec<u8>>, Vec<Vec<u8>>);

/// Bob's inbox and one group log on a relay whose clock the test moves.
struct Stored {
    directory: DirectoryClient<Channel>,
    inbox: InboxClient<Channel>,
    groups: GroupsClient<Channel>,
    bob: User,
    group_id: [u8; 32],
    key: AccessKey,
    clock: ManualClock,
}

impl Stored {
    /// Deposits `text` (padded) to bob and posts it to the group, both at the clock's time.
    async fn add(&mut self, text: &str) {
        let message = &frame(text);
        self.inbox
            .deposit(DepositRequest {
                handle: "bob".into(),
                envelope: message.to_vec(),
            })
            .await
            .unwrap();
        let post = post_at(&self.group_id, &self.key, message, self.clock.now_ms());
        self.groups.post(post).await.unwrap();
    }

    /// What bob's inbox and the group log hold, in arrival order.
    async fn held(&mut self) -> Held {
        let inbox = fetch(&mut self.directory, &mut self.inbox, &self.bob)
            .await
            .into_iter()
            .map(|d| d.envelope)
            .collect();
        let read = read_all_at(&self.key, &self.group_id, self.clock.now_ms());
        let page = self.groups.read(read).await.unwrap().into_inner();
        let log = page.entries.into_iter().map(|e| e.message).collect();
        (inbox, log)
    }

    /// What is held once the sweeper has deleted something from both the inbox and the log
    /// since they held `before`. The clock has already moved; this waits only for the
    /// sweeper's next wake-up, a timer of at most a second of real time.
    async fn after_a_sweep(&mut self, before: &Held) -> Held {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let now = self.held().await;
            if now.0.len() < before.0.len() && now.1.len() < before.1.len() {
                return now;
            }
            assert!(
                Instant::now() < deadline,
                "no sweep deleted anything: {now:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

fn texts(messages: &[&str]) -> Vec<Vec<u8>> {
    messages.iter().map(|m| frame(m)).collect()
}

/// The retention rule of `retention.rs`: a sweep at clock time `now` deletes what arrived
/// before `now - retention`; what arrived exactly then stays until the next millisecond.
/// Deliveries and posts arrive at `t - 1 ms`, `t` and `t + 30 min`; the clock then moves to
/// `t + retention`, and one millisecond further.
#[tokio::test]
async fn the_sweeper_deletes_exactly_what_is_older_than_the_retention() {
    let retention = Duration::from_secs(3600);
    let clock = ManualClock::new();
    let mut relay = TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .limits(LimitsConfig {
            retention_secs: retention.as_secs(),
            // The sweeper wakes every second of real time; what it deletes is the clock's.
            sweep_interval_secs: 1,
            // The clock stands still while the test polls; no bucket would refill.
            source_requests_per_second: 0,
            ..LimitsConfig::default()
        })
        .start();
    let mut directory = relay.directory().await;
    let mut groups = relay.groups().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let (group_id, key) = create(&mut groups, &clock).await;
    let mut stored = Stored {
        directory,
        inbox: relay.inbox().await,
        groups,
        bob,
        group_id,
        key,
        clock: clock.clone(),
    };

    let t = clock.now_ms();
    clock.set(t - 1);
    stored.add("older").await;
    clock.set(t);
    stored.add("as old").await;
    clock.advance(Duration::from_secs(1800));
    stored.add("younger").await;
    let all = texts(&["older", "as old", "younger"]);
    let held = stored.held().await;
    assert_eq!(held, (all.clone(), all));

    clock.set(t);
    clock.advance(retention);
    let kept = texts(&["as old", "younger"]);
    let held = stored.after_a_sweep(&held).await;
    assert_eq!(held, (kept.clone(), kept));

    clock.advance(MS);
    let kept = texts(&["younger"]);
    assert_eq!(stored.after_a_sweep(&held).await, (kept.clone(), kept));

    let text = relay.metrics().render();
    for kind in ["inbox", "group"] {
        let swept = format!("parley_messages_expired_total{{kind=\"{kind}\"}} 2\n");
        assert!(text.contains(&swept), "{text}");
    }
    relay.stop().await;
}
