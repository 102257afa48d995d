//! What a `send` had to read from the relay first (others wrote in the room since we last
//! looked) is shown by the next `read`, once, and sits before the sent message in `history`,
//! in the room's order; the others see the same order. Played by three people with the real
//! `parley` binary on a real relay, no daemon: each command is its own process.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::scenario::{in_a_group, read};
use support::{Person, TestRelay};

/// The lines of `history` for `conversation` that carry `texts`, in the order shown.
fn said_in_history(person: &Person, conversation: &str, texts: &[&str]) -> Vec<String> {
    person
        .run(&["history", conversation])
        .ok()
        .stdout
        .lines()
        .filter(|line| texts.iter().any(|text| line.ends_with(text)))
        .map(str::to_owned)
        .collect()
}

#[test]
fn what_a_send_read_first_is_shown_by_read_once_and_kept_before_it() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = in_a_group(&relay, "talks", ["alice", "bob", "carol"]);

    bob.run(&["send", "alice/talks", "north agrees"]).ok();
    carol
        .run(&["send", "alice/talks", "south asks for a week"])
        .ok();
    // alice writes without having read them.
    alice.run(&["send", "talks", "then we meet on Monday"]).ok();

    let shown = read(&alice);
    let said: Vec<&String> = shown.iter().filter(|l| l.contains(": ")).collect();
    assert_eq!(
        said,
        ["bob: north agrees", "carol: south asks for a week"],
        "{shown:#?}"
    );
    assert!(read(&alice).is_empty(), "shown twice");

    // The others read it after what they wrote, as everyone's history keeps it.
    assert_eq!(
        read(&bob)
            .iter()
            .filter(|l| l.contains(": "))
            .collect::<Vec<_>>(),
        [
            "carol: south asks for a week",
            "alice: then we meet on Monday"
        ]
    );
    read(&carol);
    let texts = [
        "north agrees",
        "south asks for a week",
        "then we meet on Monday",
    ];
    for (person, name) in [
        (&alice, "talks"),
        (&bob, "alice/talks"),
        (&carol, "alice/talks"),
    ] {
        let order = said_in_history(person, name, &texts);
        assert_eq!(order.len(), 3, "{order:#?}");
        for (line, text) in order.iter().zip(texts) {
            assert!(line.ends_with(text), "{order:#?}");
        }
    }
}
