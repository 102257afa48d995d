//! A person rotates their keys: contacts see a rotation their pinned key signed (a verified
//! contact stays verified), every conversation moves to the new key by an MLS commit, and
//! the rotated person can still be written to, invited and read, also after a restart.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{h, next_texts, open, registered, to};
use parley_client::{Alert, Client, Verification};
use parley_testkit::TestRelay;
use tempfile::TempDir;

/// `who`'s status for `peer` and the key pinned for them.
async fn pin_of(who: &Client, peer: &str) -> (Verification, String) {
    let contact = who
        .contacts()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.handle == h(peer))
        .unwrap();
    (contact.status, contact.identity_key)
}

/// The member keys of a conversation as `who` sees them, with their status.
async fn members(who: &Client, conversation: &str) -> Vec<(String, String, Verification)> {
    who.members(&to(who, conversation).await)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.handle.to_string(), m.identity_key, m.status))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contacts_see_a_rotation_and_every_conversation_moves_to_the_new_key() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..4).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    let carol = registered(&relay, homes[2].path(), "carol").await;
    alice
        .send_text(&to(&alice, "bob").await, "hello bob")
        .await
        .unwrap();
    alice
        .create_group("summit", &[h("bob"), h("carol")])
        .await
        .unwrap();
    alice
        .send_text(&to(&alice, "summit").await, "agenda")
        .await
        .unwrap();
    let mut heard = next_texts(&bob).await;
    heard.sort();
    assert_eq!(heard, ["agenda", "hello bob"]);
    assert_eq!(next_texts(&carol).await, ["agenda"]);
    // bob met alice and compared safety numbers; carol did not.
    bob.confirm_verified(&h("alice")).await.unwrap();
    let old_key = alice.whoami().unwrap().identity_key;

    let report = alice.rotate_keys().await.unwrap();
    assert_eq!(report.old_identity_key, old_key);
    assert_ne!(report.new_identity_key, old_key);
    assert_eq!(
        (report.conversations_moved, report.conversations_waiting),
        (2, 0)
    );
    let new_key = report.new_identity_key.clone();
    assert_eq!(alice.whoami().unwrap().identity_key, new_key);

    alice
        .send_text(&to(&alice, "summit").await, "same alice, new key")
        .await
        .unwrap();
    alice
        .send_text(&to(&alice, "bob").await, "just to you")
        .await
        .unwrap();
    let mut heard = next_texts(&bob).await;
    heard.sort();
    assert_eq!(heard, ["just to you", "same alice, new key"]);
    assert_eq!(next_texts(&carol).await, ["same alice, new key"]);
    assert_eq!(
        pin_of(&bob, "alice").await,
        (Verification::Verified, new_key.clone())
    );
    assert_eq!(
        pin_of(&carol, "alice").await,
        (Verification::Unverified, new_key.clone())
    );
    for (who, verified) in [(&bob, true), (&carol, false)] {
        let alerts = who.alerts().await.unwrap();
        assert!(
            alerts.contains(&Alert::KeyRotated {
                handle: h("alice"),
                verified
            }),
            "{alerts:?}"
        );
        assert!(
            !alerts.iter().any(|a| matches!(a, Alert::KeyChanged { .. })),
            "{alerts:?}"
        );
    }
    assert!(members(&carol, "alice/summit").await.contains(&(
        "alice".to_owned(),
        new_key.clone(),
        Verification::Unverified
    )));

    // The others write back and alice reads them, in both conversations.
    bob.send_text(&to(&bob, "alice").await, "got it")
        .await
        .unwrap();
    carol
        .send_text(&to(&carol, "alice/summit").await, "welcome back")
        .await
        .unwrap();
    let mut heard = next_texts(&alice).await;
    heard.sort();
    assert_eq!(heard, ["got it", "welcome back"]);

    // Someone new finds only the new key; a new group with alice uses KeyPackages of it.
    let dave = registered(&relay, homes[3].path(), "dave").await;
    dave.send_text(&to(&dave, "alice").await, "first contact")
        .await
        .unwrap();
    bob.create_group("side", &[h("alice")]).await.unwrap();
    bob.send_text(&to(&bob, "side").await, "a side room")
        .await
        .unwrap();
    let mut heard = next_texts(&alice).await;
    heard.sort();
    assert_eq!(heard, ["a side room", "first contact"]);
    assert_eq!(pin_of(&dave, "alice").await.1, new_key);
    assert!(members(&bob, "side").await.contains(&(
        "alice".to_owned(),
        new_key.clone(),
        Verification::Verified
    )));

    // A restart keeps the new keys (and the old ones for what is still sealed to them).
    drop(alice);
    let alice = open(&relay, homes[0].path()).await;
    assert_eq!(alice.whoami().unwrap().identity_key, new_key);
    alice
        .send_text(&to(&alice, "summit").await, "after a restart")
        .await
        .unwrap();
    assert_eq!(next_texts(&carol).await, ["after a restart"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_contact_who_pinned_the_old_record_reaches_the_new_key_and_keys_rotate_twice() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..2).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    // bob pins alice's first record, then alice rotates before bob writes to her: bob's
    // client meets the new key in her KeyPackage and follows the rotation from its pin.
    bob.verification(&h("alice")).await.unwrap();
    alice.rotate_keys().await.unwrap();
    bob.send_text(&to(&bob, "alice").await, "did you change keys?")
        .await
        .unwrap();
    assert_eq!(next_texts(&alice).await, ["did you change keys?"]);
    // A second rotation, with nothing left to move from the first, goes ahead.
    let second = alice.rotate_keys().await.unwrap();
    assert_eq!(second.conversations_moved, 1);
    alice
        .send_text(&to(&alice, "bob").await, "yes, twice")
        .await
        .unwrap();
    assert_eq!(next_texts(&bob).await, ["yes, twice"]);
    let alerts = bob.alerts().await.unwrap();
    assert!(
        !alerts.iter().any(|a| matches!(a, Alert::KeyChanged { .. })),
        "{alerts:?}"
    );
    let rotations = alerts
        .iter()
        .filter(|a| matches!(a, Alert::KeyRotated { .. }))
        .count();
    assert_eq!(rotations, 2, "{alerts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invitation_from_a_rotated_contact_is_joined_not_held() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..2).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let carol = registered(&relay, homes[1].path(), "carol").await;
    // carol pinned alice's first key but shares no conversation with her: no MLS commit will
    // tell her of the rotation. alice's invitation carries her new record.
    carol.verification(&h("alice")).await.unwrap();
    alice.rotate_keys().await.unwrap();
    alice.create_group("fresh", &[h("carol")]).await.unwrap();
    alice
        .send_text(&to(&alice, "fresh").await, "a new room")
        .await
        .unwrap();
    assert_eq!(next_texts(&carol).await, ["a new room"]);
    let new_key = alice.whoami().unwrap().identity_key;
    assert_eq!(
        pin_of(&carol, "alice").await,
        (Verification::Unverified, new_key)
    );
    let alerts = carol.alerts().await.unwrap();
    assert!(
        alerts.contains(&Alert::KeyRotated {
            handle: h("alice"),
            verified: false
        }),
        "{alerts:?}"
    );
    assert!(
        !alerts.iter().any(|a| matches!(a, Alert::KeyChanged { .. })),
        "{alerts:?}"
    );
}
