//! A relay that forks a group: it splits its log in two and lets two members each commit
//! in the same epoch, serving each member its own commit. The members' group codes differ,
//! and a member served the other branch's messages (undecryptable in its own epoch) is told
//! the conversation may have been forked.

#[cfg(test)]
mod common;

use common::Named;

use common::tamper::{substitute, TamperProxy};
use common::{assert_messages, member_handles, sync_until, TestClient, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forked_group_is_detected_by_group_code_and_reported() {
    let mut relay = TestRelay::start();
    let pa = TamperProxy::start(&relay).await;
    let pb = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&pa.url(), None, "alice").await;
    let bob = TestClient::register(&pb.url(), None, "bob").await;
    let _carol = TestClient::register(&relay.url(), relay.fingerprint().as_deref(), "carol").await;
    let _dave = TestClient::register(&relay.url(), relay.fingerprint().as_deref(), "dave").await;
    alice.create("f", &["bob".to_owned()]).await.unwrap();
    // bob an admin too: both may change the room, and each does on its side of the fork.
    alice
        .make_admin(&common::local(&alice, "f").await, "bob")
        .await
        .unwrap();
    alice
        .say(&common::local(&alice, "f").await, "before the fork")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("f", "alice", "before the fork")],
    );
    assert_eq!(
        alice
            .code_of(&common::local(&alice, "f").await)
            .await
            .unwrap()
            .digits,
        bob.code_of(&common::local(&bob, "f").await)
            .await
            .unwrap()
            .digits,
        "in step before the fork"
    );

    // The relay splits: bob is served a copy of the log from now on.
    let shadow = relay.split().await;
    pb.redirect(&shadow).await;
    // Both commit in the same epoch and each is told it won.
    alice
        .add(&common::local(&alice, "f").await, "carol")
        .await
        .unwrap();
    bob.add(&common::local(&bob, "f").await, "dave")
        .await
        .unwrap();
    assert_eq!(member_handles(&alice, "f").await, ["alice", "bob", "carol"]);
    assert_eq!(member_handles(&bob, "f").await, ["alice", "bob", "dave"]);
    let (ca, cb) = (
        alice
            .code_of(&common::local(&alice, "f").await)
            .await
            .unwrap(),
        bob.code_of(&common::local(&bob, "f").await).await.unwrap(),
    );
    assert_eq!(ca.epoch, cb.epoch, "the same epoch number on both branches");
    assert_ne!(ca.digits, cb.digits, "the group code shows the fork");

    // The relay now mixes alice's branch into bob's log (in place of bob's own entries).
    alice
        .say(&common::local(&alice, "f").await, "a1")
        .await
        .unwrap();
    alice
        .say(&common::local(&alice, "f").await, "a2")
        .await
        .unwrap();
    let a: Vec<Vec<u8>> = pa.with(|t| t.posted[t.posted.len() - 2..].to_vec());
    // (bob reads his own b1 while sending b2, so the relay swaps each before he reads it)
    bob.say(&common::local(&bob, "f").await, "b1")
        .await
        .unwrap();
    let b1 = pb.with(|t| t.posted.last().unwrap().clone());
    pb.with(|t| t.rewrite_entries = Some(substitute(vec![(b1.clone(), a[0].clone(), false)])));
    bob.say(&common::local(&bob, "f").await, "b2")
        .await
        .unwrap();
    let b2 = pb.with(|t| t.posted.last().unwrap().clone());
    pb.with(|t| {
        t.rewrite_entries = Some(substitute(vec![
            (b1, a[0].clone(), false),
            (b2, a[1].clone(), false),
        ]))
    });
    assert!(
        common::said(bob.fetch().await.unwrap()).is_empty(),
        "the other branch cannot be read"
    );
    let alerts = bob.alert_texts().await.unwrap();
    let forked: Vec<&String> = alerts
        .iter()
        .filter(|a| a.contains("may have been forked by the relay"))
        .collect();
    assert_eq!(forked.len(), 1, "{alerts:?}");
    assert!(
        forked[0].contains("parley verify --group alice/f"),
        "{forked:?}"
    );
    // Reported once per epoch, however often it recurs.
    assert!(common::said(bob.fetch().await.unwrap()).is_empty());
    let again = bob.alert_texts().await.unwrap();
    assert_eq!(
        again
            .iter()
            .filter(|a| a.contains("may have been forked"))
            .count(),
        1
    );
    assert!(bob
        .history_of(&common::local(&bob, "f").await, None)
        .await
        .unwrap()
        .iter()
        .all(|m| m.text().unwrap_or_default() != "a1" && m.text().unwrap_or_default() != "a2"));
}
