//! The relay's view of a workshop: six people, three groups, 1:1s, adds and removes, run
//! against a relay that records, per TCP connection, every handle and group its requests
//! named. Whatever they do, no connection ties a handle's owner calls to a group or two
//! groups together, and processing what arrived (a first message, an invitation from a
//! stranger, into a group of strangers) never makes a directory lookup, so the relay never
//! sees a recipient ask who wrote to it.

// Test helpers outside #[test] functions: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(test)]
mod common;

use common::linking::{check, Summary};
use common::{Named, TestClient, TestRelay};
use parley_testkit::Touch;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// The workshop's people, by handle.
struct Room {
    relay: TestRelay,
    people: Vec<TestClient>,
}

impl Room {
    fn who(&self, handle: &str) -> &TestClient {
        self.people.iter().find(|p| p.handle == handle).unwrap()
    }

    /// `readers` process everything that arrived for them, and the relay is watched while
    /// they do: no lookup at all (and so none of a sender), and the channel rules hold.
    async fn read(&self, readers: &[&str], expect: &[(&str, &str)]) {
        self.relay.recorder().clear();
        for reader in readers {
            let got = self.who(reader).fetch().await.unwrap();
            for (who, text) in expect.iter().filter(|(who, _)| who == reader) {
                assert!(
                    got.iter().any(|m| m.text() == Some(*text)),
                    "{who} did not get {text:?}: {got:?}"
                );
            }
        }
        for conn in self.relay.connections() {
            check(&conn);
            let lookups: Vec<&Touch> = conn
                .touches
                .iter()
                .filter(|t| matches!(t, Touch::Anonymous { method, .. } if method == "Lookup"))
                .collect();
            assert!(
                lookups.is_empty(),
                "{readers:?} looked someone up while reading: {lookups:?}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_cannot_link_people_groups_or_senders_in_a_workshop() {
    let relay = TestRelay::builder().record_connections().start();
    let fp = relay.fingerprint();
    let mut people = Vec::new();
    for handle in ["alice", "bob", "carol", "dave", "erin", "frank"] {
        people.push(TestClient::register(&relay.url(), fp.as_deref(), handle).await);
    }
    let room = Room { relay, people };
    let (alice, bob, carol, dave, erin, frank) = (
        room.who("alice"),
        room.who("bob"),
        room.who("carol"),
        room.who("dave"),
        room.who("erin"),
        room.who("frank"),
    );

    // 1:1s, first contacts both ways.
    alice
        .say("bob", "bob, a word before the session")
        .await
        .unwrap();
    room.read(&["bob"], &[("bob", "bob, a word before the session")])
        .await;
    bob.say("alice", "of course").await.unwrap();
    carol.say("dave", "dave, are you coming?").await.unwrap();
    room.read(
        &["alice", "dave"],
        &[("alice", "of course"), ("dave", "dave, are you coming?")],
    )
    .await;

    // erin, a stranger to everyone, convenes a group of strangers.
    erin.create("north", &names(&["alice", "frank"]))
        .await
        .unwrap();
    erin.say("north", "north opens").await.unwrap();
    room.read(
        &["alice", "frank"],
        &[("alice", "north opens"), ("frank", "north opens")],
    )
    .await;

    // frank convenes bob, carol and dave, whom he has never met either.
    frank
        .create("south", &names(&["bob", "carol", "dave"]))
        .await
        .unwrap();
    frank.say("south", "south opens").await.unwrap();
    room.read(
        &["bob", "carol", "dave"],
        &[
            ("bob", "south opens"),
            ("carol", "south opens"),
            ("dave", "south opens"),
        ],
    )
    .await;

    // bob's group, then an add and a remove.
    bob.create("east", &names(&["erin"])).await.unwrap();
    bob.add("east", "frank").await.unwrap();
    bob.say("east", "east opens").await.unwrap();
    room.read(
        &["erin", "frank"],
        &[("erin", "east opens"), ("frank", "east opens")],
    )
    .await;
    erin.remove("north", "frank").await.unwrap();
    erin.say("north", "frank has left north").await.unwrap();
    room.read(&["alice", "frank"], &[("alice", "frank has left north")])
        .await;
    let south = common::local(dave, "south").await;
    dave.say(&south, "dave in south").await.unwrap();
    room.read(
        &["bob", "carol", "frank"],
        &[
            ("bob", "dave in south"),
            ("carol", "dave in south"),
            ("frank", "dave in south"),
        ],
    )
    .await;

    // Over the whole run (what was cleared between phases aside), every connection keeps
    // to its channel, and the run used every kind of traffic.
    room.relay.recorder().clear();
    for person in &room.people {
        person.fetch().await.unwrap();
    }
    let connections = room.relay.connections();
    connections.iter().for_each(check);
    let summary = Summary::of(&connections);
    eprintln!("relay's view of a final sync of six people: {summary:#?}");
    assert_eq!(summary.owner_connections, 6, "{summary:?}");
    assert_eq!(summary.groups, 5, "3 groups and 2 one-to-ones: {summary:?}");
    assert_eq!(summary.lookups, 0, "{summary:?}");
}
