//! A send posts first and then reads what others wrote ahead of it, to record them first. A
//! relay (or a network) that takes the post and then fails the read must not make the
//! message look unsent: the person would send it again, and everyone would have it twice.
//! It is reported sent, reaches the others once, and what came before it is recorded when
//! the group is next read (after it, the one case where the history's order is not the
//! log's).

#[cfg(test)]
mod common;

use common::tamper::TamperProxy;
use common::Named;
use common::{assert_messages, said, sync_until, texts, TestClient, TestRelay};

/// A relay, a tampering proxy in front of it for alice alone, alice, and `others` registered
/// on the relay itself.
async fn alice_behind_a_proxy<const N: usize>(
    others: [&str; N],
) -> (TestRelay, TamperProxy, TestClient, [TestClient; N]) {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let mut registered = Vec::new();
    for handle in others {
        registered
            .push(TestClient::register(&relay.url(), relay.fingerprint().as_deref(), handle).await);
    }
    let Ok(others) = registered.try_into() else {
        unreachable!("one client per handle")
    };
    (relay, proxy, alice, others)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_post_taken_then_a_read_refused_still_counts_as_sent_once() {
    let (_relay, proxy, alice, [bob]) = alice_behind_a_proxy(["bob"]).await;
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    bob.fetch().await.unwrap();
    bob.say(&common::local(&bob, "g").await, "before yours")
        .await
        .unwrap();

    proxy.with(|t| t.refuse_reads = true);
    let sent = alice
        .say("g", "once only")
        .await
        .expect("the relay took the post: it is sent");
    assert_eq!(sent.text(), Some("once only"));
    assert_messages(&sync_until(&bob, 1).await, &[("g", "alice", "once only")]);

    proxy.with(|t| t.refuse_reads = false);
    assert_eq!(texts(&said(alice.fetch().await.unwrap())), ["before yours"]);
    assert!(said(alice.fetch().await.unwrap()).is_empty());
    let history = alice.history_of("g", None).await.unwrap();
    assert_eq!(texts(&history), ["once only", "before yours"]);
    let bobs = bob
        .history_of(&common::local(&bob, "g").await, None)
        .await
        .unwrap();
    assert_eq!(texts(&bobs), ["before yours", "once only"]);
}

/// A relay that says it took our post at a position after a commit we had not read (so in
/// an epoch it had closed) does not make us skip that commit: read before our message is
/// recorded, it is processed like any other, and we go on in the group as it is.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_commit_ahead_of_a_post_the_relay_claims_to_have_taken_is_not_skipped() {
    let (_relay, proxy, alice, [bob, carol]) = alice_behind_a_proxy(["bob", "carol"]).await;
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    alice.make_admin("g", "bob").await.unwrap();
    bob.fetch().await.unwrap();
    // Bob adds carol; alice has not read that commit when she writes, and the relay claims
    // to have taken her message after it.
    bob.add(&common::local(&bob, "g").await, "carol")
        .await
        .unwrap();
    proxy.with(|t| t.fake_post_seq = Some(1_000));
    alice.say("g", "into a closed epoch").await.unwrap();

    let members = common::member_handles(&alice, "g").await;
    assert_eq!(members, ["alice", "bob", "carol"]);
    alice.say("g", "carol can read this").await.unwrap();
    assert_messages(
        &sync_until(&carol, 1).await,
        &[("g", "alice", "carol can read this")],
    );
}
