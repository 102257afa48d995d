//! Two relay nodes on one PostgreSQL database, over real gRPC: what one node stored the other
//! serves (a registration, a deposit, a group log), a handle taken on one is taken on the
//! other, of two commits racing for one epoch on the two nodes exactly one wins, and a
//! subscriber on one node is pushed what is posted through the other; a challenge or a group
//! request is good once across all nodes; on three nodes, 100 parallel claims hand out each
//! KeyPackage once and one of nine racing commits wins. Skipped
//! (in one line) where no PostgreSQL server runs, unless `PARLEY_REQUIRE_POSTGRES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::groups::{commit, create, frame, post, read, subscribe, subscription};
use common::{access_key, challenge_for, fetch, group_auth, random, User};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::GroupNotice;
use parley_proto::v1::{DepositRequest, FetchRequest, PostRequest};
use parley_relay::StoreSetting;
use parley_testkit::postgres::{scratch_database, ScratchDatabase};
use parley_testkit::TestRelay;
use tonic::transport::Channel;
use tonic::{Code, Streaming};

fn node(url: &str) -> TestRelay {
    TestRelay::builder()
        .plaintext()
        .store(StoreSetting::Postgres(url.to_owned()))
        .start()
}

/// A group made through node 2, with a subscriber to it on node 1.
struct SubscribedRoom {
    url: String,
    _database: ScratchDatabase,
    one: TestRelay,
    two: TestRelay,
    groups_two: GroupsClient<Channel>,
    group: [u8; 32],
    key: AccessKey,
    notices: Streaming<GroupNotice>,
}

impl SubscribedRoom {
    async fn set_up() -> Option<SubscribedRoom> {
        let (url, database) = scratch_database().await?;
        let (one, two) = (node(&url), node(&url));
        let (mut groups_one, mut groups_two) = (one.groups().await, two.groups().await);
        let group = random::<32>();
        let key = access_key();
        create(&mut groups_two, &group, &key).await;
        let notices = subscribe(&mut groups_one, vec![subscription(&group, 0, &key)])
            .await
            .unwrap();
        Some(SubscribedRoom {
            url,
            _database: database,
            one,
            two,
            groups_two,
            group,
            key,
            notices,
        })
    }

    /// Posts `text` through node 2; its sequence number.
    async fn post_on_two(&mut self, text: &str) -> u64 {
        post(
            &mut self.groups_two,
            &self.group,
            0,
            &self.key,
            &frame(text),
        )
        .await
        .unwrap()
    }

    async fn stop(mut self) {
        self.one.stop().await;
        self.two.stop().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_on_one_database_serve_the_same_data_and_race_fairly() {
    let Some((url, _database)) = scratch_database().await else {
        return;
    };
    let (mut one, mut two) = (node(&url), node(&url));
    let (mut dir_one, mut dir_two) = (one.directory().await, two.directory().await);

    // Registered through node 1, known to node 2; taken on both.
    let bob = User::new("bob");
    bob.register(&mut dir_one).await;
    let impostor = User::new("bob");
    let taken = dir_two
        .register(parley_proto::v1::RegisterRequest {
            record: impostor.record().to_bytes(),
        })
        .await;
    assert_eq!(taken.unwrap_err().code(), Code::AlreadyExists);

    // Deposited on node 1, fetched by its owner from node 2.
    let mut inbox_one = one.inbox().await;
    inbox_one
        .deposit(DepositRequest {
            handle: "bob".into(),
            envelope: vec![7; 256],
        })
        .await
        .unwrap();
    let mut inbox_two = two.inbox().await;
    let fetched = fetch(&mut dir_two, &mut inbox_two, &bob).await;
    assert_eq!(fetched.len(), 1);
    assert_eq!(fetched[0].envelope, vec![7; 256]);

    // A group made on node 1, posted to on node 2, read on node 1.
    let (mut groups_one, mut groups_two) = (one.groups().await, two.groups().await);
    let group = random::<32>();
    let key = access_key();
    create(&mut groups_one, &group, &key).await;
    post(&mut groups_two, &group, 0, &key, &frame("from node 2"))
        .await
        .unwrap();
    let entries = read(&mut groups_one, &group, 0, &key, 0)
        .await
        .unwrap()
        .entries;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].message, frame("from node 2"));

    // Two commits for epoch 0, one through each node at once: exactly one wins.
    let (next_one, next_two) = (access_key(), access_key());
    let (commit_one, commit_two) = (frame("commit 1"), frame("commit 2"));
    let (first, second) = tokio::join!(
        commit(&mut groups_one, &group, 0, &key, &commit_one, &next_one),
        commit(&mut groups_two, &group, 0, &key, &commit_two, &next_two),
    );
    let won = [&first, &second].iter().filter(|r| r.is_ok()).count();
    assert_eq!(won, 1, "{first:?} {second:?}");
    let lost = if first.is_ok() { &second } else { &first };
    assert_eq!(
        lost.as_ref().unwrap_err().code(),
        Code::FailedPrecondition,
        "the loser is told the epoch moved"
    );
    one.stop().await;
    two.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_on_one_node_is_pushed_what_is_posted_on_another() {
    let Some(mut room) = SubscribedRoom::set_up().await else {
        return;
    };

    for (i, text) in ["first", "second"].into_iter().enumerate() {
        let seq = room.post_on_two(text).await;
        let notice = tokio::time::timeout(Duration::from_secs(5), room.notices.message())
            .await
            .unwrap_or_else(|_| panic!("post {i} on node 2 never reached node 1's subscriber"))
            .unwrap()
            .unwrap();
        assert_eq!(
            (notice.group_id.as_slice(), notice.seq),
            (&room.group[..], seq)
        );
    }
    room.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_lost_its_database_listener_catches_up_on_what_it_missed() {
    let Some(mut room) = SubscribedRoom::set_up().await else {
        return;
    };

    // Every node's notification connection is cut (as a database restart or a network cut
    // would), and an entry is posted while they are down.
    let (admin, connection) = tokio_postgres::connect(&room.url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let cut = admin
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = current_database() AND query LIKE 'LISTEN%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(cut.len(), 2, "each node listens on a connection of its own");
    let seq = room.post_on_two("while cut off").await;

    // Node 1 listens again and has its subscriber look again: the entry is announced.
    let notice = tokio::time::timeout(Duration::from_secs(10), room.notices.message())
        .await
        .expect("node 1 never caught up after its listener was cut")
        .unwrap()
        .unwrap();
    assert_eq!(notice.seq, seq);
    room.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_challenge_or_a_group_request_is_good_once_across_all_nodes() {
    let Some((url, _database)) = scratch_database().await else {
        return;
    };
    let mut nodes = [node(&url), node(&url), node(&url)];
    let mut dir_one = nodes[0].directory().await;
    let bob = User::new("bob");
    bob.register(&mut dir_one).await;

    // A challenge issued by node 1 is spent on node 2, and then nowhere else.
    let challenge = challenge_for(&mut dir_one, "bob").await;
    let auth = bob.sign_owner(OwnerMethod::Fetch, challenge, body::fetch(10));
    let fetch_on = |auth| FetchRequest {
        handle: "bob".into(),
        limit: 10,
        auth: Some(auth),
    };
    let mut inbox_two = nodes[1].inbox().await;
    inbox_two.fetch(fetch_on(auth.clone())).await.unwrap();
    for node in &nodes {
        let spent = node.inbox().await.fetch(fetch_on(auth.clone())).await;
        assert_eq!(spent.unwrap_err().code(), Code::Unauthenticated);
    }

    // A group request accepted by node 1 is refused as a replay by every node.
    let mut groups_one = nodes[0].groups().await;
    let group = random::<32>();
    let key = access_key();
    create(&mut groups_one, &group, &key).await;
    let message = frame("said once");
    let request = PostRequest {
        group_id: group.to_vec(),
        epoch: 0,
        message: message.clone(),
        auth: Some(group_auth(
            &key,
            GroupMethod::Post,
            &group,
            0,
            body::post(&message),
        )),
    };
    groups_one.post(request.clone()).await.unwrap();
    for node in &nodes {
        let replayed = node.groups().await.post(request.clone()).await;
        assert_eq!(replayed.unwrap_err().code(), Code::PermissionDenied);
    }
    let entries = read(&mut groups_one, &group, 0, &key, 0)
        .await
        .unwrap()
        .entries;
    assert_eq!(entries.len(), 1, "stored once");
    for node in &mut nodes {
        node.stop().await;
    }
}

/// A node with the per-handle and per-source claim limits off: the race below is about the
/// database, not the limiter (which is per node).
fn unlimited_node(url: &str) -> TestRelay {
    TestRelay::builder()
        .plaintext()
        .store(StoreSetting::Postgres(url.to_owned()))
        .limits(parley_relay::LimitsConfig {
            source_requests_per_second: 0,
            key_package_claims_per_minute: 0,
            key_package_claims_per_source_per_minute: 0,
            ..Default::default()
        })
        .start()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_nodes_hand_out_each_key_package_once_and_let_one_commit_win() {
    use parley_proto::v1::ClaimKeyPackageRequest;
    use std::collections::HashSet;

    let Some((url, _database)) = scratch_database().await else {
        return;
    };
    let mut nodes: Vec<TestRelay> = (0..3).map(|_| unlimited_node(&url)).collect();
    let alice = User::new("alice");
    let mut directory = nodes[0].directory().await;
    alice.register(&mut directory).await;
    let key_packages: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 256]).collect();
    let last_resort = vec![0xee; 256];
    common::publish_key_packages(
        &mut directory,
        &alice,
        key_packages.clone(),
        last_resort.clone(),
    )
    .await;

    // 100 claims at once, spread over the three nodes.
    let mut clients = Vec::new();
    for i in 0..100 {
        clients.push(nodes[i % 3].directory().await);
    }
    let claims = clients.into_iter().map(|mut client| {
        tokio::spawn(async move {
            client
                .claim_key_package(ClaimKeyPackageRequest {
                    handle: "alice".into(),
                })
                .await
                .unwrap()
                .into_inner()
        })
    });
    let mut one_time = Vec::new();
    let mut last_resorts = 0;
    for claim in claims.collect::<Vec<_>>() {
        let claimed = claim.await.unwrap();
        if claimed.last_resort {
            assert_eq!(claimed.key_package, last_resort);
            last_resorts += 1;
        } else {
            one_time.push(claimed.key_package);
        }
    }
    let distinct: HashSet<Vec<u8>> = one_time.iter().cloned().collect();
    assert_eq!(one_time.len(), 40, "every one-time KeyPackage handed out");
    assert_eq!(distinct.len(), 40, "none handed out twice, on any node");
    assert_eq!(distinct, key_packages.into_iter().collect::<HashSet<_>>());
    assert_eq!(last_resorts, 60);

    // Nine commits for epoch 0, three through each node, at once: exactly one wins.
    let group = random::<32>();
    let secret = random::<32>();
    let key = AccessKey::from_exporter_secret(&secret);
    create(&mut nodes[1].groups().await, &group, &key).await;
    let mut racers = Vec::new();
    for i in 0..9usize {
        let mut groups = nodes[i % 3].groups().await;
        let key = AccessKey::from_exporter_secret(&secret);
        racers.push(tokio::spawn(async move {
            let message = frame(&format!("commit {i}"));
            commit(&mut groups, &group, 0, &key, &message, &access_key())
                .await
                .map(|_| message)
        }));
    }
    let mut winners = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(message) => winners.push(message),
            Err(status) => assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}"),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one of nine racing commits wins");
    for node in &nodes {
        let entries = read(&mut node.groups().await, &group, 0, &key, 0)
            .await
            .unwrap()
            .entries;
        assert_eq!(entries.len(), 1, "every node holds the one commit");
        assert_eq!(entries[0].message, winners[0]);
    }
    for node in &mut nodes {
        node.stop().await;
    }
}
