//! `parley group recreate`: a room that cannot go on is started again, without whoever broke
//! it, with the real binary and relay; the others are told what the new room replaces, and
//! the one left out reads nothing of it. (The stuck room itself, made by a member committing
//! garbage, is played by the library test client/tests/stuck_room.rs.)

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Person, TestRelay};

#[test]
fn a_group_is_started_again_without_the_one_left_out() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = [Person::new(), Person::new(), Person::new()];
    alice.init(&relay, "alice").ok();
    bob.init(&relay, "bob").ok();
    carol.init(&relay, "carol").ok();
    alice
        .run(&["group", "create", "summit", "--members", "bob,carol"])
        .ok();
    bob.run(&["read"]).ok();
    carol.run(&["read"]).ok();

    alice
        .run(&["group", "recreate", "summit", "--without", "carol"])
        .ok();
    assert_eq!(
        alice.run(&["group", "members", "summit"]).ok().stdout,
        "alice\nbob\n"
    );
    let conversations = alice.run(&["conversations"]).ok().stdout;
    assert!(conversations.contains("summit (old)"), "{conversations}");

    let read = bob.run(&["read"]).ok().stdout;
    assert!(
        read.contains(
            "alice: alice started this group again to replace \"summit\", which could not go \
             on, without carol."
        ),
        "{read}"
    );
    alice.run(&["send", "summit", "we go on"]).ok();
    assert!(bob.run(&["read"]).ok().stdout.contains("alice: we go on"));
    let carol_reads = carol.run(&["read"]).ok().stdout;
    assert!(!carol_reads.contains("we go on"), "{carol_reads}");
    assert!(
        !carol_reads.contains("started this group again"),
        "{carol_reads}"
    );

    // Only members can be left out.
    let refused = alice
        .run(&["group", "recreate", "summit", "--without", "dave"])
        .fails_with(1);
    assert!(refused.error_line().contains("dave"), "{}", refused.stderr);
}
