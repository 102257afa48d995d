//! The sender of a sealed delivery is checked with the record the delivery carries, never by
//! asking the relay's directory (which would tell the relay who wrote to whom). Real relay on
//! loopback (TLS), real stores; hostile deposits made with parley-testkit's TestUser.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{deposit, inbox_of, registered};
use parley_client::{Alert, Message, Verification};
use parley_testkit::{TestRelay, TestUser};
use tempfile::TempDir;

fn texts(messages: &[Message]) -> Vec<(String, String)> {
    messages
        .iter()
        .filter(|m| !m.body.is_membership())
        .map(|m| {
            (
                m.sender.to_string(),
                m.text().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

/// alice writes to bob for the first time, then her handle vanishes from the directory:
/// bob still reads her, pinned to her key, because nothing he does asks the directory about
/// her (before the record travelled in the envelope, bob's lookup found nobody and the
/// invitation was refused).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_contact_is_read_without_asking_the_directory() {
    let mut relay = TestRelay::start();
    let homes = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    let to_bob = alice.resolve("bob").await.unwrap();
    alice.send_text(&to_bob, "first words").await.unwrap();
    let alice_key = alice.whoami().unwrap().identity_key;
    drop(alice);

    let released = relay.release_handle("alice").await;
    assert!(released.record);
    let received = bob.sync().await.unwrap();
    assert_eq!(
        texts(&received.messages),
        [("alice".to_owned(), "first words".to_owned())]
    );
    assert!(bob.alerts().await.unwrap().is_empty());
    let contacts = bob.contacts().await.unwrap();
    let pinned = contacts
        .iter()
        .find(|c| c.handle.as_str() == "alice")
        .unwrap();
    assert_eq!(pinned.identity_key, alice_key);
}

/// A record that names someone other than the envelope's sender proves nothing: refused,
/// and nobody is pinned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_naming_someone_else_is_refused() {
    let relay = TestRelay::start();
    let home = TempDir::new().unwrap();
    let bob = registered(&relay, home.path(), "bob").await;
    let (bob_handle, bob_inbox) = inbox_of(&relay, "bob").await;
    let mallory = TestUser::new("mallory");
    let carol = TestUser::new("carol");
    let sealed =
        mallory.seal_with_record(&carol.record().to_bytes(), &bob_handle, &bob_inbox, b"hi");
    deposit(&relay, "bob", sealed).await;

    assert!(bob.sync().await.unwrap().messages.is_empty());
    let alerts = bob.alerts().await.unwrap();
    assert!(
        matches!(alerts.as_slice(), [Alert::InboxRefused { .. }]),
        "{alerts:?}"
    );
    assert!(bob.contacts().await.unwrap().is_empty());
}

/// Someone who makes their own record for "alice" and writes to bob, who pinned the real
/// alice: the delivery is held and alice turns CHANGED (as when a group carries another key
/// for her), her pinned key stays, and the real alice still reaches bob.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forged_record_for_a_pinned_contact_is_held_not_adopted() {
    let relay = TestRelay::start();
    let homes = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    let to_bob = alice.resolve("bob").await.unwrap();
    alice.send_text(&to_bob, "the real alice").await.unwrap();
    bob.sync().await.unwrap();
    let alice_key = alice.whoami().unwrap().identity_key;

    let (bob_handle, bob_inbox) = inbox_of(&relay, "bob").await;
    let impostor = TestUser::new("alice");
    let sealed = impostor.seal_with_record(
        &impostor.record().to_bytes(),
        &bob_handle,
        &bob_inbox,
        b"not a welcome",
    );
    deposit(&relay, "bob", sealed).await;
    assert!(bob.sync().await.unwrap().messages.is_empty());
    let alerts = bob.alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| matches!(a, Alert::KeyChanged { handle } if handle.as_str() == "alice")),
        "{alerts:?}"
    );
    let contacts = bob.contacts().await.unwrap();
    let pinned = contacts
        .iter()
        .find(|c| c.handle.as_str() == "alice")
        .unwrap();
    assert_eq!(pinned.identity_key, alice_key, "the pin is never replaced");
    assert_eq!(pinned.status, Verification::Changed);

    alice.send_text(&to_bob, "still me").await.unwrap();
    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice".to_owned(), "still me".to_owned())]
    );
}

/// alice invites bob into a group with carol, whom bob has never met: alice's invitation
/// carries her record of carol, which matches carol's leaf, so bob pins carol without a
/// lookup either (both alice and carol have left the directory when bob reads it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_invitation_carries_the_records_of_the_other_members() {
    let mut relay = TestRelay::start();
    let homes = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    let carol = registered(&relay, homes.2.path(), "carol").await;
    let group = alice
        .create_group(
            "summit",
            &["bob".parse().unwrap(), "carol".parse().unwrap()],
        )
        .await
        .unwrap();
    alice.send_text(&group, "welcome, both").await.unwrap();
    let carol_key = carol.whoami().unwrap().identity_key;
    drop((alice, carol));
    assert!(relay.release_handle("alice").await.record);
    assert!(relay.release_handle("carol").await.record);

    let received = bob.sync().await.unwrap();
    assert_eq!(
        texts(&received.messages),
        [("alice".to_owned(), "welcome, both".to_owned())]
    );
    assert!(bob.alerts().await.unwrap().is_empty());
    let contacts = bob.contacts().await.unwrap();
    let carol_pin = contacts
        .iter()
        .find(|c| c.handle.as_str() == "carol")
        .unwrap();
    assert_eq!(carol_pin.identity_key, carol_key);
}
