//! A relay that tampers with the inbox and the directory: dropped or truncated deliveries,
//! a stale (already used) KeyPackage and another person's KeyPackage served for a handle.

#[cfg(test)]
mod common;

use common::Named;

use common::tamper::TamperProxy;
use common::{assert_messages, sync_until, TestClient, TestRelay};
use parley_client::ClientError;

#[cfg(test)]
async fn trio() -> (TestRelay, TamperProxy, TestClient, TestClient, TestClient) {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    let carol = TestClient::register(&proxy.url(), None, "carol").await;
    (relay, proxy, alice, bob, carol)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_and_truncated_deliveries_do_no_harm() {
    let (_relay, proxy, alice, bob, _carol) = trio().await;
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    // Withheld: nothing arrives, nothing is acknowledged.
    proxy.with(|t| t.rewrite_deliveries = Some(Box::new(|d| d.clear())));
    assert!(common::said(bob.fetch().await.unwrap()).is_empty());
    assert!(bob.conversations().await.unwrap().is_empty());
    // Truncated: refused, set aside, reported.
    proxy.with(|t| {
        t.drop_acks = true;
        t.rewrite_deliveries = Some(Box::new(|d| {
            for delivery in d.iter_mut() {
                delivery.envelope.truncate(delivery.envelope.len() / 2);
            }
        }))
    });
    assert!(common::said(bob.fetch().await.unwrap()).is_empty());
    assert!(bob.conversations().await.unwrap().is_empty());
    assert_eq!(bob.quarantined().await.unwrap().len(), 1);
    assert!(bob
        .alert_texts()
        .await
        .unwrap()
        .iter()
        .any(|a| a.contains("inbox was refused")));
    // The relay behaves: the real Welcome (never acknowledged) arrives.
    proxy.with(|t| {
        t.rewrite_deliveries = None;
        t.drop_acks = false;
    });
    bob.fetch().await.unwrap();
    alice
        .say(&common::local(&alice, "g").await, "through")
        .await
        .unwrap();
    assert_messages(&sync_until(&bob, 1).await, &[("g", "alice", "through")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_key_package_is_refused_by_its_owner() {
    let (_relay, proxy, alice, bob, carol) = trio().await;
    alice.create("one", &["bob".to_owned()]).await.unwrap();
    bob.fetch().await.unwrap();
    let used = proxy.with(|t| {
        t.claimed
            .iter()
            .rev()
            .find(|(h, _)| h == "bob")
            .unwrap()
            .1
            .clone()
    });
    // The relay hands carol the KeyPackage bob already used.
    proxy.with(|t| {
        t.key_packages.insert("bob".to_owned(), used);
    });
    carol.create("two", &["bob".to_owned()]).await.unwrap();
    bob.fetch().await.unwrap();
    let names: Vec<String> = bob
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names,
        ["alice/one"],
        "bob cannot join with a used KeyPackage"
    );
    assert_eq!(bob.quarantined().await.unwrap().len(), 1);
    assert!(bob
        .alert_texts()
        .await
        .unwrap()
        .iter()
        .any(|a| a.contains("inbox was refused")));

    proxy.with(|t| t.key_packages.clear());
    carol.create("three", &["bob".to_owned()]).await.unwrap();
    carol
        .say(&common::local(&carol, "three").await, "fresh")
        .await
        .unwrap();
    assert_messages(&sync_until(&bob, 1).await, &[("three", "carol", "fresh")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_key_package_is_refused_by_the_adder() {
    let (_relay, proxy, alice, bob, carol) = trio().await;
    // Alice pins bob and carol, and the relay keeps a real KeyPackage of carol's.
    alice.say("bob", "pin").await.unwrap();
    alice.say("carol", "pin").await.unwrap();
    let carols = proxy.with(|t| {
        t.claimed
            .iter()
            .find(|(h, _)| h == "carol")
            .unwrap()
            .1
            .clone()
    });
    // Carol's KeyPackage served as bob's.
    proxy.with(|t| {
        t.key_packages.insert("bob".to_owned(), carols);
    });
    let err = alice
        .create("g", &["bob".to_owned()])
        .await
        .expect_err("another person's KeyPackage must be refused");
    // The KeyPackage names carol, not bob: refused as an untrusted member, and alerted.
    assert!(
        matches!(&err, ClientError::UntrustedMember(h) if h == "bob"),
        "unexpected error {err:?}"
    );
    assert!(alice
        .conversations()
        .await
        .unwrap()
        .iter()
        .all(|c| c.name != "g"));
    proxy.with(|t| t.key_packages.clear());
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    alice
        .say(&common::local(&alice, "g").await, "real bob")
        .await
        .unwrap();
    let shown = sync_until(&bob, 2).await;
    assert!(shown
        .iter()
        .any(|m| m.conversation_name == "alice/g" && m.text().unwrap_or_default() == "real bob"));
    let _ = carol;
}
