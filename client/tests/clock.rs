//! KeyPackage lifetimes by the clock each client is given, moved by the test instead of
//! waited for: the publisher's clock dates its KeyPackages, the adder's clock judges them.
//! (Challenge expiry, the replay window and retention are driven by the relay's clock in
//! server/tests/clock.rs.)

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::open_on_clock;
use parley_client::{ClientError, Handle};
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::{KeyPackageLifetime, Mls, KEY_PACKAGE_LIFETIME};
use parley_proto::v1::ClaimKeyPackageRequest;
use parley_testkit::{now_ms, ManualClock, TestRelay};
use rand::rngs::OsRng;

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

fn h(text: &str) -> Handle {
    text.parse().unwrap()
}

/// The lifetime of one KeyPackage of `handle`, claimed straight from the relay.
async fn claimed_lifetime(relay: &TestRelay, handle: &str) -> KeyPackageLifetime {
    let claimed = relay
        .directory()
        .await
        .claim_key_package(ClaimKeyPackageRequest {
            handle: handle.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    let reader = Mls::new(h("reader"), &IdentitySecretKey::generate(&mut OsRng), []).unwrap();
    reader.key_package_lifetime(&claimed.key_package).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_packages_are_dated_by_the_publishers_clock() {
    let relay = TestRelay::start();
    let home = tempfile::tempdir().unwrap();
    // Ten days behind the real time: KeyPackages dated by the system clock would show it.
    let clock = ManualClock::new();
    clock.set(now_ms() - 10 * DAY.as_millis() as u64);
    let published_at = clock.now_ms();
    let alice = open_on_clock(&relay, home.path(), &clock).await;
    alice.register(&h("alice")).await.unwrap();

    let lifetime = claimed_lifetime(&relay, "alice").await;
    assert_eq!(lifetime, KeyPackageLifetime::starting_at(published_at));
    assert_eq!(
        lifetime.not_after_secs - published_at / 1000,
        KEY_PACKAGE_LIFETIME.as_secs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_adder_refuses_key_packages_outside_their_lifetime_by_its_clock() {
    let relay = TestRelay::start();
    let (alice_home, bob_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice_clock = ManualClock::new();
    let alice = open_on_clock(&relay, alice_home.path(), &alice_clock).await;
    alice.register(&h("alice")).await.unwrap();
    let bob_clock = ManualClock::new();
    let bob = open_on_clock(&relay, bob_home.path(), &bob_clock).await;
    bob.register(&h("bob")).await.unwrap();
    let to_alice = bob.resolve("alice").await.unwrap();

    // Twelve weeks and a day later by Bob's clock, Alice's packages have expired.
    bob_clock.advance(KEY_PACKAGE_LIFETIME + DAY);
    let err = bob.send_text(&to_alice, "hello").await.unwrap_err();
    assert!(
        matches!(err, ClientError::ContactKeysExpired(ref who) if who == "alice"),
        "{err:?}"
    );
    assert!(err.to_string().contains("ask them to open Parley"), "{err}");

    // Two hours behind Alice's clock, they are not valid yet (the skew allowed is one hour).
    bob_clock.set(alice_clock.now_ms() - 2 * 60 * 60 * 1000);
    let err = bob.send_text(&to_alice, "hello").await.unwrap_err();
    assert!(
        matches!(err, ClientError::ContactKeysExpired(ref who) if who == "alice"),
        "{err:?}"
    );

    // Stale keys are a quiet contact, not an attack: no alert was raised.
    assert!(bob.alerts().await.unwrap().is_empty());

    // Back on Alice's time the same packages serve: the 1:1 starts. (Moving clocks past the
    // real time cannot show a package accepted: OpenMLS also checks lifetimes against the
    // system clock, so only refusals are tested beyond it.)
    bob_clock.set(alice_clock.now_ms());
    bob.send_text(&to_alice, "hello again").await.unwrap();
    let received = alice.sync().await.unwrap().messages;
    assert!(
        received.iter().any(|m| m.text() == Some("hello again")),
        "{received:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quiet_user_can_still_be_invited_after_120_days() {
    // The story ends at the real time (OpenMLS also checks lifetimes against the system
    // clock, so a package dated in the future could not be used): it starts 120 days ago.
    let relay = TestRelay::start();
    let (alice_home, bob_home) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let clock = ManualClock::new();
    clock.set(now_ms() - 120 * DAY.as_millis() as u64);
    let registered_at = clock.now_ms();
    let alice = open_on_clock(&relay, alice_home.path(), &clock).await;
    alice.register(&h("alice")).await.unwrap();
    let bob = open_on_clock(&relay, bob_home.path(), &clock).await;
    bob.register(&h("bob")).await.unwrap();

    // Alice says nothing and nobody writes to her; her client syncs once a week.
    for _ in 0..17 {
        clock.advance(7 * DAY);
        alice.sync().await.unwrap();
        bob.sync().await.unwrap();
    }
    clock.set(now_ms());

    // The KeyPackages the relay hands out now were made within the last rotation period
    // and are valid (fifteen claims: within one source's share of claims for a handle).
    let newest_allowed = clock.now_ms() / 1000 + 60 * 60;
    for _ in 0..15 {
        let lifetime = claimed_lifetime(&relay, "alice").await;
        assert!(
            lifetime.not_before_secs * 1000 > registered_at + 90 * DAY.as_millis() as u64,
            "an old KeyPackage is still handed out: {lifetime:?}"
        );
        assert!(lifetime.not_before_secs <= newest_allowed, "{lifetime:?}");
        lifetime.check(clock.now_ms()).unwrap();
    }

    // Bob invites her, and she joins and reads.
    bob.create_group("quarter", &[h("alice")]).await.unwrap();
    let to_group = bob.resolve("quarter").await.unwrap();
    bob.send_text(&to_group, "welcome back").await.unwrap();
    let received = alice.sync().await.unwrap().messages;
    assert!(
        received.iter().any(|m| m.text() == Some("welcome back")),
        "{received:?}"
    );
    assert!(alice.alerts().await.unwrap().is_empty());
    assert!(bob.alerts().await.unwrap().is_empty());
}
