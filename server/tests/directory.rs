//! Directory: registration, lookup, key rotation, KeyPackage publication and claims.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;

use common::{now_ms, resigned_rotation, User};
use parley_crypto::auth::{body, OwnerMethod};
use parley_crypto::directory::SignedRecord;
use parley_crypto::rotation::{
    follow_chain, Rotation, RotationError, MAX_CHAIN_LEN, MAX_ROTATION_LEN,
};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::{
    ClaimKeyPackageRequest, LookupRequest, PublishKeyPackagesRequest, RegisterRequest,
    RotateRequest,
};
use parley_testkit::TestRelay;
use tonic::transport::Channel;
use tonic::{Code, Status};

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

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

async fn register(directory: &mut DirectoryClient<Channel>, record: &SignedRecord) {
    directory
        .register(RegisterRequest {
            record: record.to_bytes(),
        })
        .await
        .unwrap();
}

async fn rotate(directory: &mut DirectoryClient<Channel>, rotation: &[u8]) -> Result<(), Status> {
    directory
        .rotate(RotateRequest {
            rotation: rotation.to_vec(),
        })
        .await
        .map(|_| ())
}

/// The record held for `handle` and the rotations served with it, both verified.
async fn lookup(
    directory: &mut DirectoryClient<Channel>,
    handle: &str,
) -> (SignedRecord, Vec<Rotation>) {
    let found = directory
        .lookup(LookupRequest {
            handle: handle.into(),
        })
        .await
        .unwrap()
        .into_inner();
    let record = SignedRecord::decode_and_verify(&found.record).unwrap();
    let rotations = found
        .rotations
        .iter()
        .map(|r| Rotation::decode_and_verify(r).unwrap())
        .collect();
    (record, rotations)
}

/// Publishes three one-time KeyPackages and a last-resort one for `user`.
async fn publish_some(
    directory: &mut DirectoryClient<Channel>,
    user: &User,
) -> Result<u32, Status> {
    let key_packages: Vec<Vec<u8>> = (0u8..3).map(|i| vec![i; 512]).collect();
    let last_resort = vec![0xaa; 512];
    let auth = user
        .owner_auth(
            directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&key_packages, &last_resort),
        )
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: user.handle.as_str().into(),
            key_packages,
            last_resort,
            auth: Some(auth),
        })
        .await
        .map(|r| r.into_inner().available)
}

#[tokio::test]
async fn a_rotation_by_the_held_key_replaces_the_record_and_anything_else_is_refused() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let now = now_ms();
    let alice = User::new("alice");
    let v1 = alice.record_at(1, now);
    register(&mut directory, &v1).await;
    assert_eq!(publish_some(&mut directory, &alice).await.unwrap(), 3);
    let claimed = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!claimed.last_resort, "the KeyPackages are there before");

    // Alice moves to a new key, endorsed by the old one.
    let alice2 = User::new("alice");
    let v2 = alice2.record_at(2, now + 1);
    let first = Rotation::sign(&v1, &v2, &alice.identity).unwrap();
    rotate(&mut directory, first.as_bytes()).await.unwrap();
    let (held, rotations) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), v2.as_bytes(), "the new record is served");
    assert_eq!(rotations.len(), 1);
    assert_eq!(rotations[0].as_bytes(), first.as_bytes());
    assert_eq!(rotations[0].old().as_bytes(), v1.as_bytes());
    assert_eq!(rotations[0].new_record().as_bytes(), v2.as_bytes());
    assert_eq!(
        follow_chain(&alice.identity.public_key(), &rotations, &held),
        Ok(())
    );

    // The KeyPackages of the old key are gone, the last-resort one included.
    let err = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");
    // Owner calls now need the new key.
    let err = publish_some(&mut directory, &alice).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
    assert_eq!(publish_some(&mut directory, &alice2).await.unwrap(), 3);

    // The same rotation again, and one by the old key (a stolen laptop) from the record it
    // no longer holds.
    let err = rotate(&mut directory, first.as_bytes()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "replay: {err:?}");
    let thief = User::new("alice");
    let stolen = Rotation::sign(&v1, &thief.record_at(3, now + 2), &alice.identity).unwrap();
    let err = rotate(&mut directory, stolen.as_bytes()).await.unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "old key: {err:?}");

    // A stranger's own record of the handle as "old": a valid rotation, of another record
    // than the one held.
    let mallory = User::new("alice");
    let m1 = mallory.record_at(2, now);
    let m2 = mallory.record_at(3, now + 2);
    let strangers = Rotation::sign(&m1, &m2, &mallory.identity).unwrap();
    let err = rotate(&mut directory, strangers.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "stranger: {err:?}");

    // The held record as "old", signed by the stranger instead of its key: does not verify.
    let genuine = Rotation::sign(&v2, &m2, &alice2.identity).unwrap();
    let forged = resigned_rotation(genuine.as_bytes(), &mallory);
    assert_eq!(
        Rotation::decode_and_verify(&forged),
        Err(RotationError::BadSignature)
    );
    let err = rotate(&mut directory, &forged).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "forged: {err:?}");

    // Malformed rotations.
    let good = Rotation::sign(&v2, &m2, &alice2.identity).unwrap();
    let good = good.as_bytes();
    let mut flipped = good.to_vec();
    flipped[10] ^= 1;
    let mut trailing = good.to_vec();
    trailing.push(0);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty", Vec::new()),
        ("garbage", vec![0xff; 200]),
        ("truncated", good[..good.len() - 1].to_vec()),
        ("trailing byte", trailing),
        ("record flipped", flipped),
        ("oversized", vec![1; MAX_ROTATION_LEN + 1]),
    ];
    for (name, rotation) in cases {
        let err = rotate(&mut directory, &rotation).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{name}: {err:?}");
        assert!(
            err.message().starts_with("rotation"),
            "{name}: {}",
            err.message()
        );
    }

    // A handle nobody registered.
    let bob = User::new("bob");
    let nobody = Rotation::sign(
        &bob.record_at(1, now),
        &User::new("bob").record_at(2, now + 1),
        &bob.identity,
    )
    .unwrap();
    let err = rotate(&mut directory, nobody.as_bytes()).await.unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "{err:?}");

    // Records dated two days ahead of the relay's clock, rotated to or registered; a day's
    // drift less than that is accepted.
    let ahead =
        Rotation::sign(&v2, &thief.record_at(3, now + 2 * DAY_MS), &alice2.identity).unwrap();
    let err = rotate(&mut directory, ahead.as_bytes()).await.unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let carol = User::new("carol");
    let err = directory
        .register(RegisterRequest {
            record: carol.record_at(1, now + 2 * DAY_MS).to_bytes(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
    let err = directory
        .lookup(LookupRequest {
            handle: "carol".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "nothing was registered");
    register(&mut directory, &carol.record_at(1, now + DAY_MS / 2)).await;

    // None of the refusals changed what alice's handle holds.
    let (held, rotations) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), v2.as_bytes());
    assert_eq!(rotations, vec![first]);
    relay.stop().await;
}

#[tokio::test]
async fn rotations_chain_keep_the_last_sixteen_and_a_released_handle_forgets_them() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let now = now_ms();
    // Alice goes through 18 keys: 17 rotations.
    let keys: Vec<User> = (0..=MAX_CHAIN_LEN + 1)
        .map(|_| User::new("alice"))
        .collect();
    let records: Vec<SignedRecord> = keys
        .iter()
        .zip(0u64..)
        .map(|(user, i)| user.record_at(i + 1, now + i))
        .collect();
    let rotations: Vec<Rotation> = (0..keys.len() - 1)
        .map(|i| Rotation::sign(&records[i], &records[i + 1], &keys[i].identity).unwrap())
        .collect();
    register(&mut directory, &records[0]).await;
    // A neighbour whose handle starts with alice's, with a rotation of its own.
    let neighbour = User::new("alice2");
    let neighbour_new = User::new("alice2");
    let n1 = neighbour.record_at(1, now);
    register(&mut directory, &n1).await;
    let neighbours =
        Rotation::sign(&n1, &neighbour_new.record_at(2, now), &neighbour.identity).unwrap();
    rotate(&mut directory, neighbours.as_bytes()).await.unwrap();

    rotate(&mut directory, rotations[0].as_bytes())
        .await
        .unwrap();
    rotate(&mut directory, rotations[1].as_bytes())
        .await
        .unwrap();
    let (held, served) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), records[2].as_bytes());
    assert_eq!(served, rotations[..2], "both, oldest first");
    let first_key = keys[0].identity.public_key();
    assert_eq!(follow_chain(&first_key, &served, &held), Ok(()));
    assert_eq!(
        follow_chain(&first_key, &served[..1], &held),
        Err(RotationError::Unlinked),
        "the chain test can fail"
    );

    for rotation in &rotations[2..] {
        rotate(&mut directory, rotation.as_bytes()).await.unwrap();
    }
    let (held, served) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), records[MAX_CHAIN_LEN + 1].as_bytes());
    assert_eq!(served.len(), MAX_CHAIN_LEN);
    assert_eq!(served, rotations[1..], "the oldest one was dropped");
    assert_eq!(
        follow_chain(&keys[1].identity.public_key(), &served, &held),
        Ok(())
    );
    let (_, served) = lookup(&mut directory, "alice2").await;
    assert_eq!(served, vec![neighbours.clone()]);

    // The operator frees the handle (relay stopped, released, restarted).
    let released = relay.release_handle("alice").await;
    assert!(released.record);
    let mut directory = relay.directory().await;
    let new_alice = User::new("alice");
    let new_record = new_alice.record_at(1, now_ms());
    register(&mut directory, &new_record).await;
    let (held, served) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), new_record.as_bytes());
    assert!(served.is_empty(), "the old chain is gone: {served:?}");

    // Nothing of the old owner's chain applies to the new owner's record.
    for rotation in [&rotations[0], &rotations[MAX_CHAIN_LEN]] {
        let err = rotate(&mut directory, rotation.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    }
    let last_key = &keys[MAX_CHAIN_LEN + 1];
    let by_old_owner = Rotation::sign(
        &records[MAX_CHAIN_LEN + 1],
        &last_key.record_at(100, now_ms()),
        &last_key.identity,
    )
    .unwrap();
    let err = rotate(&mut directory, by_old_owner.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition, "{err:?}");
    let (held, served) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), new_record.as_bytes());
    assert!(served.is_empty());

    // The new owner's own rotation starts a new chain; the neighbour kept its own.
    let newer = User::new("alice").record_at(2, now_ms());
    let own = Rotation::sign(&new_record, &newer, &new_alice.identity).unwrap();
    rotate(&mut directory, own.as_bytes()).await.unwrap();
    let (held, served) = lookup(&mut directory, "alice").await;
    assert_eq!(held.as_bytes(), newer.as_bytes());
    assert_eq!(served, vec![own]);
    let (_, served) = lookup(&mut directory, "alice2").await;
    assert_eq!(served, vec![neighbours]);
    relay.stop().await;
}
