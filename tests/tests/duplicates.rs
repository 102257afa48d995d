//! Acceptance 6: the same delivery or group entry handed over twice is shown once.

#[cfg(test)]
mod common;

use common::Named;

use common::raw::{Raw, RawMember};
use common::tamper::TamperProxy;
use common::{assert_each_once, assert_messages, sync_until, TestClient, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_inbox_deliveries_show_once() {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    let carol = TestClient::register(&proxy.url(), None, "carol").await;
    // Every deposit is stored twice (two ids), and no acknowledgement reaches the relay, so
    // every delivery is handed over again at each fetch.
    proxy.with(|t| {
        t.duplicate_deposits = true;
        t.drop_acks = true;
    });

    alice.say("bob", "d1 first").await.unwrap();
    alice.say("bob", "d2 second").await.unwrap();
    assert_messages(
        &sync_until(&bob, 2).await,
        &[
            ("alice", "alice", "d1 first"),
            ("alice", "alice", "d2 second"),
        ],
    );
    bob.say("alice", "d3 reply").await.unwrap();
    assert_messages(&sync_until(&alice, 1).await, &[("bob", "bob", "d3 reply")]);

    alice
        .create("twice", &["bob".to_owned(), "carol".to_owned()])
        .await
        .unwrap();
    alice
        .say(&common::local(&alice, "twice").await, "d4 group")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("twice", "alice", "d4 group")],
    );
    assert_messages(
        &sync_until(&carol, 1).await,
        &[("twice", "alice", "d4 group")],
    );
    carol
        .say(&common::local(&carol, "twice").await, "d5 carol")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&alice, 1).await,
        &[("twice", "carol", "d5 carol")],
    );
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("twice", "carol", "d5 carol")],
    );

    // The duplication really happened.
    let (served, dropped) = proxy.with(|t| (t.served_envelopes.clone(), t.dropped_acks));
    let repeated = served
        .iter()
        .enumerate()
        .any(|(i, e)| served[i + 1..].contains(e));
    assert!(repeated, "some envelope was handed over twice");
    assert!(dropped > 0, "some acknowledgement was lost");
    // Once acknowledgements get through again, the inboxes drain.
    proxy.with(|t| t.drop_acks = false);

    // Nothing is left to show, each conversation exists once, history holds each message
    // once.
    for client in [&alice, &bob, &carol] {
        assert!(common::said(client.fetch().await.unwrap()).is_empty());
    }
    let names: Vec<String> = bob
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert_eq!(
        names.iter().filter(|n| *n == "alice/twice").count(),
        1,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "alice").count(),
        1,
        "{names:?}"
    );
    assert_each_once(
        &alice.history_of("bob", None).await.unwrap(),
        &["d1 first", "d2 second", "d3 reply"],
    );
    assert_each_once(
        &bob.history_of("alice", None).await.unwrap(),
        &["d1 first", "d2 second", "d3 reply"],
    );
    for client in [&alice, &bob, &carol] {
        assert_each_once(
            &client
                .history_of(&common::local(client, "twice").await, None)
                .await
                .unwrap(),
            &["d4 group", "d5 carol"],
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_entries_stored_twice_show_once() {
    let relay = TestRelay::start();
    let fp = relay.fingerprint();
    let alice = TestClient::register(&relay.url(), fp.as_deref(), "alice").await;
    let bob = TestClient::register(&relay.url(), fp.as_deref(), "bob").await;
    let dan = TestClient::register(&relay.url(), fp.as_deref(), "dan").await;
    // A member that re-posts entries byte for byte under new sequence numbers, as a
    // retrying sender (or a meddling member) would.
    let mut rex = RawMember::register(Raw::new(relay.channel().await), "rex").await;

    alice
        .create("echo", &["bob".to_owned(), "rex".to_owned()])
        .await
        .unwrap();
    let joined = rex.accept_welcomes().await;
    let group = joined[0].1;
    rex.catch_up(&group).await;

    alice
        .say(&common::local(&alice, "echo").await, "e1 once")
        .await
        .unwrap();
    let seen = rex.catch_up(&group).await;
    assert_eq!(seen.texts, [("alice".to_owned(), "e1 once".to_owned())]);
    let (_, e1_bytes) = seen.entries.last().unwrap().clone();
    let s1 = rex.post_raw(&group, &e1_bytes).await;
    let s2 = rex.post_raw(&group, &e1_bytes).await;
    assert!(s2 > s1);

    assert_messages(&sync_until(&bob, 1).await, &[("echo", "alice", "e1 once")]);
    assert!(
        common::said(alice.fetch().await.unwrap()).is_empty(),
        "alice's own message, repeated, is not shown"
    );

    // A commit's bytes reposted after it took effect.
    alice
        .add(&common::local(&alice, "echo").await, "dan")
        .await
        .unwrap();
    let seen = rex.catch_up(&group).await;
    assert_eq!(seen.commits, 1);
    let (_, commit_bytes) = seen.entries.last().unwrap().clone();
    rex.post_raw(&group, &commit_bytes).await;
    alice
        .say(&common::local(&alice, "echo").await, "e2 after the add")
        .await
        .unwrap();
    let seen = rex.catch_up(&group).await;
    assert_eq!(seen.rejected, 1, "rex's MLS refuses the reposted commit");
    assert_eq!(
        seen.texts,
        [("alice".to_owned(), "e2 after the add".to_owned())]
    );
    let (_, e2_bytes) = seen.entries.last().unwrap().clone();
    rex.post_raw(&group, &e2_bytes).await;

    assert_messages(
        &sync_until(&bob, 1).await,
        &[("echo", "alice", "e2 after the add")],
    );
    assert_messages(
        &sync_until(&dan, 1).await,
        &[("echo", "alice", "e2 after the add")],
    );
    bob.say(&common::local(&bob, "echo").await, "e3 from bob")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&alice, 1).await,
        &[("echo", "bob", "e3 from bob")],
    );
    assert_messages(
        &sync_until(&dan, 1).await,
        &[("echo", "bob", "e3 from bob")],
    );

    for client in [&alice, &bob] {
        assert_each_once(
            &client
                .history_of(&common::local(client, "echo").await, None)
                .await
                .unwrap(),
            &["e1 once", "e2 after the add", "e3 from bob"],
        );
    }
    assert_each_once(
        &dan.history_of(&common::local(&dan, "echo").await, None)
            .await
            .unwrap(),
        &["e2 after the add", "e3 from bob"],
    );
    let roster = common::roster(&alice, "echo").await;
    assert_eq!(roster.len(), 4);
    assert_eq!(common::roster(&bob, "echo").await, roster);
    assert_eq!(common::roster(&dan, "echo").await, roster);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_repeated_within_a_page_never_show_twice() {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    let carol = TestClient::register(&proxy.url(), None, "carol").await;
    alice.say("bob", "p0 setup").await.unwrap();
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("alice", "alice", "p0 setup")],
    );
    alice.say("bob", "p1 repeated").await.unwrap();
    alice.say("bob", "p2 repeated").await.unwrap();
    alice.say("carol", "q1 welcome repeated").await.unwrap();

    // The relay now repeats every item of a page (same id or seq, same bytes). The client
    // may refuse such a page as a protocol violation, or skip the repeat; it may neither
    // show a message twice nor lose one once the relay behaves again.
    proxy.with(|t| t.repeat_in_page = true);
    let mut bob_shown = bob.fetch().await.unwrap_or_default();
    let mut carol_shown = carol.fetch().await.unwrap_or_default();
    let (entries, envelopes) = proxy.with(|t| (t.served_entries.len(), t.served_envelopes.len()));
    assert!(entries > 0, "a repeated Read page was served");
    assert!(envelopes > 0, "a repeated Fetch page was served");
    proxy.with(|t| t.repeat_in_page = false);
    bob_shown.extend(sync_until(&bob, 2usize.saturating_sub(bob_shown.len())).await);
    carol_shown.extend(sync_until(&carol, 1usize.saturating_sub(carol_shown.len())).await);
    assert_messages(
        &bob_shown,
        &[
            ("alice", "alice", "p1 repeated"),
            ("alice", "alice", "p2 repeated"),
        ],
    );
    assert_messages(&carol_shown, &[("alice", "alice", "q1 welcome repeated")]);
    assert_each_once(
        &bob.history_of("alice", None).await.unwrap(),
        &["p0 setup", "p1 repeated", "p2 repeated"],
    );
    assert_each_once(
        &carol.history_of("alice", None).await.unwrap(),
        &["q1 welcome repeated"],
    );
}
