//! Directory: registration, lookup, KeyPackage publication and claims.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::User;
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::{
    ClaimKeyPackageRequest, LookupRequest, PublishKeyPackagesRequest, RegisterRequest,
};
use parley_testkit::TestRelay;
use tonic::Code;

#[tokio::test]
async fn register_then_lookup_returns_the_record() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let alice = User::new("alice");
    let record = alice.record().to_bytes();
    directory
        .register(RegisterRequest {
            record: record.clone(),
        })
        .await
        .unwrap();
    let found = directory
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    assert_eq!(found, record);

    let err = directory
        .lookup(LookupRequest {
            handle: "bob".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    relay.stop().await;
}

#[tokio::test]
async fn a_taken_handle_is_already_exists() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    User::new("alice").register(&mut directory).await;
    // Another key claiming the same handle.
    let err = directory
        .register(RegisterRequest {
            record: User::new("alice").record().to_bytes(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);
    relay.stop().await;
}

#[tokio::test]
async fn malformed_records_are_invalid_argument() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let good = User::new("carol").record().to_bytes();

    let mut bad_signature = good.clone();
    *bad_signature.last_mut().unwrap() ^= 1;
    let mut trailing = good.clone();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("bad signature", bad_signature),
        ("trailing byte", trailing),
        ("oversized", vec![1u8; 1025]),
        ("garbage", vec![0xff; 200]),
    ];
    for (name, record) in cases {
        let err = directory
            .register(RegisterRequest { record })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{name}: {err:?}");
        assert!(
            err.message().starts_with("record"),
            "{name}: {}",
            err.message()
        );
    }
    // None of them registered anything; the real record still goes through.
    directory
        .register(RegisterRequest { record: good })
        .await
        .unwrap();
    relay.stop().await;
}

#[tokio::test]
async fn each_key_package_is_claimed_at_most_once_then_last_resort() {
    // 22 claims from one address: more than one source's share, which is not what this
    // test is about (limits.rs is).
    let mut relay = TestRelay::builder()
        .plaintext()
        .limits(parley_testkit::LimitsConfig {
            key_package_claims_per_source_per_minute: 0,
            ..parley_testkit::LimitsConfig::default()
        })
        .start();
    let mut directory = relay.directory().await;
    let alice = User::new("alice");
    alice.register(&mut directory).await;

    let key_packages: Vec<Vec<u8>> = (0u8..10).map(|i| vec![i; 512]).collect();
    let last_resort = vec![0xaa; 512];
    let digest = body::publish_key_packages(&key_packages, &last_resort);
    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    let available = directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: "alice".into(),
            key_packages: key_packages.clone(),
            last_resort: last_resort.clone(),
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .available;
    assert_eq!(available, 10);

    let mut claims = Vec::new();
    for _ in 0..20 {
        let mut client = relay.directory().await;
        claims.push(tokio::spawn(async move {
            client
                .claim_key_package(ClaimKeyPackageRequest {
                    handle: "alice".into(),
                })
                .await
                .unwrap()
                .into_inner()
        }));
    }
    let mut one_time = Vec::new();
    let mut last_resort_claims = 0;
    for claim in claims {
        let claimed = claim.await.unwrap();
        if claimed.last_resort {
            assert_eq!(claimed.key_package, last_resort);
            last_resort_claims += 1;
        } else {
            one_time.push(claimed.key_package);
        }
    }
    assert_eq!(one_time.len(), 10, "every one-time KeyPackage handed out");
    let distinct: HashSet<_> = one_time.iter().cloned().collect();
    assert_eq!(distinct.len(), 10, "no KeyPackage handed out twice");
    assert_eq!(distinct, key_packages.into_iter().collect::<HashSet<_>>());
    assert_eq!(last_resort_claims, 10);

    // The batch is empty: the last-resort one keeps being returned.
    for _ in 0..2 {
        let claimed = directory
            .claim_key_package(ClaimKeyPackageRequest {
                handle: "alice".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(claimed.last_resort);
        assert_eq!(claimed.key_package, last_resort);
    }

    // A handle without any KeyPackage.
    let err = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "nobody".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    relay.stop().await;
}

#[tokio::test]
async fn publishing_needs_the_owner_key_and_a_fresh_challenge() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let alice = User::new("alice");
    alice.register(&mut directory).await;
    let mallory = User::new("mallory");
    mallory.register(&mut directory).await;

    let key_packages = vec![vec![7u8; 256]];
    let digest = body::publish_key_packages(&key_packages, &[]);
    let request = |auth| PublishKeyPackagesRequest {
        replace: false,
        handle: "alice".into(),
        key_packages: key_packages.clone(),
        last_resort: Vec::new(),
        auth: Some(auth),
    };

    // Mallory signs for alice's handle with her own key.
    let challenge = common::challenge_for(&mut directory, "alice").await;
    let forged = mallory.sign_owner(OwnerMethod::PublishKeyPackages, challenge, digest);
    let err = directory
        .publish_key_packages(request(forged))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A challenge she asked for her own handle does not sign alice's calls at all.
    let own = mallory
        .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    let err = directory
        .publish_key_packages(request(own))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // A signature over a different body.
    let wrong_body = alice
        .owner_auth(
            &mut directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&[vec![8u8; 256]], &[]),
        )
        .await;
    let err = directory
        .publish_key_packages(request(wrong_body))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A valid auth works once; its replay is refused.
    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    directory
        .publish_key_packages(request(auth.clone()))
        .await
        .unwrap();
    let err = directory
        .publish_key_packages(request(auth))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // A challenge the relay never issued.
    let made_up = alice.sign_owner(OwnerMethod::PublishKeyPackages, [9; 32], digest);
    let err = directory
        .publish_key_packages(request(made_up))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);
    relay.stop().await;
}

#[tokio::test]
async fn a_released_handle_loses_record_key_packages_and_inbox_and_can_be_taken_again() {
    let dir = tempfile::tempdir().unwrap();
    let mut relay = TestRelay::builder()
        .plaintext()
        .data_dir(dir.path())
        .start();
    let mut directory = relay.directory().await;
    let alice = User::new("alice");
    alice.register(&mut directory).await;
    User::new("bob").register(&mut directory).await;
    let key_packages: Vec<Vec<u8>> = (0u8..3).map(|i| vec![i; 512]).collect();
    let last_resort = vec![0xaa; 512];
    let auth = alice
        .owner_auth(
            &mut directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&key_packages, &last_resort),
        )
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: "alice".into(),
            key_packages,
            last_resort,
            auth: Some(auth),
        })
        .await
        .unwrap();
    let mut inbox = relay.inbox().await;
    for i in 0..2u8 {
        inbox
            .deposit(parley_proto::v1::DepositRequest {
                handle: "alice".into(),
                envelope: vec![i; 256],
            })
            .await
            .unwrap();
    }
    relay.stop().await;

    // While stopped, the operator frees the handle; the running relay would refuse (lock).
    let released = parley_relay::release_handle(dir.path(), "alice").unwrap();
    assert_eq!(
        (released.record, released.key_packages, released.deliveries),
        (true, 4, 2)
    );
    let again = parley_relay::release_handle(dir.path(), "alice").unwrap();
    assert!(!again.record, "a second release finds nothing");
    assert!(parley_relay::release_handle(dir.path(), "Not A Handle").is_err());

    relay.restart().await;
    let mut directory = relay.directory().await;
    let err = directory
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    let err = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        err.code(),
        Code::NotFound,
        "no KeyPackage of the old key is left"
    );
    // Someone with a new key registers it; other handles are untouched.
    let new_alice = User::new("alice");
    new_alice.register(&mut directory).await;
    let found = directory
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    let found = parley_crypto::directory::SignedRecord::decode_and_verify(&found).unwrap();
    assert_eq!(
        found.record().identity_key.to_bytes(),
        new_alice.record().record().identity_key.to_bytes(),
        "the new key holds the handle"
    );
    directory
        .lookup(LookupRequest {
            handle: "bob".into(),
        })
        .await
        .unwrap();
    let mut inbox = relay.inbox().await;
    let waiting = common::fetch(&mut directory, &mut inbox, &new_alice).await;
    assert!(waiting.is_empty(), "the old inbox is gone: {waiting:?}");
    relay.stop().await;
}
