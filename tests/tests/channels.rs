//! Separate channels for separate identities: whatever three people do (1:1s, two groups, an
//! add and a remove, with their event streams running), no connection the relay accepted
//! ties a handle's owner calls to a group, or two groups to each other, and every deposit,
//! KeyPackage claim and directory lookup comes on a connection that carried nothing else.
//! The relay records what each TCP connection's requests named (TestRelay's recorder).

// Test helpers outside #[test] functions: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(test)]
mod common;

use std::time::Duration;

use common::linking::{check, Summary};
use common::{Named, TestClient, TestRelay, PATIENCE};
use futures::stream::BoxStream;
use futures::StreamExt;
use parley_client::{ClientError, Event};

type Events = BoxStream<'static, Result<Event, ClientError>>;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// Waits on `events` until a message with `text` arrives.
async fn receive(events: &mut Events, text: &str) {
    let wait = async {
        while let Some(event) = events.next().await {
            if let Ok(Event::Message(m)) = event {
                if m.text() == Some(text) {
                    return;
                }
            }
        }
        panic!("the event stream ended before {text:?} arrived");
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("{text:?} did not arrive within {PATIENCE:?}"));
}

/// Waits on `events` until a change of members (a Welcome, an add or a remove) shows.
async fn membership(events: &mut Events) {
    let wait = async {
        while let Some(event) = events.next().await {
            match event {
                Ok(Event::MembershipChanged { .. }) => return,
                Ok(Event::Message(m)) if m.body.is_membership() => return,
                _ => {}
            }
        }
        panic!("the event stream ended before a change of members arrived");
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("no change of members within {PATIENCE:?}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_connection_links_a_handle_to_a_group_or_two_groups() {
    let relay = TestRelay::builder().record_connections().start();
    let fp = relay.fingerprint();
    let alice = TestClient::register(&relay.url(), fp.as_deref(), "alice").await;
    let bob = TestClient::register(&relay.url(), fp.as_deref(), "bob").await;
    let carol = TestClient::register(&relay.url(), fp.as_deref(), "carol").await;
    let mut alice_events: Events = alice.events().boxed();
    let mut bob_events: Events = bob.events().boxed();
    let mut carol_events: Events = carol.events().boxed();

    // Two 1:1s.
    alice.say("bob", "hello bob").await.unwrap();
    receive(&mut bob_events, "hello bob").await;
    // Checked as soon as there is something to check, and again at the end.
    relay.connections().iter().for_each(check);
    bob.say("alice", "hello alice").await.unwrap();
    receive(&mut alice_events, "hello alice").await;
    carol.say("alice", "hello from carol").await.unwrap();
    receive(&mut alice_events, "hello from carol").await;

    // Two groups.
    alice
        .create("team", &names(&["bob", "carol"]))
        .await
        .unwrap();
    bob.create("side", &names(&["carol"])).await.unwrap();
    alice.say("team", "team meets at nine").await.unwrap();
    receive(&mut bob_events, "team meets at nine").await;
    receive(&mut carol_events, "team meets at nine").await;
    let side = common::local(&carol, "side").await;
    carol.say(&side, "side channel open").await.unwrap();
    receive(&mut bob_events, "side channel open").await;

    // An add and a remove.
    bob.add("side", "alice").await.unwrap();
    membership(&mut alice_events).await;
    alice.remove("team", "carol").await.unwrap();
    alice.say("team", "carol has left").await.unwrap();
    receive(&mut bob_events, "carol has left").await;
    let side = common::local(&alice, "side").await;
    alice.say(&side, "alice joins side").await.unwrap();
    receive(&mut bob_events, "alice joins side").await;
    receive(&mut carol_events, "alice joins side").await;
    // Let the event streams resubscribe to the groups they gained.
    tokio::time::sleep(Duration::from_millis(500)).await;

    let connections = relay.connections();
    connections.iter().for_each(check);
    let summary = Summary::of(&connections);
    eprintln!("{summary:#?}");
    // The scenario exercised every kind of traffic the checks are about.
    assert_eq!(
        summary.owner_connections, 3,
        "one owner connection per person"
    );
    assert_eq!(summary.groups, 4, "2 groups and 2 one-to-ones: {summary:?}");
    assert!(summary.deposits >= 6, "{summary:?}");
    assert!(summary.claims >= 6, "{summary:?}");
    assert!(summary.lookups >= 1, "{summary:?}");
}
