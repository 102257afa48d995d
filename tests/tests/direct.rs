//! Acceptance 1: alice and bob talk 1:1 both ways, including while the recipient is offline.

#[cfg(test)]
mod common;

use common::Named;

use common::{assert_messages, sync_until, TestClient, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_to_one_both_ways_with_offline_recipient() {
    let relay = TestRelay::start();
    let fp = relay.fingerprint();
    let mut alice = TestClient::register(&relay.url(), fp.as_deref(), "alice").await;
    let mut bob = TestClient::register(&relay.url(), fp.as_deref(), "bob").await;

    // Bob is not running while alice starts the conversation and writes twice.
    bob.offline();
    let sent = alice.say("bob", "hello bob").await.unwrap();
    assert_eq!(sent.conversation_name, "bob");
    assert_eq!(sent.sender, "alice");
    assert_eq!(sent.text(), Some("hello bob"));
    alice.say("bob", "are you there?").await.unwrap();

    // Bob comes back from his home directory and finds both, from alice, in order.
    bob.online().await;
    let got = sync_until(&bob, 2).await;
    assert_messages(
        &got,
        &[
            ("alice", "alice", "hello bob"),
            ("alice", "alice", "are you there?"),
        ],
    );

    // Bob answers in the same conversation, named after alice on his side.
    let reply = bob.say("alice", "hi alice").await.unwrap();
    assert_eq!(reply.conversation_name, "alice");
    let got = sync_until(&alice, 1).await;
    assert_messages(&got, &[("bob", "bob", "hi alice")]);

    // Now alice is the one offline while bob writes.
    alice.offline();
    bob.say("alice", "while you were away").await.unwrap();
    alice.online().await;
    let got = sync_until(&alice, 1).await;
    assert_messages(&got, &[("bob", "bob", "while you were away")]);

    // Nothing is handed out twice.
    assert!(common::said(alice.fetch().await.unwrap()).is_empty());
    assert!(common::said(bob.fetch().await.unwrap()).is_empty());

    // Both see one 1:1 of two members, and agree on the safety number.
    assert_eq!(
        common::member_handles(&alice, "bob").await,
        vec!["alice".to_owned(), "bob".to_owned()]
    );
    assert_eq!(
        common::roster(&alice, "bob").await,
        common::roster(&bob, "alice").await
    );
    let sn_a = alice.safety_with("bob").await.unwrap();
    let sn_b = bob.safety_with("alice").await.unwrap();
    assert_eq!(sn_a, sn_b);
    assert_eq!(sn_a.split(' ').count(), 12);

    // History on both sides holds the whole exchange once.
    let history_texts = |h: Vec<parley_client::Message>| {
        let mut t = common::texts(&h);
        t.sort();
        t
    };
    let mut all = vec![
        "hello bob".to_owned(),
        "are you there?".to_owned(),
        "hi alice".to_owned(),
        "while you were away".to_owned(),
    ];
    all.sort();
    assert_eq!(
        history_texts(alice.history_of("bob", None).await.unwrap()),
        all
    );
    assert_eq!(
        history_texts(bob.history_of("alice", None).await.unwrap()),
        all
    );
}
