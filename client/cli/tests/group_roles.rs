//! Who may change a group, played with the real `parley` binary by several people on a real
//! relay: the creator is its admin; a member who is not one cannot add, remove or promote
//! (refused before anything is sent, and every other member's software would refuse the
//! commit anyway: see crypto/tests/hostile_roles.rs); admins promote; anyone may leave, and
//! an admin's software removes them, after which nothing said in the room reaches them; the
//! only admin cannot leave others without one.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::scenario::{assert_has, in_a_group, people, read};
use support::{Person, TestRelay};

fn members(person: &Person, group: &str) -> String {
    person.run(&["group", "members", group]).ok().stdout
}

#[test]
fn only_admins_change_the_room_anyone_may_leave_and_a_leaver_hears_nothing_after() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol, dave] = people(&relay, ["alice", "bob", "carol", "dave"]);
    alice
        .run(&["group", "create", "talks", "--members", "bob,carol"])
        .ok();
    read(&bob);
    read(&carol);

    // carol is not an admin: every change of the room is refused, with who to ask.
    for attempt in [
        vec!["group", "add", "alice/talks", "dave"],
        vec!["group", "remove", "alice/talks", "bob"],
        vec!["group", "promote", "alice/talks", "carol"],
    ] {
        let refused = carol.run(&attempt).fails_with(1);
        assert!(
            refused.stderr.contains(
                "only an admin of alice/talks can change who is in it or who its admins are; ask alice"
            ),
            "{attempt:?}: {}",
            refused.stderr
        );
    }
    assert_eq!(members(&alice, "talks"), "alice\nbob\ncarol\n");
    let json = alice
        .run(&["--json", "group", "members", "talks"])
        .ok()
        .stdout;
    let admins: Vec<String> = json
        .lines()
        .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap())
        .filter(|member| member["admin"] == true)
        .map(|member| member["handle"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(admins, ["alice"]);

    // The only admin cannot leave the others without one.
    let alone = alice.run(&["group", "leave", "talks"]).fails_with(1);
    assert!(
        alone.stderr.contains(
            "you are the only admin of talks; make another member an admin before you leave"
        ),
        "{}",
        alone.stderr
    );

    // bob leaves; alice's software removes him at her next sync; everyone is told.
    let left = bob.run(&["group", "leave", "alice/talks"]).ok();
    assert!(
        left.stderr.contains("You left 'alice/talks'"),
        "{}",
        left.stderr
    );
    let alice_reads = read(&alice);
    assert_has(&alice_reads, "* bob left talks");
    assert_eq!(members(&alice, "talks"), "alice\ncarol\n");
    let carol_reads = read(&carol);
    assert_has(&carol_reads, "* bob left alice/talks");
    assert_has(&carol_reads, "* alice removed bob from alice/talks");

    // What is said afterwards never reaches him.
    alice.run(&["send", "talks", "now that bob is gone"]).ok();
    assert_has(&read(&carol), "alice: now that bob is gone");
    let bobs = bob.run(&["read"]).ok().stdout;
    assert!(!bobs.contains("now that bob is gone"), "{bobs}");

    // alice makes carol an admin; carol may now add dave; alice leaves, carol's software
    // removes her.
    alice.run(&["group", "promote", "talks", "carol"]).ok();
    assert_has(&read(&carol), "* alice made you an admin of alice/talks");
    carol.run(&["group", "add", "alice/talks", "dave"]).ok();
    read(&dave);
    alice.run(&["group", "leave", "talks"]).ok();
    let carol_reads = read(&carol);
    assert_has(&carol_reads, "* alice left alice/talks");
    // Leaf order: dave took the leaf bob left.
    assert_eq!(members(&carol, "alice/talks"), "dave\ncarol\n");
    // dave knows the room by who invited him.
    let dave_reads = read(&dave);
    assert_has(&dave_reads, "* alice left carol/talks");
    assert_has(&dave_reads, "* carol removed alice from carol/talks");
    carol.run(&["send", "alice/talks", "just us"]).ok();
    assert_has(&read(&dave), "carol: just us");
    let alices = alice.run(&["read"]).ok().stdout;
    assert!(!alices.contains("just us"), "{alices}");
}

/// A request to leave is answered by the removal: someone who left and was added back is not
/// taken out again by a member who read both only later, and was made an admin since.
#[test]
fn a_member_who_left_and_came_back_is_not_removed_by_an_old_request() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = in_a_group(&relay, "talks", ["alice", "bob", "carol"]);
    bob.run(&["group", "leave", "alice/talks"]).ok();
    read(&alice);
    assert_eq!(members(&alice, "talks"), "alice\ncarol\n");
    alice.run(&["group", "add", "talks", "bob"]).ok();
    read(&bob);
    alice.run(&["group", "promote", "talks", "carol"]).ok();

    // carol reads it all at once, as an admin by the end of it.
    let carol_reads = read(&carol);
    assert_has(&carol_reads, "* bob left alice/talks");
    assert_has(&carol_reads, "* alice removed bob from alice/talks");
    assert_has(&carol_reads, "* alice added bob to alice/talks");
    assert_has(&carol_reads, "* alice made you an admin of alice/talks");
    read(&carol);
    let mut seen = members(&carol, "alice/talks");
    seen.retain(|c| c != '\n');
    assert!(seen.contains("bob"), "{seen}");
    alice.run(&["send", "talks", "welcome back"]).ok();
    assert_has(&read(&bob), "alice: welcome back");
}

/// An admin removed while she was away, who then tries an admin's change before reading, is
/// told she is out of the room, not sent to ask an admin; nothing she tried reaches anyone.
#[test]
fn an_admin_removed_while_away_is_told_she_is_out_of_the_room() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol, dave] = people(&relay, ["alice", "bob", "carol", "dave"]);
    alice
        .run(&["group", "create", "talks", "--members", "bob,carol"])
        .ok();
    read(&bob);
    read(&carol);
    alice.run(&["group", "promote", "talks", "carol"]).ok();
    assert_has(&read(&carol), "* alice made you an admin of alice/talks");
    alice.run(&["group", "remove", "talks", "carol"]).ok();

    for attempt in [
        vec!["group", "add", "alice/talks", "dave"],
        vec!["group", "remove", "alice/talks", "bob"],
        vec!["group", "promote", "alice/talks", "bob"],
    ] {
        let refused = carol.run(&attempt).fails_with(1);
        assert!(
            refused
                .stderr
                .contains("carol is not a member of this conversation"),
            "{attempt:?}: {}",
            refused.stderr
        );
        assert!(!refused.stderr.contains("ask alice"), "{}", refused.stderr);
    }
    assert_eq!(members(&alice, "talks"), "alice\nbob\n");
    let bob_reads = read(&bob);
    assert_has(&bob_reads, "* alice removed carol from alice/talks");
    assert!(
        !bob_reads
            .iter()
            .any(|line| line.contains("made bob an admin")),
        "{bob_reads:?}"
    );
    let daves = dave.run(&["read"]).ok().stdout;
    assert!(!daves.contains("talks"), "{daves}");
}
