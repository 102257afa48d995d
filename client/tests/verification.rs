//! Verification against real relays on loopback (TLS, pinned self-signed certificate) and real
//! stores in temporary directories: contact status, a key substituted by the relay, accepting
//! and confirming keys, and group codes across membership changes.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use parley_client::{
    Client, ClientError, ContactInfo, ConversationId, ConversationState, KdfParams, Passphrase,
    Verification,
};
use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_testkit::TestRelay;
use tempfile::TempDir;

async fn open(relay: &TestRelay, home: &Path) -> Client {
    Client::builder()
        .home(home)
        .relay(relay.url())
        .relay_fingerprint(relay.fingerprint().unwrap())
        .passphrase(Passphrase::new("correct horse battery staple".into()))
        .kdf_params(KdfParams::insecure_for_tests())
        .build()
        .await
        .unwrap()
}

async fn registered(relay: &TestRelay, home: &Path, handle: &str) -> Client {
    let client = open(relay, home).await;
    client.register(&h(handle)).await.unwrap();
    client
}

/// A handle from test text.
fn h(text: &str) -> Handle {
    text.parse().unwrap()
}

/// The conversation a name means, by the library's one rule.
async fn to(client: &Client, name: &str) -> ConversationId {
    client.resolve(name).await.unwrap()
}

/// What people wrote, without the changes of members that are returned too.
fn said(messages: Vec<parley_client::Message>) -> Vec<parley_client::Message> {
    messages
        .into_iter()
        .filter(|m| !m.body.is_membership())
        .collect()
}

fn status_of(contacts: &[ContactInfo], handle: &str) -> Verification {
    contacts
        .iter()
        .find(|c| c.handle == handle)
        .unwrap_or_else(|| panic!("{handle} is not among the contacts: {contacts:?}"))
        .status
}

fn home() -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    (dir, path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_substituted_by_the_relay_blocks_sending_until_accepted_or_verified() {
    let mut relay = TestRelay::start();
    let (_a, alice_home) = home();
    let (_b, bob_home) = home();
    let alice = registered(&relay, &alice_home, "alice").await;
    let bob = registered(&relay, &bob_home, "bob").await;

    alice
        .send_text(&to(&alice, "bob").await, "hi bob")
        .await
        .unwrap();
    let got = said(bob.sync().await.unwrap().messages);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].sender_status, Verification::Unverified);
    assert!(!(got[0].sender_status == Verification::Verified));
    assert_eq!(
        status_of(&alice.contacts().await.unwrap(), "bob"),
        Verification::Unverified
    );
    let before = alice.verification(&h("bob")).await.unwrap();
    assert_eq!(before.status, Verification::Unverified);
    assert_eq!(
        before.digits,
        bob.verification(&h("alice")).await.unwrap().digits
    );
    assert_eq!(before.digits.len(), 60);
    assert_eq!(before.grouped.split(' ').count(), 12);
    let old_bob_key = bob.whoami().unwrap().identity_key;
    drop(bob);

    // The relay is replaced by one where "bob" belongs to someone else (same address and
    // certificate, so nothing but the directory tells). Alice's own record is carried over.
    let alice_record = relay
        .directory()
        .await
        .lookup(parley_proto::v1::LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    let port = relay.port();
    relay.stop().await;
    let relay2 = TestRelay::builder()
        .certificate_of(&relay)
        .port(port)
        .start();
    assert_eq!(relay2.fingerprint(), relay.fingerprint());
    let alice_record = SignedRecord::decode_and_verify(&alice_record).unwrap();
    relay2
        .directory()
        .await
        .register(parley_proto::v1::RegisterRequest {
            record: alice_record.to_bytes(),
        })
        .await
        .unwrap();
    let (_m, mallory_home) = home();
    let new_bob = registered(&relay2, &mallory_home, "bob").await;
    let new_bob_key = new_bob.whoami().unwrap().identity_key;
    assert_ne!(new_bob_key, old_bob_key);

    // Looking bob up shows the substitution: CHANGED, the pinned key kept, an alert.
    let changed = alice.verification(&h("bob")).await.unwrap();
    assert_eq!(changed.status, Verification::Changed);
    assert_ne!(changed.digits, before.digits);
    // The number shown is the one with the new key: what the new bob sees too.
    assert_eq!(
        changed.digits,
        new_bob.verification(&h("alice")).await.unwrap().digits
    );
    let contacts = alice.contacts().await.unwrap();
    assert_eq!(status_of(&contacts, "bob"), Verification::Changed);
    let pinned = contacts.iter().find(|c| c.handle == "bob").unwrap();
    assert_eq!(pinned.identity_key, old_bob_key);
    let alerts = alice
        .alerts()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    assert!(
        alerts
            .iter()
            .any(|a| a.to_string().contains("bob") && a.contains("changed")),
        "{alerts:?}"
    );

    // Blocked: the 1:1, a new group with bob, and adding bob.
    assert!(matches!(
        alice.send_text(&to(&alice, "bob").await, "are you there?").await,
        Err(ClientError::KeyChanged(h)) if h == "bob"
    ));
    assert!(matches!(
        alice.create_group("team", &[h("bob")]).await,
        Err(ClientError::KeyChanged(h)) if h == "bob"
    ));
    // Asking again does not multiply the alert.
    alice.verification(&h("bob")).await.unwrap();
    let again = alice
        .alerts()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    assert_eq!(
        again
            .iter()
            .filter(|a| a.to_string().contains("changed"))
            .count(),
        alerts
            .iter()
            .filter(|a| a.to_string().contains("changed"))
            .count()
    );

    // Accepting adopts the new key, unverified; the old 1:1 is kept aside, read-only.
    alice.accept_new_key(&h("bob")).await.unwrap();
    let contacts = alice.contacts().await.unwrap();
    let bob_now = contacts.iter().find(|c| c.handle == "bob").unwrap();
    assert_eq!(bob_now.status, Verification::Unverified);
    assert_eq!(bob_now.identity_key, new_bob_key);
    let names: Vec<String> = alice
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(names.contains(&"bob (old key)".to_owned()), "{names:?}");
    // The old 1:1 is read-only, and says so; the person's handle is the one to write to.
    let states: Vec<(String, ConversationState)> = alice
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| (c.name, c.state))
        .collect();
    assert!(
        states.contains(&("bob (old key)".to_owned(), ConversationState::Retired)),
        "{states:?}"
    );
    assert!(matches!(
        alice
            .send_text(&to(&alice, "bob (old key)").await, "still you?")
            .await,
        Err(ClientError::Retired(_) | ClientError::NotAMember(_))
    ));
    assert_eq!(
        alice
            .history(&to(&alice, "bob (old key)").await, None)
            .await
            .unwrap()[0]
            .text(),
        Some("hi bob")
    );
    let accepted = alice.verification(&h("bob")).await.unwrap();
    assert_eq!(accepted.status, Verification::Unverified);
    assert_eq!(accepted.digits, changed.digits);

    // Sending works again, to the new key.
    alice
        .send_text(&to(&alice, "bob").await, "hello new bob")
        .await
        .unwrap();
    assert!(alice
        .conversations()
        .await
        .unwrap()
        .iter()
        .any(|c| c.name == "bob" && c.state == ConversationState::Active));
    let got = said(new_bob.sync().await.unwrap().messages);
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].sender.as_str(), got[0].text().unwrap_or_default()),
        ("alice", "hello new bob")
    );

    // Confirming after comparing numbers: verified, and so are bob's messages.
    alice.confirm_verified(&h("bob")).await.unwrap();
    assert_eq!(
        status_of(&alice.contacts().await.unwrap(), "bob"),
        Verification::Verified
    );
    assert_eq!(
        alice.verification(&h("bob")).await.unwrap().status,
        Verification::Verified
    );
    new_bob
        .send_text(&to(&new_bob, "alice").await, "verified now")
        .await
        .unwrap();
    let got = said(alice.sync().await.unwrap().messages);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].text(), Some("verified now"));
    assert_eq!(got[0].sender_status, Verification::Verified);
    assert!((got[0].sender_status == Verification::Verified));
    // History shows the current status, our own messages count as verified.
    let history = alice.history(&to(&alice, "bob").await, None).await.unwrap();
    assert!(
        history
            .iter()
            .all(|m| m.sender_status == Verification::Verified),
        "{history:?}"
    );
    // Messages of a sender still unverified are marked so.
    let theirs = new_bob
        .history(&to(&new_bob, "alice").await, None)
        .await
        .unwrap();
    let from_alice = theirs.iter().find(|m| m.sender == "alice").unwrap();
    assert_eq!(from_alice.sender_status, Verification::Unverified);
    assert!(!(from_alice.sender_status == Verification::Verified));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_an_unchanged_key_changes_nothing_and_unknown_handles_are_refused() {
    let relay = TestRelay::start();
    let (_a, alice_home) = home();
    let (_b, bob_home) = home();
    let alice = registered(&relay, &alice_home, "alice").await;
    let _bob = registered(&relay, &bob_home, "bob").await;
    alice
        .send_text(&to(&alice, "bob").await, "hi")
        .await
        .unwrap();
    alice.confirm_verified(&h("bob")).await.unwrap();
    alice.accept_new_key(&h("bob")).await.unwrap();
    assert_eq!(
        status_of(&alice.contacts().await.unwrap(), "bob"),
        Verification::Verified
    );
    assert!(matches!(
        alice.accept_new_key(&h("nobody")).await,
        Err(ClientError::UnknownContact(_))
    ));
    assert!(matches!(
        alice.verification(&h("nobody")).await,
        Err(ClientError::UnknownContact(_))
    ));
    // A malformed handle never reaches the library: the type refuses it.
    assert!("Not A Handle".parse::<Handle>().is_err());
    assert!(matches!(
        alice
            .group_code(&ConversationId::Direct(h("nothing")))
            .await,
        Err(ClientError::UnknownConversation(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_code_is_shared_by_all_members_and_changes_with_the_roster() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    let carol = registered(&relay, homes[2].path(), "carol").await;
    let dave = registered(&relay, homes[3].path(), "dave").await;

    alice
        .create_group("team", &[h("bob"), h("carol")])
        .await
        .unwrap();
    bob.sync().await.unwrap();
    carol.sync().await.unwrap();
    let first = alice.group_code(&to(&alice, "team").await).await.unwrap();
    assert_eq!(first.digits.len(), 60);
    assert_eq!(first.grouped.split(' ').count(), 12);
    let handles: Vec<&str> = first.members.iter().map(|m| m.handle.as_str()).collect();
    assert_eq!(handles, ["alice", "bob", "carol"]);
    for other in [&bob, &carol] {
        let theirs = other
            .group_code(&to(other, "alice/team").await)
            .await
            .unwrap();
        assert_eq!(theirs.digits, first.digits);
        assert_eq!(theirs.epoch, first.epoch);
    }

    // Statuses beside members: ourselves verified, others as confirmed.
    alice.confirm_verified(&h("bob")).await.unwrap();
    let statuses: Vec<(String, Verification)> = alice
        .group_code(&to(&alice, "team").await)
        .await
        .unwrap()
        .members
        .into_iter()
        .map(|m| (m.handle.to_string(), m.status))
        .collect();
    assert_eq!(
        statuses,
        [
            ("alice".to_owned(), Verification::Verified),
            ("bob".to_owned(), Verification::Verified),
            ("carol".to_owned(), Verification::Unverified),
        ]
    );
    let members = alice.members(&to(&alice, "team").await).await.unwrap();
    assert!(members
        .iter()
        .any(|m| m.handle == "bob" && m.status == Verification::Verified));

    alice
        .add_member(&to(&alice, "team").await, &h("dave"))
        .await
        .unwrap();
    let added = alice.group_code(&to(&alice, "team").await).await.unwrap();
    assert_ne!(added.digits, first.digits);
    assert!(added.epoch > first.epoch);
    for other in [&bob, &carol, &dave] {
        other.sync().await.unwrap();
        assert_eq!(
            other
                .group_code(&to(other, "alice/team").await)
                .await
                .unwrap()
                .digits,
            added.digits
        );
    }

    alice
        .promote(&to(&alice, "team").await, &h("bob"))
        .await
        .unwrap();
    bob.sync().await.unwrap();
    bob.remove_member(&to(&bob, "alice/team").await, &h("carol"))
        .await
        .unwrap();
    let removed = bob.group_code(&to(&bob, "alice/team").await).await.unwrap();
    assert_ne!(removed.digits, added.digits);
    assert_ne!(removed.digits, first.digits);
    for (other, name) in [(&alice, "team"), (&dave, "alice/team")] {
        other.sync().await.unwrap();
        assert_eq!(
            other
                .group_code(&to(other, name).await)
                .await
                .unwrap()
                .digits,
            removed.digits
        );
    }
    carol.sync().await.unwrap();
    assert!(matches!(
        carol.group_code(&to(&carol, "alice/team").await).await,
        Err(ClientError::NotAMember(_))
    ));
}
