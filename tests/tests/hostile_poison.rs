//! Poison messages: a group entry or an inbox delivery that fails to process is set aside
//! once, reported, never retried and never in the way of later messages, also across a
//! restart of the client while the relay keeps serving it.

#[cfg(test)]
mod common;

use common::Named;

use common::tamper::{flipped, substitute, TamperProxy};
use common::{assert_messages, sync_until, texts, TestClient, TestRelay};

const SET_ASIDE: &str = "could not be processed and was set aside";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_group_entry_is_quarantined_once_across_restarts() {
    let relay = TestRelay::start();
    let pa = TamperProxy::start(&relay).await;
    let pb = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&pa.url(), None, "alice").await;
    let mut bob = TestClient::register(&pb.url(), None, "bob").await;
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    bob.fetch().await.unwrap();

    alice
        .say(&common::local(&alice, "g").await, "poison")
        .await
        .unwrap();
    let poison = pa.with(|t| t.posted.last().unwrap().clone());
    let bad = flipped(&poison);
    pb.with(|t| t.rewrite_entries = Some(substitute(vec![(poison.clone(), bad.clone(), false)])));
    alice
        .say(&common::local(&alice, "g").await, "after the poison")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("g", "alice", "after the poison")],
    );
    let before = bob.quarantined().await.unwrap();
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].conversation.as_deref(), Some("alice/g"));

    // Restart; the relay serves the same poison again in place of a later entry.
    bob.offline();
    bob.online().await;
    alice
        .say(&common::local(&alice, "g").await, "carrier")
        .await
        .unwrap();
    let carrier = pa.with(|t| t.posted.last().unwrap().clone());
    pb.with(|t| t.rewrite_entries = Some(substitute(vec![(carrier, bad, false)])));
    alice
        .say(&common::local(&alice, "g").await, "after the restart")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("g", "alice", "after the restart")],
    );
    assert_eq!(
        bob.quarantined().await.unwrap(),
        before,
        "not retried, not re-recorded"
    );
    let alerts = bob.alert_texts().await.unwrap();
    assert_eq!(
        alerts.iter().filter(|a| a.contains(SET_ASIDE)).count(),
        1,
        "{alerts:?}"
    );
    assert_eq!(
        texts(
            &bob.history_of(&common::local(&bob, "g").await, None)
                .await
                .unwrap()
        ),
        ["after the poison", "after the restart"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn poison_delivery_is_quarantined_once_across_restarts() {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let carol = TestClient::register(&relay.url(), relay.fingerprint().as_deref(), "carol").await;
    let mut bob = TestClient::register(&proxy.url(), None, "bob").await;
    // Every delivery bob fetches is damaged, and his acknowledgements are lost, so the relay
    // hands the same damaged bytes over again and again.
    proxy.with(|t| {
        t.drop_acks = true;
        t.rewrite_deliveries = Some(Box::new(|deliveries| {
            for d in deliveries.iter_mut() {
                d.envelope = flipped(&d.envelope);
            }
        }));
    });
    carol.create("q", &["bob".to_owned()]).await.unwrap();
    for _ in 0..2 {
        assert!(common::said(bob.fetch().await.unwrap()).is_empty());
    }
    let quarantined = bob.quarantined().await.unwrap();
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(quarantined[0].conversation, None, "from the inbox");
    assert!(
        proxy.with(|t| t.dropped_acks) >= 2,
        "the relay served it again"
    );

    bob.offline();
    bob.online().await;
    assert!(common::said(bob.fetch().await.unwrap()).is_empty());
    assert_eq!(bob.quarantined().await.unwrap(), quarantined);
    let alerts = bob.alert_texts().await.unwrap();
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.contains("inbox was refused"))
            .count(),
        1,
        "{alerts:?}"
    );
    assert!(bob.conversations().await.unwrap().is_empty());

    // Once the relay behaves, the real Welcome gets through.
    proxy.with(|t| {
        t.rewrite_deliveries = None;
        t.drop_acks = false;
    });
    bob.fetch().await.unwrap();
    assert_eq!(bob.conversations().await.unwrap()[0].name, "carol/q");
    carol
        .say(&common::local(&carol, "q").await, "welcome")
        .await
        .unwrap();
    assert_messages(&sync_until(&bob, 1).await, &[("q", "carol", "welcome")]);
}
