//! A room followed while others write: the relay pushes each message with its notice, and
//! bob's `read --follow` shows it without reading the room's log. Each message once, in the
//! room's order, then never again: not by `read` in another window, not twice in
//! `history`. Played by three people with the real `parley` binary on a real relay.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::time::Duration;

use support::follower::Follower;
use support::scenario::{in_a_group, read};
use support::{Person, TestRelay};

/// How many lines of `person`'s `history` of `conversation` end with `text`.
fn in_history(person: &Person, conversation: &str, text: &str) -> usize {
    person
        .run(&["history", conversation])
        .ok()
        .stdout
        .lines()
        .filter(|line| line.ends_with(text))
        .count()
}

#[test]
fn a_followed_room_shows_each_message_once_in_order_and_never_again() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = in_a_group(&relay, "talks", ["alice", "bob", "carol"]);
    let follower = Follower::start(&bob, &[]);
    // The follower is up once it shows a message.
    alice.run(&["send", "talks", "opening"]).ok();
    let first = follower.next();
    assert!(first.ends_with("alice: opening"), "{first}");

    let said: Vec<(&Person, &str, String)> = (0..6)
        .map(|i| {
            if i % 2 == 0 {
                (&alice, "talks", format!("north, point {i}"))
            } else {
                (&carol, "alice/talks", format!("south, point {i}"))
            }
        })
        .collect();
    for (person, conversation, text) in &said {
        person.run(&["send", conversation, text]).ok();
        let line = follower.next();
        let who = if text.starts_with("north") {
            "alice"
        } else {
            "carol"
        };
        assert!(
            line.ends_with(&format!("{who}: {text}")),
            "{line} for {text}"
        );
    }
    follower.assert_quiet_for(Duration::from_secs(2));
    drop(follower);

    let again: Vec<String> = read(&bob)
        .into_iter()
        .filter(|line| line.contains(": "))
        .collect();
    assert!(again.is_empty(), "shown twice: {again:#?}");
    for (_, _, text) in &said {
        assert_eq!(in_history(&bob, "alice/talks", text), 1, "{text}");
    }
}
