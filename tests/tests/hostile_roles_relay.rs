//! A relay that withholds a change of a group's admins from one member: carol is never
//! served the commit that made bob an admin. Her view of who may change the room stays the
//! old one, and the group code shows it: hers no longer matches alice's and bob's; served
//! what the others sent after it (which she cannot read), she is told the room cannot go on
//! for her.

#[cfg(test)]
mod common;

use common::Named;

use common::tamper::TamperProxy;
use common::{TestClient, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_promotion_is_shown_by_the_group_code() {
    let relay = TestRelay::start();
    let pc = TamperProxy::start(&relay).await;
    let fp = relay.fingerprint();
    let alice = TestClient::register(&relay.url(), fp.as_deref(), "alice").await;
    let bob = TestClient::register(&relay.url(), fp.as_deref(), "bob").await;
    let carol = TestClient::register(&pc.url(), None, "carol").await;
    alice
        .create("room", &["bob".to_owned(), "carol".to_owned()])
        .await
        .unwrap();
    bob.fetch().await.unwrap();
    carol.fetch().await.unwrap();
    let (room_a, room_b, room_c) = (
        common::local(&alice, "room").await,
        common::local(&bob, "room").await,
        common::local(&carol, "room").await,
    );
    let before = alice.code_of(&room_a).await.unwrap();
    assert_eq!(carol.code_of(&room_c).await.unwrap().digits, before.digits);

    // From now on carol's relay serves her no commit.
    pc.with(|t| t.rewrite_entries = Some(Box::new(|_, entries| entries.retain(|e| !e.commit))));
    alice.make_admin(&room_a, "bob").await.unwrap();
    bob.fetch().await.unwrap();
    carol.fetch().await.unwrap();

    let id_b = bob.resolve(&room_b).await.unwrap();
    let id_c = carol.resolve(&room_c).await.unwrap();
    assert_eq!(
        bob.admins(&id_b).await.unwrap(),
        [
            parley_client::Handle::parse("alice").unwrap(),
            parley_client::Handle::parse("bob").unwrap()
        ]
    );
    assert_eq!(
        carol.admins(&id_c).await.unwrap(),
        [parley_client::Handle::parse("alice").unwrap()],
        "carol never saw the promotion"
    );
    let (a, b, c) = (
        alice.code_of(&room_a).await.unwrap(),
        bob.code_of(&room_b).await.unwrap(),
        carol.code_of(&room_c).await.unwrap(),
    );
    assert_eq!(a.digits, b.digits);
    assert_ne!(
        a.digits, c.digits,
        "the group code shows carol a different room"
    );
    assert_ne!(a.epoch, c.epoch);

    // What the others say next, in the epoch she never reached, she cannot read, and she
    // is told the room cannot go on for her.
    alice.say(&room_a, "after the promotion").await.unwrap();
    assert!(common::said(carol.fetch().await.unwrap()).is_empty());
    let alerts = carol.alert_texts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("alice/room is stuck") || a.contains("may have been forked")),
        "{alerts:?}"
    );
}
