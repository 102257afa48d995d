//! Abuse limits: each one refuses with its typed status while other clients, inboxes and
//! handles carry on; plus retention, deletion on acknowledgement and compaction.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod limits_support;

use std::collections::HashSet;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::groups::frame;
use common::{ack, fetch, group_auth, User};
use futures::StreamExt;
use limits_support::{deposit, disk_bytes, generous, limited, relay_in, FromSource, CALM, FLOODER};
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::{
    ChallengeRequest, ClaimKeyPackageRequest, CreateGroupRequest, LookupRequest, PostRequest,
    PublishKeyPackagesRequest, SubscribeInboxRequest,
};
use parley_relay::{LimitsConfig, Relay, RelayConfig, RelayError, TlsSetting};
use parley_testkit::{ManualClock, TestRelay};
use tonic::codegen::http::uri::PathAndQuery;
use tonic::transport::Channel;
use tonic::Code;

fn code<T>(result: Result<T, tonic::Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test]
async fn a_source_out_of_tokens_is_refused_and_other_sources_are_not() {
    let clock = ManualClock::new();
    let mut relay = TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .limits(LimitsConfig {
            source_requests_per_second: 1,
            source_burst: 5,
            ..generous()
        })
        .start();
    let mut flooder = relay.directory_from(FLOODER).await;
    for _ in 0..5 {
        flooder
            .challenge(ChallengeRequest {
                handle: "alice".into(),
            })
            .await
            .unwrap();
    }
    let started = Instant::now();
    let refused = flooder
        .challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("too many requests"));
    // The refusal was held (the default 250 ms), slowing a client that retries at once.
    assert!(started.elapsed() >= Duration::from_millis(200));
    // A new connection from the same address shares its bucket.
    let mut again = relay.directory_from(FLOODER).await;
    assert_eq!(
        code(
            again
                .challenge(ChallengeRequest {
                    handle: "alice".into(),
                })
                .await
        ),
        Code::ResourceExhausted
    );
    // Another address has its own bucket.
    let mut calm = relay.directory_from(CALM).await;
    for _ in 0..5 {
        calm.challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap();
    }
    // The bucket refills at its rate.
    clock.advance(Duration::from_millis(1000));
    flooder
        .challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap();
    relay.stop().await;
}

#[tokio::test]
async fn an_inbox_over_quota_is_refused_and_other_inboxes_are_not() {
    let mut relay = limited(LimitsConfig {
        inbox_max_messages: 3,
        inbox_max_bytes: 10_000,
        ..generous()
    });
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let (bob, carol, dave) = (User::new("bob"), User::new("carol"), User::new("dave"));
    for user in [&bob, &carol, &dave] {
        user.register(&mut directory).await;
    }

    // Messages: three fit, the fourth does not.
    for _ in 0..3 {
        deposit(&mut inbox, "bob", vec![1; 256]).await.unwrap();
    }
    let refused = deposit(&mut inbox, "bob", vec![1; 256]).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("3 pending deliveries"));
    // Bytes: 8192 fit, 2048 more do not, 1024 more do.
    deposit(&mut inbox, "carol", vec![2; 8192]).await.unwrap();
    let refused = deposit(&mut inbox, "carol", vec![2; 2048])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("10000 bytes"));
    deposit(&mut inbox, "carol", vec![2; 1024]).await.unwrap();
    // Another inbox is unaffected.
    deposit(&mut inbox, "dave", vec![3; 256]).await.unwrap();

    // Acknowledging frees quota.
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    assert_eq!(pending.len(), 3);
    ack(&mut directory, &mut inbox, &bob, vec![pending[0].id]).await;
    deposit(&mut inbox, "bob", vec![1; 256]).await.unwrap();
    let pending = fetch(&mut directory, &mut inbox, &carol).await;
    ack(&mut directory, &mut inbox, &carol, vec![pending[0].id]).await;
    deposit(&mut inbox, "carol", vec![2; 8192]).await.unwrap();
    relay.stop().await;
}

/// Publishes five one-time KeyPackages for `user` (and `last_resort`, if given), returning
/// how many one-time ones the relay then holds.
async fn publish_five(
    directory: &mut DirectoryClient<Channel>,
    user: &User,
    last_resort: Vec<u8>,
    replace: bool,
) -> u32 {
    let key_packages: Vec<Vec<u8>> = (0u8..5).map(|i| vec![i; 256]).collect();
    publish(directory, user, key_packages, last_resort, replace).await
}

/// Publishes `key_packages` (and `last_resort`, if not empty) for `user`, returning how many
/// one-time ones the relay then holds.
async fn publish(
    directory: &mut DirectoryClient<Channel>,
    user: &User,
    key_packages: Vec<Vec<u8>>,
    last_resort: Vec<u8>,
    replace: bool,
) -> u32 {
    let digest = if replace {
        body::publish_key_packages_replacing(&key_packages, &last_resort)
    } else {
        body::publish_key_packages(&key_packages, &last_resort)
    };
    let auth = user
        .owner_auth(directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            handle: user.handle.as_str().into(),
            key_packages,
            last_resort,
            auth: Some(auth),
            replace,
        })
        .await
        .unwrap()
        .into_inner()
        .available
}

/// A claim of `handle`'s KeyPackage: its bytes and whether it is the last-resort one.
async fn claim(
    directory: &mut DirectoryClient<Channel>,
    handle: &str,
) -> Result<(Vec<u8>, bool), tonic::Status> {
    directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: handle.into(),
        })
        .await
        .map(|r| {
            let r = r.into_inner();
            (r.key_package, r.last_resort)
        })
}

#[tokio::test]
async fn key_package_claims_are_limited_per_source_then_per_target_handle() {
    let mut relay = limited(LimitsConfig {
        key_package_claims_per_minute: 1,
        key_package_claim_burst: 3,
        key_package_claims_per_source_per_minute: 1,
        key_package_claim_source_burst: 2,
        ..generous()
    });
    let source = |last: u8| IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, last));
    let mut directory = relay.directory_from(CALM).await;
    let (alice, bob) = (User::new("alice"), User::new("bob"));
    let alice_last_resort = vec![9u8; 256];
    alice.register(&mut directory).await;
    bob.register(&mut directory).await;
    publish_five(&mut directory, &alice, alice_last_resort.clone(), false).await;
    publish_five(&mut directory, &bob, Vec::new(), false).await;

    // A stranger spends only its own share of alice's budget.
    let mut stranger = relay.directory_from(FLOODER).await;
    for _ in 0..2 {
        assert!(!claim(&mut stranger, "alice").await.unwrap().1);
    }
    let refused = claim(&mut stranger, "alice").await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(
        refused.message().contains("from this address"),
        "{refused:?}"
    );

    // The rest of alice's budget goes to whoever asks; past it, the last resort, not nothing.
    assert!(!claim(&mut directory, "alice").await.unwrap().1);
    assert_eq!(
        claim(&mut directory, "alice").await.unwrap(),
        (alice_last_resort.clone(), true)
    );
    let mut third = relay.directory_from(source(3)).await;
    assert_eq!(
        claim(&mut third, "alice").await.unwrap(),
        (alice_last_resort, true)
    );
    // Only the budget's worth of one-time KeyPackages went: two are left.
    let held = publish_five(&mut directory, &alice, Vec::new(), false).await;
    assert_eq!(held, 2 + 5);

    // A handle without a last resort, past its budget: refused, retry later.
    assert!(!claim(&mut third, "bob").await.unwrap().1);
    let mut fourth = relay.directory_from(source(4)).await;
    assert!(!claim(&mut fourth, "bob").await.unwrap().1);
    assert!(!claim(&mut fourth, "bob").await.unwrap().1);
    let mut fifth = relay.directory_from(source(5)).await;
    let exhausted = claim(&mut fifth, "bob").await.unwrap_err();
    assert_eq!(exhausted.code(), Code::ResourceExhausted);
    relay.stop().await;
}

#[tokio::test]
async fn a_rotation_replaces_every_key_package_held() {
    let mut relay = limited(generous());
    let mut directory = relay.directory_from(CALM).await;
    let alice = User::new("alice");
    alice.register(&mut directory).await;
    assert_eq!(
        publish_five(&mut directory, &alice, vec![7u8; 256], false).await,
        5
    );
    assert_eq!(
        publish_five(&mut directory, &alice, Vec::new(), false).await,
        10
    );
    // A rotation: the ten held are dropped, the five new ones and the new last resort stay.
    assert_eq!(
        publish_five(&mut directory, &alice, vec![8u8; 256], true).await,
        5
    );
    for _ in 0..5 {
        assert!(!claim(&mut directory, "alice").await.unwrap().1);
    }
    assert_eq!(
        claim(&mut directory, "alice").await.unwrap(),
        (vec![8u8; 256], true)
    );
    // A signed upload cannot be replayed as a rotation: the digests differ.
    let key_packages: Vec<Vec<u8>> = vec![vec![1; 256]];
    let digest = body::publish_key_packages(&key_packages, &[]);
    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    let refused = directory
        .publish_key_packages(PublishKeyPackagesRequest {
            handle: "alice".into(),
            key_packages,
            last_resort: Vec::new(),
            auth: Some(auth),
            replace: true,
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    relay.stop().await;
}

#[tokio::test]
async fn streams_per_connection_are_capped_and_other_connections_are_not() {
    let mut relay = limited(LimitsConfig {
        max_concurrent_streams: 2,
        ..generous()
    });
    let mut directory = relay.directory_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;

    // Two subscriptions fill one connection.
    let capped = relay.channel_from(CALM).await;
    let mut open = Vec::new();
    for _ in 0..2 {
        let auth = bob
            .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
            .await;
        let mut inbox = parley_proto::v1::inbox_client::InboxClient::new(capped.clone());
        let stream = inbox
            .subscribe(SubscribeInboxRequest {
                handle: "bob".into(),
                auth: Some(auth),
            })
            .await
            .unwrap()
            .into_inner();
        open.push(stream);
    }
    // A third call on that connection waits for a free stream...
    let mut third = parley_proto::v1::directory_client::DirectoryClient::new(capped.clone());
    let waiting = tokio::spawn(async move {
        third
            .challenge(ChallengeRequest {
                handle: "alice".into(),
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!waiting.is_finished(), "the third stream was not held back");
    // ...while another connection is served at once.
    tokio::time::timeout(
        Duration::from_secs(2),
        directory.challenge(ChallengeRequest {
            handle: "alice".into(),
        }),
    )
    .await
    .expect("another connection was held back")
    .unwrap();
    // Closing one subscription lets the waiting call through.
    drop(open.pop());
    tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("the waiting call never ran")
        .unwrap()
        .unwrap();
    drop(open);
    relay.stop().await;
}

#[tokio::test]
async fn open_subscriptions_are_bounded_overall() {
    let mut relay = limited(LimitsConfig {
        max_subscriptions: 2,
        ..generous()
    });
    let mut directory = relay.directory_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let subscribe = |auth| SubscribeInboxRequest {
        handle: "bob".into(),
        auth: Some(auth),
    };
    let mut open = Vec::new();
    for _ in 0..2 {
        let auth = bob
            .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
            .await;
        open.push(inbox.subscribe(subscribe(auth)).await.unwrap().into_inner());
    }
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let refused = inbox.subscribe(subscribe(auth)).await.unwrap_err();
    assert_eq!(refused.code(), Code::ResourceExhausted);
    assert!(refused.message().contains("subscriptions"));
    // Unary calls are unaffected, and the open subscriptions still deliver.
    deposit(&mut inbox, "bob", vec![9; 256]).await.unwrap();
    for stream in &mut open {
        let delivery = tokio::time::timeout(Duration::from_secs(5), stream.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        assert_eq!(delivery.envelope, vec![9; 256]);
    }
    // Closing one frees its slot (the relay notices the reset stream shortly after).
    drop(open.pop());
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let auth = bob
            .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
            .await;
        match inbox.subscribe(subscribe(auth)).await {
            Ok(stream) => {
                open.push(stream.into_inner());
                break;
            }
            Err(status) if status.code() == Code::ResourceExhausted => {
                assert!(Instant::now() < deadline, "the slot was never freed");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("unexpected {status:?}"),
        }
    }
    drop(open);
    relay.stop().await;
}

#[tokio::test]
async fn oversized_requests_are_refused_at_decode() {
    let mut relay = limited(LimitsConfig {
        max_message_bytes: 64 * 1024,
        ..generous()
    });
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    User::new("bob").register(&mut directory).await;
    let refused = deposit(&mut inbox, "bob", vec![0; 100 * 1024])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::OutOfRange);
    assert!(refused.message().contains("too large"));
    deposit(&mut inbox, "bob", vec![0; 32 * 1024])
        .await
        .unwrap();
    relay.stop().await;
}

#[tokio::test]
async fn a_stalled_call_hits_the_deadline_but_subscriptions_stay_open() {
    let mut relay = limited(LimitsConfig {
        request_timeout_secs: 1,
        ..generous()
    });
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let mut subscription = inbox
        .subscribe(SubscribeInboxRequest {
            handle: "bob".into(),
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner();

    // A request whose body never arrives: the relay waits for it only until the deadline.
    let mut grpc = tonic::client::Grpc::new(relay.channel_from(CALM).await);
    grpc.ready().await.unwrap();
    let started = Instant::now();
    let never = futures::stream::pending::<Vec<u8>>();
    let stalled = grpc
        .client_streaming(
            tonic::Request::new(never),
            PathAndQuery::from_static("/parley.v1.Directory/Lookup"),
            common::raw::RawCodec,
        )
        .await
        .unwrap_err();
    assert_eq!(stalled.code(), Code::Cancelled);
    assert!(stalled.message().contains("Timeout expired"));
    assert!(started.elapsed() < Duration::from_secs(5));

    // Other calls are unaffected, and the subscription outlived the deadline.
    let found = directory
        .lookup(LookupRequest {
            handle: "bob".into(),
        })
        .await;
    assert_eq!(code(found), Code::Ok);
    tokio::time::sleep(Duration::from_millis(300)).await;
    deposit(&mut inbox, "bob", vec![4; 256]).await.unwrap();
    let delivery = tokio::time::timeout(Duration::from_secs(5), subscription.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(delivery.envelope, vec![4; 256]);
    drop(subscription);
    relay.stop().await;
}

#[tokio::test]
async fn the_sweeper_deletes_expired_deliveries_and_entries_only() {
    let clock = ManualClock::new();
    let mut relay = TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .limits(LimitsConfig {
            retention_secs: 1,
            sweep_interval_secs: 1,
            ..generous()
        })
        .start();
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let mut groups = GroupsClient::new(relay.channel_from(CALM).await);
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    deposit(&mut inbox, "bob", vec![1; 256]).await.unwrap();
    let group_id = common::random::<32>();
    let key = common::access_key();
    let public = key.public_key().to_bytes();
    groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(group_auth(
                &key,
                GroupMethod::Create,
                &group_id,
                0,
                body::create(&public),
            )),
        })
        .await
        .unwrap();
    let post = |message: &[u8]| PostRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        message: message.to_vec(),
        auth: Some(group_auth(
            &key,
            GroupMethod::Post,
            &group_id,
            0,
            body::post(message),
        )),
    };
    groups.post(post(&frame("old"))).await.unwrap();

    // Older than the retention by a millisecond; what remains is waiting for the sweeper's
    // next wake-up (every second of real time).
    clock.advance(Duration::from_millis(1001));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pending = fetch(&mut directory, &mut inbox, &bob).await;
        let entries = read(&mut groups, &group_id, &key).await.entries;
        if pending.is_empty() && entries.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "expired data was never swept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // What arrives now is kept, the group and the handle too.
    deposit(&mut inbox, "bob", vec![2; 256]).await.unwrap();
    groups.post(post(&frame("new"))).await.unwrap();
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].envelope, vec![2; 256]);
    let log = read(&mut groups, &group_id, &key).await;
    assert_eq!(log.entries.len(), 1);
    assert_eq!(log.entries[0].message, frame("new"));
    assert_eq!(log.entries[0].seq, 1, "sequence numbers continue");
    let text = relay.metrics().render();
    assert!(
        text.contains("parley_messages_expired_total{kind=\"inbox\"} 1\n"),
        "{text}"
    );
    assert!(
        text.contains("parley_messages_expired_total{kind=\"group\"} 1\n"),
        "{text}"
    );
    relay.stop().await;
}

#[tokio::test]
async fn a_disk_below_its_reserve_refuses_new_data_but_serves_reads_and_acks() {
    let dir = tempfile::tempdir().unwrap();
    let bob = User::new("bob");
    let mut relay = relay_in(dir.path(), generous());
    bob.register(&mut relay.directory_from(CALM).await).await;
    deposit(&mut relay.inbox_from(CALM).await, "bob", vec![1; 256])
        .await
        .unwrap();
    relay.stop().await;

    // The same data on a disk that is always short of the reserve.
    let mut relay = relay_in(
        dir.path(),
        LimitsConfig {
            min_free_disk_bytes: u64::MAX,
            ..generous()
        },
    );
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let mut groups = GroupsClient::new(relay.channel_from(CALM).await);
    let refused = deposit(&mut inbox, "bob", vec![2; 256]).await.unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable);
    assert_eq!(refused.message(), "storage unavailable, try again later");
    let carol = User::new("carol");
    let registered = directory
        .register(parley_proto::v1::RegisterRequest {
            record: carol.record().to_bytes(),
        })
        .await;
    assert_eq!(code(registered), Code::Unavailable);
    let auth = bob
        .owner_auth(
            &mut directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&[vec![7; 256]], &[]),
        )
        .await;
    let published = directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: "bob".into(),
            key_packages: vec![vec![7; 256]],
            last_resort: Vec::new(),
            auth: Some(auth),
        })
        .await;
    assert_eq!(code(published), Code::Unavailable);
    let group_id = common::random::<32>();
    let key = common::access_key();
    let public = key.public_key().to_bytes();
    let created = groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(group_auth(
                &key,
                GroupMethod::Create,
                &group_id,
                0,
                body::create(&public),
            )),
        })
        .await;
    assert_eq!(code(created), Code::Unavailable);

    // What is stored can still be read and acknowledged, which is how users free space.
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].envelope, vec![1; 256]);
    ack(&mut directory, &mut inbox, &bob, vec![pending[0].id]).await;
    assert!(fetch(&mut directory, &mut inbox, &bob).await.is_empty());
    let text = relay.metrics().render();
    assert!(
        text.contains("parley_rejections_total{reason=\"disk_reserve\"} 4"),
        "{text}"
    );
    relay.stop().await;
}

async fn read(
    groups: &mut GroupsClient<tonic::transport::Channel>,
    group_id: &[u8; 32],
    key: &parley_crypto::access::AccessKey,
) -> parley_proto::v1::ReadResponse {
    groups
        .read(common::read_all_at(key, group_id, common::now_ms()))
        .await
        .unwrap()
        .into_inner()
}

/// Every file under `dir`, as raw bytes: what a host reading its disk sees.
fn all_files(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(all_files(&path));
        } else {
            files.push(std::fs::read(path).unwrap());
        }
    }
    files
}

/// Bytes the file system allocated to the files under `dir` (holes excluded).
fn allocated_bytes(dir: &std::path::Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    let mut total = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        total += if path.is_dir() {
            allocated_bytes(&path)
        } else {
            std::fs::metadata(&path).unwrap().blocks() * 512
        };
    }
    total
}

#[tokio::test]
async fn acknowledged_deliveries_are_deleted_from_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay_in(dir.path(), generous());
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let acked = frame("acknowledged envelope");
    let kept = frame("pending envelope");
    deposit(&mut inbox, "bob", acked.clone()).await.unwrap();
    deposit(&mut inbox, "bob", kept.clone()).await.unwrap();
    // Large ones too, to see their space come back.
    for i in 0u8..32 {
        deposit(&mut inbox, "bob", vec![i | 1; 64 * 1024])
            .await
            .unwrap();
    }
    let envelopes = dir.path().join("db").join("envelopes");
    assert!(allocated_bytes(&envelopes) >= 32 * 64 * 1024);
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    let mut acks = vec![pending[0].id];
    acks.extend(pending[2..].iter().map(|d| d.id));
    ack(&mut directory, &mut inbox, &bob, acks).await;
    relay.stop().await;

    // Neither in sled's files nor in the envelope log, raw bytes included.
    let contains = |value: &[u8], needle: &[u8]| value.windows(needle.len()).any(|w| w == needle);
    let files = all_files(&dir.path().join("db"));
    assert!(files.iter().any(|f| contains(f, &kept)), "test sees data");
    assert!(!files.iter().any(|f| contains(f, &acked)));
    let left = allocated_bytes(&envelopes);
    assert!(left < 4 * 64 * 1024, "{left} bytes of envelopes left");
}

/// Publishes `rounds` times 100 KeyPackages of 16 KiB for `user`, each round replacing the
/// one before, then one small one replacing the last round: every round leaves 1.6 MiB of
/// deleted data in sled's files, which sled does not give back by itself.
async fn churn_key_packages(directory: &mut DirectoryClient<Channel>, user: &User, rounds: u8) {
    for round in 0..=rounds {
        let (count, len) = if round < rounds {
            (100, 16 * 1024)
        } else {
            (1, 256)
        };
        let key_packages: Vec<Vec<u8>> = (0u8..count)
            .map(|i| vec![round.wrapping_mul(100).wrapping_add(i); len])
            .collect();
        publish(directory, user, key_packages, Vec::new(), true).await;
    }
}

#[tokio::test]
async fn compaction_returns_the_space_of_deleted_data() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay_in(dir.path(), generous());
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    // Deliveries waiting in the envelope log, which compaction must carry over.
    for i in 0u8..6 {
        deposit(&mut inbox, "bob", vec![i; 64 * 1024])
            .await
            .unwrap();
    }
    let kept: HashSet<u64> = fetch(&mut directory, &mut inbox, &bob)
        .await
        .iter()
        .map(|d| d.id)
        .collect();
    churn_key_packages(&mut directory, &bob, 12).await;
    relay.stop().await;

    let db = dir.path().join("db");
    let before = disk_bytes(&db);
    assert!(before > 8 << 20, "sled keeps the space: {before}");
    // Nothing to compact where there is no database.
    let empty = tempfile::tempdir().unwrap();
    let error = parley_relay::compact(empty.path()).unwrap_err();
    assert!(error.to_string().contains("no relay database"), "{error}");
    assert!(!empty.path().join("db").exists());
    let compacted = parley_relay::compact(dir.path()).unwrap();
    let after = disk_bytes(&db);
    println!("compaction: {before} -> {after} bytes on disk");
    assert_eq!(compacted.before_bytes, before);
    assert_eq!(compacted.after_bytes, after);
    assert!(after * 3 < before, "{before} -> {after}");

    // Everything live survived: the handle, the kept deliveries, and new writes work.
    let mut relay = relay_in(dir.path(), generous());
    // A running relay's database is left alone.
    let error = parley_relay::compact(dir.path()).unwrap_err();
    assert!(error.to_string().contains("locked"), "{error}");
    let mut directory = relay.directory_from(CALM).await;
    let mut inbox = relay.inbox_from(CALM).await;
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    let ids: HashSet<u64> = pending.iter().map(|d| d.id).collect();
    assert_eq!(ids, kept);
    for (i, delivery) in pending.iter().enumerate() {
        assert_eq!(delivery.envelope, vec![u8::try_from(i).unwrap(); 64 * 1024]);
    }
    deposit(&mut inbox, "bob", vec![1; 256]).await.unwrap();
    let pending = fetch(&mut directory, &mut inbox, &bob).await;
    assert_eq!(pending.len(), 7);
    assert!(pending.last().unwrap().id > *kept.iter().max().unwrap());
    relay.stop().await;
}

#[tokio::test]
async fn a_bloated_database_is_compacted_when_opened() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay_in(dir.path(), generous());
    let mut directory = relay.directory_from(CALM).await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    churn_key_packages(&mut directory, &bob, 8).await;
    relay.stop().await;
    let db = dir.path().join("db");
    let before = disk_bytes(&db);

    // Below the size threshold nothing happens...
    let untouched = LimitsConfig {
        compact_on_open_ratio: 2,
        compact_on_open_min_bytes: before + 1,
        ..generous()
    };
    relay_in(dir.path(), untouched).stop().await;
    assert!(disk_bytes(&db) * 3 > before);
    // ...above it, opening compacts.
    let compacting = LimitsConfig {
        compact_on_open_ratio: 2,
        compact_on_open_min_bytes: 0,
        ..generous()
    };
    let mut relay = relay_in(dir.path(), compacting);
    let after = disk_bytes(&db);
    assert!(after * 3 < before, "{before} -> {after}");
    let mut directory = relay.directory_from(CALM).await;
    let found = directory
        .lookup(LookupRequest {
            handle: "bob".into(),
        })
        .await;
    assert_eq!(code(found), Code::Ok);
    relay.stop().await;
}

#[test]
fn unusable_limits_are_refused_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let error = Relay::open(RelayConfig {
        data_dir: dir.path().to_owned(),
        tls: TlsSetting::Plaintext,
        limits: LimitsConfig {
            max_concurrent_streams: 0,
            ..LimitsConfig::default()
        },
        ..Default::default()
    })
    .unwrap_err();
    assert!(matches!(error, RelayError::Limits(_)));
    assert!(error.to_string().contains("max_concurrent_streams"));
}

#[tokio::test]
async fn connections_per_source_are_capped_and_other_sources_are_not() {
    let mut relay = limited(LimitsConfig {
        max_connections_per_source: 3,
        ..generous()
    });
    let lookup = || LookupRequest {
        handle: "nobody".into(),
    };
    // Three connections from the flooder's address, each used (so each is accepted).
    let mut held = Vec::new();
    for _ in 0..3 {
        let mut directory = relay.directory_from(FLOODER).await;
        assert_eq!(code(directory.lookup(lookup()).await), Code::NotFound);
        held.push(directory);
    }
    // A fourth is closed as soon as it is accepted.
    let fourth = tonic::transport::Endpoint::from_shared(format!("http://{}", relay.addr()))
        .unwrap()
        .local_address(Some(FLOODER))
        .connect()
        .await;
    let refused = match fourth {
        Err(_) => true,
        Ok(channel) => DirectoryClient::new(channel)
            .lookup(lookup())
            .await
            .is_err(),
    };
    assert!(refused, "a fourth connection from one source was served");
    // Another source is served as before.
    let mut calm = relay.directory_from(CALM).await;
    assert_eq!(code(calm.lookup(lookup()).await), Code::NotFound);
    // Once one of the three closes, the source may connect again.
    held.pop();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut again = relay.directory_from(FLOODER).await;
    assert_eq!(code(again.lookup(lookup()).await), Code::NotFound);
    relay.stop().await;
}
