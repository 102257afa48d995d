//! Sizes the relay enforces: every ciphertext it stores (a deposit, a group log entry, a
//! KeyPackage) is exactly one padding bucket long, or the request is INVALID_ARGUMENT and
//! nothing is stored.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::groups::{commit, create, post, read};
use common::{access_key, fetch, random, User};
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::{ClaimKeyPackageRequest, DepositRequest, PublishKeyPackagesRequest};
use parley_testkit::TestRelay;
use tonic::{Code, Status};

/// Sizes next to buckets, none of them a bucket.
const NOT_BUCKETS: [usize; 5] = [1, 255, 300, 513, 65_537];

/// Asserts an INVALID_ARGUMENT naming `field`.
fn assert_refused<T: std::fmt::Debug>(result: Result<T, Status>, field: &str, len: usize) {
    let status = result.expect_err(&format!("{field} of {len} bytes was accepted"));
    assert_eq!(status.code(), Code::InvalidArgument, "{len}: {status:?}");
    assert!(
        status.message().starts_with(field) && status.message().contains("bucket"),
        "{len}: {}",
        status.message()
    );
}

#[tokio::test]
async fn a_deposit_of_a_non_bucket_size_is_refused() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let deposit = |len: usize| DepositRequest {
        handle: "bob".into(),
        envelope: vec![7; len],
    };

    assert_refused(inbox.deposit(deposit(300)).await, "envelope", 300);
    for len in NOT_BUCKETS {
        assert_refused(inbox.deposit(deposit(len)).await, "envelope", len);
    }
    for len in [256, 512, 65_536, 131_072] {
        inbox.deposit(deposit(len)).await.unwrap();
    }
    let stored: Vec<usize> = fetch(&mut directory, &mut inbox, &bob)
        .await
        .iter()
        .map(|d| d.envelope.len())
        .collect();
    assert_eq!(stored, vec![256, 512, 65_536, 131_072]);
    relay.stop().await;
}

#[tokio::test]
async fn a_group_entry_of_a_non_bucket_size_is_refused() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let group_id = random::<32>();
    let key0 = access_key();
    let key1 = access_key();
    create(&mut groups, &group_id, &key0).await;

    for len in NOT_BUCKETS {
        let message = vec![7; len];
        assert_refused(
            post(&mut groups, &group_id, 0, &key0, &message).await,
            "message",
            len,
        );
        assert_refused(
            commit(&mut groups, &group_id, 0, &key0, &message, &key1).await,
            "message",
            len,
        );
    }
    let page = read(&mut groups, &group_id, 0, &key0, 0).await.unwrap();
    assert!(page.entries.is_empty(), "a refused entry was stored");
    assert_eq!(page.current_epoch, 0, "a refused commit moved the epoch");

    post(&mut groups, &group_id, 0, &key0, &[7; 256])
        .await
        .unwrap();
    commit(&mut groups, &group_id, 0, &key0, &[7; 1024], &key1)
        .await
        .unwrap();
    let page = read(&mut groups, &group_id, 0, &key0, 0).await.unwrap();
    let lens: Vec<usize> = page.entries.iter().map(|e| e.message.len()).collect();
    assert_eq!(lens, vec![256, 1024]);
    relay.stop().await;
}

#[tokio::test]
async fn a_key_package_of_a_non_bucket_size_is_refused() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let alice = User::new("alice");
    alice.register(&mut directory).await;

    for len in NOT_BUCKETS {
        for (one_time, last_resort, field) in [
            (vec![vec![7; len]], Vec::new(), "key_packages[0]"),
            (
                vec![vec![7; 512], vec![7; len]],
                Vec::new(),
                "key_packages[1]",
            ),
            (vec![vec![7; 512]], vec![7; len], "last_resort"),
        ] {
            let digest = body::publish_key_packages(&one_time, &last_resort);
            let auth = alice
                .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
                .await;
            let published = directory
                .publish_key_packages(PublishKeyPackagesRequest {
                    replace: false,
                    handle: "alice".into(),
                    key_packages: one_time,
                    last_resort,
                    auth: Some(auth),
                })
                .await;
            assert_refused(published, field, len);
        }
    }
    // Nothing of the refused batches was kept.
    let err = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);

    let one_time = vec![vec![1; 512]];
    let last_resort = vec![2; 1024];
    let digest = body::publish_key_packages(&one_time, &last_resort);
    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: "alice".into(),
            key_packages: one_time,
            last_resort,
            auth: Some(auth),
        })
        .await
        .unwrap();
    for expected in [vec![1; 512], vec![2; 1024]] {
        let claimed = directory
            .claim_key_package(ClaimKeyPackageRequest {
                handle: "alice".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(claimed.key_package, expected);
    }
    relay.stop().await;
}
