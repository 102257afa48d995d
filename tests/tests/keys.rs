//! Acceptance 4: a relay that serves another identity key, or a KeyPackage under another key,
//! for a pinned contact is refused by the client.

#[cfg(test)]
mod common;

use common::Named;
use parley_client::MessageBody;
use parley_crypto::identity::IdentitySecretKey;
use parley_proto::v1::LookupRequest;

use common::tamper::{Impostor, TamperProxy};
use common::{is_key_refusal, member_handles, roster, sync_until, TestClient, TestRelay};

/// Alice and bob behind the tampering relay, with alice having pinned bob's real key through
/// a working 1:1.
#[cfg(test)]
async fn pinned_pair() -> (TestRelay, TamperProxy, TestClient, TestClient, TestClient) {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    let carol = TestClient::register(&proxy.url(), None, "carol").await;
    alice.say("bob", "pin me").await.unwrap();
    assert_eq!(common::texts(&sync_until(&bob, 1).await), ["pin me"]);
    (relay, proxy, alice, bob, carol)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substituted_identity_key_is_refused() {
    let (_relay, proxy, alice, bob, _carol) = pinned_pair().await;
    let real_roster = roster(&alice, "bob").await;
    let bob_real_key = bob.whoami().unwrap().identity_key;
    assert!(real_roster.contains(&("bob".to_owned(), bob_real_key.clone())));
    let safety_before = alice.safety_with("bob").await.unwrap();

    // The relay now claims bob has another identity key, and hands out that identity's
    // KeyPackages: a consistent impersonation.
    let impostor = Impostor::new("bob");
    assert_ne!(impostor.identity_hex, bob_real_key);
    proxy.with(|t| {
        t.records.insert("bob".to_owned(), impostor.record.clone());
        t.key_packages
            .insert("bob".to_owned(), impostor.key_package.clone());
    });

    // Whatever alice's client asks the relay about bob, it never takes the new key.
    match alice.safety_with("bob").await {
        Ok(after) => assert_eq!(after, safety_before, "the safety number silently changed"),
        Err(e) => assert!(is_key_refusal(&e), "unexpected error {e:?}"),
    }
    let err = alice
        .create("with-impostor", &["bob".to_owned()])
        .await
        .expect_err("a group with the impersonated bob must be refused");
    assert!(is_key_refusal(&err), "unexpected error {err:?}");
    assert!(proxy.with(|t| t.substituted) > 0, "the relay was asked");
    // The existing conversation still holds the real bob only.
    assert_eq!(roster(&alice, "bob").await, real_roster);
    assert!(
        alice
            .conversations()
            .await
            .unwrap()
            .iter()
            .all(|c| c.name != "with-impostor"),
        "no conversation with the impostor exists"
    );

    // Once the relay stops lying, the same operation works with the real bob.
    proxy.with(|t| {
        t.records.clear();
        t.key_packages.clear();
    });
    alice.create("with-bob", &["bob".to_owned()]).await.unwrap();
    // The withdrawn change is not forgotten: the user is told the relay flipped keys.
    let alerts = alice.alert_texts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("identity key has changed")),
        "{alerts:?}"
    );
    assert!(alerts.iter().any(|a| a.contains("withdrawn")), "{alerts:?}");
    assert_eq!(
        member_handles(&alice, "with-bob").await,
        vec!["alice".to_owned(), "bob".to_owned()]
    );
    assert_eq!(
        roster(&alice, "with-bob").await,
        real_roster,
        "bob's real key"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn substituted_record_alone_never_replaces_the_pinned_key() {
    let (_relay, proxy, alice, bob, _carol) = pinned_pair().await;
    let real_roster = roster(&alice, "bob").await;
    let safety_before = alice.safety_with("bob").await.unwrap();
    let impostor = Impostor::new("bob");
    proxy.with(|t| {
        t.records.insert("bob".to_owned(), impostor.record.clone());
    });

    // Bob's real KeyPackages still flow; only his record is forged. The safety number stays
    // the pinned one, and starting anything new with bob (which re-checks his record) is
    // refused as a changed key.
    assert_eq!(alice.safety_with("bob").await.unwrap(), safety_before);
    let err = alice
        .create("forged-record", &["bob".to_owned()])
        .await
        .expect_err("a forged directory record for a pinned contact must be refused");
    assert!(
        matches!(err, parley_client::ClientError::KeyChanged(ref h) if h == "bob"),
        "unexpected error {err:?}"
    );
    assert_eq!(roster(&alice, "bob").await, real_roster);
    // Messages from bob in the existing conversation still authenticate as bob.
    bob.say("alice", "still me").await.unwrap();
    common::assert_messages(&sync_until(&alice, 1).await, &[("bob", "bob", "still me")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_package_under_another_key_is_refused() {
    let (_relay, proxy, alice, bob, carol) = pinned_pair().await;
    let bob_real_key = bob.whoami().unwrap().identity_key;

    // The directory is honest; the KeyPackage handed out for bob is by another identity.
    let impostor = Impostor::new("bob");
    proxy.with(|t| {
        t.key_packages
            .insert("bob".to_owned(), impostor.key_package.clone());
    });

    let err = alice
        .create("kp-swap", &["bob".to_owned()])
        .await
        .expect_err("a KeyPackage by another identity must be refused");
    assert!(is_key_refusal(&err), "unexpected error {err:?}");

    // Adding bob to an existing group is refused the same way, and the group is unchanged.
    alice.create("trio", &["carol".to_owned()]).await.unwrap();
    let before = roster(&alice, "trio").await;
    let err = alice
        .add(&common::local(&alice, "trio").await, "bob")
        .await
        .expect_err("adding bob with a foreign KeyPackage must be refused");
    assert!(is_key_refusal(&err), "unexpected error {err:?}");
    assert_eq!(roster(&alice, "trio").await, before);
    assert!(proxy.with(|t| t.substituted) >= 2);

    // The group still works after the refused commit (it was not left half-applied).
    alice
        .say(&common::local(&alice, "trio").await, "still two of us")
        .await
        .unwrap();
    common::assert_messages(
        &sync_until(&carol, 1).await,
        &[("trio", "alice", "still two of us")],
    );

    // With honest KeyPackages, bob joins with his real key.
    proxy.with(|t| t.key_packages.clear());
    alice
        .add(&common::local(&alice, "trio").await, "bob")
        .await
        .unwrap();
    let after = roster(&alice, "trio").await;
    assert!(after.contains(&("bob".to_owned(), bob_real_key)));
    assert_eq!(after.len(), 3);
}

/// The split of issue 9: the relay shows alice an impostor's key for bob, she accepts it,
/// the relay stops lying and she accepts bob's real key again. Her old 1:1 with bob is closed
/// on both sides, and both converge on the new one: bob's answer reaches alice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_a_changed_key_twice_leaves_one_live_conversation_on_both_sides() {
    let (_relay, proxy, alice, bob, _carol) = pinned_pair().await;
    let impostor = Impostor::new("bob");
    proxy.with(|t| {
        t.records.insert("bob".to_owned(), impostor.record.clone());
    });
    let changed = alice.verification_of("bob").await.unwrap();
    assert_eq!(changed.status, parley_client::Verification::Changed);
    alice.accept_key_of("bob").await.unwrap();

    // The relay stops lying: the real key is a change again, accepted again.
    proxy.with(|t| t.records.clear());
    let err = alice.say("bob", "is it you?").await.unwrap_err();
    assert!(
        matches!(err, parley_client::ClientError::KeyChanged(ref h) if h == "bob"),
        "{err:?}"
    );
    alice.accept_key_of("bob").await.unwrap();
    alice.say("bob", "hello again").await.unwrap();

    let got = sync_until(&bob, 1).await;
    common::assert_messages(&got, &[("alice", "alice", "hello again")]);
    let names: Vec<String> = bob
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        ["alice"],
        "one conversation with alice on bob's side"
    );
    // Bob was told his old conversation was closed: alice removed him from it.
    let history = bob.history_of("alice", None).await.unwrap();
    assert!(
        history.iter().any(|m| m.sender == "alice"
            && matches!(&m.body, MessageBody::MembershipChanged { removed, .. }
                if removed.iter().any(|h| *h == "bob"))),
        "{history:?}"
    );
    bob.say("alice", "yes, it is me").await.unwrap();
    common::assert_messages(
        &sync_until(&alice, 1).await,
        &[("bob", "bob", "yes, it is me")],
    );
    let live = common::texts(&alice.history_of("bob", None).await.unwrap());
    assert_eq!(live, ["hello again", "yes, it is me"]);
}

/// Asserts that `who`'s alerts include one containing each of `present` and none containing
/// any of `absent`.
#[cfg(test)]
async fn expect_alerts(who: &TestClient, present: &[&str], absent: &[&str]) {
    let alerts = who.alert_texts().await.unwrap();
    for text in present {
        assert!(
            alerts.iter().any(|a| a.contains(text)),
            "no {text:?} in {alerts:?}"
        );
    }
    for text in absent {
        assert!(
            !alerts.iter().any(|a| a.contains(text)),
            "{text:?} in {alerts:?}"
        );
    }
}

/// `0x01 | len | old | len | new | signature` with whatever signature the forger can make:
/// a rotation that claims the pinned record as its old side.
#[cfg(test)]
fn forged_rotation(old: &[u8], new: &[u8], signer: &IdentitySecretKey) -> Vec<u8> {
    let mut bytes = vec![1u8];
    for record in [old, new] {
        bytes.extend_from_slice(&u16::try_from(record.len()).unwrap().to_be_bytes());
        bytes.extend_from_slice(record);
    }
    let mut signed = b"parley/v1/record-rotation".to_vec();
    signed.extend_from_slice(&bytes);
    bytes.extend_from_slice(&signer.sign(&signed));
    bytes
}

/// The relay's own record of `handle`, straight from the real relay.
#[cfg(test)]
async fn real_record(relay: &TestRelay, handle: &str) -> Vec<u8> {
    relay
        .directory()
        .await
        .lookup(LookupRequest {
            handle: handle.to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .record
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_the_pinned_key_did_not_sign_is_a_changed_key_not_a_rotation() {
    let (relay, proxy, alice, _bob, _carol) = pinned_pair().await;
    let safety_before = alice.safety_with("bob").await.unwrap();
    let pinned = real_record(&relay, "bob").await;
    let impostor = Impostor::new("bob");
    let middle = Impostor::new("bob");
    // Two chains the relay could make up: the pinned record "endorsing" the impostor with
    // the impostor's own signature, and a genuine rotation from a key nobody pinned.
    let forged = forged_rotation(&pinned, &impostor.record, &impostor.identity);
    let from_elsewhere = forged_rotation(&middle.record, &impostor.record, &middle.identity);
    for chain in [vec![forged], vec![from_elsewhere]] {
        proxy.with(|t| {
            t.records.insert("bob".to_owned(), impostor.record.clone());
            t.rotations.insert("bob".to_owned(), chain);
        });
        let err = alice
            .create("after-forged-rotation", &["bob".to_owned()])
            .await
            .expect_err("a rotation bob's pinned key did not sign must not be adopted");
        assert!(is_key_refusal(&err), "unexpected error {err:?}");
        assert_eq!(
            alice.safety_with("bob").await.ok(),
            Some(safety_before.clone())
        );
    }
    expect_alerts(&alice, &["identity key has changed"], &["rotated"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_rotation_is_followed_and_the_old_record_served_again_is_not_taken_back() {
    let (relay, proxy, alice, bob, _carol) = pinned_pair().await;
    let old_record = real_record(&relay, "bob").await;
    let old_key = bob.whoami().unwrap().identity_key;
    let report = bob.rotate_keys().await.unwrap();
    assert_eq!(report.old_identity_key, old_key);
    assert_eq!(report.conversations_moved, 1, "the 1:1 with alice moved");
    assert_eq!(bob.whoami().unwrap().identity_key, report.new_identity_key);

    // alice follows the move in the 1:1 and reads what bob says with his new key.
    bob.say("alice", "new keys, same bob").await.unwrap();
    assert_eq!(
        common::texts(&sync_until(&alice, 1).await),
        ["new keys, same bob"]
    );
    assert!(roster(&alice, "bob")
        .await
        .contains(&("bob".to_owned(), report.new_identity_key.clone())));
    expect_alerts(
        &alice,
        &["bob rotated their keys"],
        &["identity key has changed"],
    )
    .await;

    // A relay rolling the record back to the one bob replaced gets nowhere: the pin keeps
    // the newer version, and a group with bob is made with his new key.
    proxy.with(|t| {
        t.records.insert("bob".to_owned(), old_record.clone());
    });
    alice
        .create("after-rollback", &["bob".to_owned()])
        .await
        .unwrap();
    assert!(roster(&alice, "after-rollback")
        .await
        .contains(&("bob".to_owned(), report.new_identity_key.clone())));
    expect_alerts(&alice, &[], &["identity key has changed"]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_hiding_a_rotation_makes_a_changed_key_never_a_silent_one() {
    let (relay, proxy, alice, bob, _carol) = pinned_pair().await;
    let pinned_key = bob.whoami().unwrap().identity_key;
    bob.rotate_keys().await.unwrap();
    // The relay serves bob's new record but not the rotation that links it to the pin.
    let new_record = real_record(&relay, "bob").await;
    proxy.with(|t| {
        t.records.insert("bob".to_owned(), new_record);
        t.rotations.insert("bob".to_owned(), Vec::new());
    });
    bob.say("alice", "can you read me?").await.unwrap();
    alice.fetch().await.unwrap();
    // bob's move to the new key is refused: his pinned key stays, he shows as CHANGED.
    assert!(roster(&alice, "bob")
        .await
        .contains(&("bob".to_owned(), pinned_key)));
    expect_alerts(&alice, &["bob's identity key has changed"], &["rotated"]).await;
    let heard = common::texts(&alice.unread(None).await.unwrap());
    assert!(!heard.contains(&"can you read me?".to_owned()), "{heard:?}");
}
