//! Acceptance 5: the relay and the clients restart mid-conversation (same data directory,
//! same port, same homes) and the conversation goes on with nothing lost or repeated.

#[cfg(test)]
mod common;

use common::Named;

use common::{assert_messages, sync_until, TestClient, TestRelay};

fn sorted_texts(messages: &[parley_client::Message]) -> Vec<String> {
    let mut texts = common::texts(messages);
    texts.sort();
    texts
}

fn sorted(list: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conversation_survives_relay_and_client_restarts() {
    let mut relay = TestRelay::start();
    let fp = relay.fingerprint();
    let mut alice = TestClient::register(&relay.url(), fp.as_deref(), "alice").await;
    let mut bob = TestClient::register(&relay.url(), fp.as_deref(), "bob").await;
    let mut carol = TestClient::register(&relay.url(), fp.as_deref(), "carol").await;

    alice.say("bob", "r1 before").await.unwrap();
    assert_messages(
        &sync_until(&bob, 1).await,
        &[("alice", "alice", "r1 before")],
    );
    bob.say("alice", "r2 before").await.unwrap();
    assert_messages(&sync_until(&alice, 1).await, &[("bob", "bob", "r2 before")]);
    alice
        .create("club", &["bob".to_owned(), "carol".to_owned()])
        .await
        .unwrap();
    alice
        .say(&common::local(&alice, "club").await, "g1 before")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&carol, 1).await,
        &[("club", "alice", "g1 before")],
    );
    // In flight at the restart: sent, not yet received.
    alice.say("bob", "r3 in flight").await.unwrap();
    carol
        .say(&common::local(&carol, "club").await, "g2 in flight")
        .await
        .unwrap();

    // Everything goes down; the relay comes back on the same directory and port.
    alice.offline();
    bob.offline();
    carol.offline();
    relay.restart().await;
    alice.online().await;
    bob.online().await;
    carol.online().await;

    let bob_got = sync_until(&bob, 3).await;
    assert_eq!(
        sorted_texts(&bob_got),
        sorted(&["r3 in flight", "g1 before", "g2 in flight"])
    );
    assert_messages(
        &sync_until(&alice, 1).await,
        &[("club", "carol", "g2 in flight")],
    );

    // The conversation continues both ways, 1:1 and in the group.
    bob.say("alice", "r4 after").await.unwrap();
    alice
        .say(&common::local(&alice, "club").await, "g3 after")
        .await
        .unwrap();
    assert_messages(&sync_until(&alice, 1).await, &[("bob", "bob", "r4 after")]);
    assert_messages(&sync_until(&bob, 1).await, &[("club", "alice", "g3 after")]);
    assert_messages(
        &sync_until(&carol, 1).await,
        &[("club", "alice", "g3 after")],
    );

    // A second restart of the clients alone changes nothing either.
    alice.online().await;
    bob.online().await;
    carol.online().await;
    for client in [&alice, &bob, &carol] {
        assert!(common::said(client.fetch().await.unwrap()).is_empty());
    }

    // Every message, before and after, is in each history exactly once.
    let direct = sorted(&["r1 before", "r2 before", "r3 in flight", "r4 after"]);
    let club = sorted(&["g1 before", "g2 in flight", "g3 after"]);
    assert_eq!(
        sorted_texts(&alice.history_of("bob", None).await.unwrap()),
        direct
    );
    assert_eq!(
        sorted_texts(&bob.history_of("alice", None).await.unwrap()),
        direct
    );
    for client in [&alice, &bob, &carol] {
        assert_eq!(
            sorted_texts(
                &client
                    .history_of(&common::local(client, "club").await, None)
                    .await
                    .unwrap()
            ),
            club
        );
    }
}
