//! What the relay stores of a Welcome does not tell the size of the group: the deposits of
//! the Welcomes into a 1:1, a group of two and a group of a hundred, as the client sends
//! them and the relay keeps them, have one length.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::registered;
use parley_client::Handle;
use parley_crypto::auth::{body, OwnerMethod};
use parley_crypto::mls::Mls;
use parley_proto::v1::{FetchRequest, PublishKeyPackagesRequest};
use parley_testkit::{now_ms, TestRelay, TestUser};

/// The one length of every Welcome deposit of a group of up to a hundred members.
const WELCOME_DEPOSIT_LEN: usize = 64 * 1024;

/// Someone to invite: a registered handle with one KeyPackage, made by the real engine as
/// every client makes it.
async fn invitee(relay: &TestRelay, handle: &str) -> TestUser {
    let user = TestUser::new(handle);
    let mut directory = relay.directory().await;
    user.register(&mut directory).await;
    let mut mls = Mls::new(user.handle.clone(), &user.identity, Vec::new()).unwrap();
    let key_packages = mls.generate_key_packages(1, false, now_ms()).unwrap();
    let auth = user
        .owner_auth(
            &mut directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&key_packages, &[]),
        )
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: handle.into(),
            key_packages,
            last_resort: Vec::new(),
            auth: Some(auth),
        })
        .await
        .unwrap();
    user
}

/// The lengths of the deposits the relay holds for `user`, as it hands them out.
async fn stored(relay: &TestRelay, user: &TestUser) -> Vec<usize> {
    let mut directory = relay.directory().await;
    let auth = user
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
        .await;
    relay
        .inbox()
        .await
        .fetch(FetchRequest {
            handle: user.handle.as_str().into(),
            limit: 0,
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries
        .iter()
        .map(|d| d.envelope.len())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn welcomes_into_groups_of_two_and_of_a_hundred_are_stored_at_one_length() {
    let relay = TestRelay::start();
    let home = tempfile::tempdir().unwrap();
    let alice = registered(&relay, home.path(), "alice").await;
    let pair = invitee(&relay, "pair-peer").await;
    let direct = invitee(&relay, "direct-peer").await;
    let mut hundred = Vec::new();
    for i in 1..100 {
        hundred.push(invitee(&relay, &format!("member-{i:02}")).await);
    }

    alice
        .create_group("pair", std::slice::from_ref(&pair.handle))
        .await
        .unwrap();
    let to_direct = alice.resolve("direct-peer").await.unwrap();
    alice.send_text(&to_direct, "hello").await.unwrap();
    let handles: Vec<Handle> = hundred.iter().map(|u| u.handle.clone()).collect();
    alice.create_group("hundred", &handles).await.unwrap();
    let group = alice.resolve("hundred").await.unwrap();
    assert_eq!(alice.members(&group).await.unwrap().len(), 100);

    assert_eq!(
        stored(&relay, &pair).await,
        [WELCOME_DEPOSIT_LEN],
        "group of 2"
    );
    assert_eq!(stored(&relay, &direct).await, [WELCOME_DEPOSIT_LEN], "1:1");
    for member in [&hundred[0], &hundred[49], &hundred[98]] {
        assert_eq!(
            stored(&relay, member).await,
            [WELCOME_DEPOSIT_LEN],
            "group of 100, {}",
            member.handle
        );
    }
}
