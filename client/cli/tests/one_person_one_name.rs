//! One person, one name, one conversation: whole scenarios played with the real `parley`
//! binary by several people on a real relay, some of them as attackers. A message reaches
//! exactly whom it is meant for, every message is seen once, and every change of members is
//! shown to everyone in the room.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::scenario::{assert_has, people, read};
use support::{Person, TestRelay};

fn history(person: &Person, conversation: &str) -> String {
    person.run(&["history", conversation]).ok().stdout
}

#[track_caller]
fn assert_lacks(text: &str, needle: &str) {
    assert!(!text.contains(needle), "{needle:?} must not be in {text:?}");
}

/// The capture of issue 9: mallory invites alice to a group named after dave, whom alice has
/// never written to. Alice's "send dave" must never reach mallory.
#[test]
fn a_group_named_after_a_handle_cannot_capture_a_1to1() {
    let relay = TestRelay::plaintext();
    let [mallory, alice, dave] = people(&relay, ["mallory", "alice", "dave"]);

    mallory
        .run(&["group", "create", "dave", "--members", "alice"])
        .ok();
    // The invitation is announced, with who made it, the group and its members.
    let invited = read(&alice);
    assert_eq!(
        invited,
        [
            "* mallory added you to mallory/dave (members: mallory, you); mallory was not one \
          of your contacts before"
        ]
    );

    // "dave" could be the person or mallory's group: refused, with how to pick.
    let refused = alice
        .run(&["send", "dave", "dave, the real offer is 40 percent"])
        .fails_with(2);
    assert!(refused.stderr.contains("@dave"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("mallory/dave"),
        "{}",
        refused.stderr
    );
    assert!(mallory.run(&["read"]).ok().stdout.is_empty());

    // Named without doubt, it goes where it is meant to.
    alice
        .run(&["send", "@dave", "dave, the real offer is 40 percent"])
        .ok();
    let dave_reads = read(&dave);
    assert_has(&dave_reads, "alice: dave, the real offer is 40 percent");
    assert_lacks(&mallory.run(&["read"]).ok().stdout, "40 percent");

    // Now that the 1:1 exists, "dave" means dave; mallory's group stays "mallory/dave".
    alice.run(&["send", "dave", "and the map follows"]).ok();
    assert_has(&read(&dave), "alice: and the map follows");
    alice
        .run(&["send", "mallory/dave", "for the group only"])
        .ok();
    let mallory_reads = mallory.run(&["read"]).ok().stdout;
    assert_eq!(mallory_reads, "alice: for the group only\n");
    assert_lacks(&dave.run(&["read"]).ok().stdout, "for the group only");
}

/// The mirror: alice's own group "summit" exists before anyone registers the handle
/// "summit". Whoever does can never receive what alice meant for the group.
#[test]
fn a_newly_registered_handle_cannot_capture_our_own_group() {
    let relay = TestRelay::plaintext();
    let [alice, bob] = people(&relay, ["alice", "bob"]);
    alice
        .run(&["group", "create", "summit", "--members", "bob"])
        .ok();
    let summit = Person::new();
    summit.init(&relay, "summit");

    alice.run(&["send", "summit", "for the group"]).ok();
    assert_has(&read(&bob), "alice: for the group");
    assert!(summit.run(&["read"]).ok().stdout.is_empty());

    // The person summit writes first: now "summit" could mean either, and is refused.
    summit.run(&["send", "alice", "hello from summit"]).ok();
    assert_has(&read(&alice), "[summit] summit: hello from summit");
    let refused = alice
        .run(&["send", "summit", "the group's position"])
        .fails_with(2);
    assert!(
        refused.stderr.contains("alice/summit"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("@summit"), "{}", refused.stderr);
    alice
        .run(&["send", "alice/summit", "the group's position"])
        .ok();
    assert_has(&read(&bob), "alice: the group's position");
    assert_lacks(&summit.run(&["read"]).ok().stdout, "position");
    alice.run(&["send", "@summit", "hello, summit"]).ok();
    assert_has(&read(&summit), "alice: hello, summit");
    // The list keeps the two apart.
    let listed = alice.run(&["conversations"]).ok().stdout;
    assert!(
        listed.contains("alice/summit  group") && listed.contains("summit        direct"),
        "{listed}"
    );

    // And no new group of alice's may be named after a person she knows.
    let taken = alice
        .run(&["group", "create", "bob", "--members", "summit"])
        .fails_with(1);
    assert!(taken.error_line().contains("bob"), "{}", taken.stderr);
}

/// Being added is shown by `read` (plain and JSON) and by `read --follow`.
#[test]
fn an_invitation_is_announced_with_who_what_and_whom() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    use std::sync::mpsc;
    use std::time::Duration;

    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = people(&relay, ["alice", "bob", "carol"]);
    // carol is a contact of bob's before the invitation; alice is not.
    carol.run(&["send", "bob", "hi bob"]).ok();
    read(&bob);

    alice
        .run(&["group", "create", "talks", "--members", "bob"])
        .ok();
    let json = bob.run(&["--json", "read"]).ok().stdout;
    let event: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
    assert_eq!(event["event"], "joined");
    assert_eq!(event["conversation"], "alice/talks");
    assert_eq!(event["by"], "alice");
    assert_eq!(event["members"], serde_json::json!(["alice", "bob"]));
    assert_eq!(event["by_contact"], false);

    // While bob follows, carol (a contact) adds him to her group: announced live.
    let mut follower = bob
        .command(&["read", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = follower.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                return;
            }
        }
    });
    carol
        .run(&["group", "create", "board", "--members", "bob,alice"])
        .ok();
    let line = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(
        line,
        "[carol/board] * carol added you to carol/board (members: carol, you, alice)"
    );
    follower.kill().unwrap();
    follower.wait().unwrap();
}

/// A message fetched by another command (here bob's own `send`, which syncs the group
/// first) is still shown by the next `read`, once.
#[test]
fn read_shows_what_send_fetched() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = people(&relay, ["alice", "bob", "carol"]);
    alice
        .run(&["group", "create", "g", "--members", "bob,carol"])
        .ok();
    alice.run(&["send", "g", "alice's proposal"]).ok();
    bob.run(&["send", "alice/g", "bob's answer"]).ok();
    let bob_reads = read(&bob);
    assert_has(&bob_reads, "alice: alice's proposal");
    assert!(read(&bob).is_empty(), "shown once");
    // The same for a 1:1: carol writes, bob answers before reading.
    carol.run(&["send", "bob", "are you in?"]).ok();
    bob.run(&["send", "carol", "in"]).ok();
    let bob_reads = read(&bob);
    assert_has(&bob_reads, "[carol] carol: are you in?");
    assert!(bob_reads.iter().all(|l| !l.contains("bob's answer")));
    // Every message of the room reaches carol's read exactly once.
    let carol_reads = read(&carol);
    for line in [
        "[alice/g] alice: alice's proposal",
        "[alice/g] bob: bob's answer",
        "[bob] bob: in",
    ] {
        assert_eq!(
            carol_reads.iter().filter(|l| *l == line).count(),
            1,
            "{line} in {carol_reads:#?}"
        );
    }
}

/// erin and frank write to each other first at the same time, in random orders: both end
/// with one conversation holding every message once, and later messages flow both ways.
#[test]
fn simultaneous_first_messages_converge_on_one_conversation() {
    let relay = TestRelay::plaintext();
    let rounds: Vec<u64> = (0..20).collect();
    std::thread::scope(|scope| {
        for chunk in rounds.chunks(5) {
            let relay = &relay;
            scope.spawn(move || {
                for &round in chunk {
                    converge_round(relay, round);
                }
            });
        }
    });
}

fn converge_round(relay: &TestRelay, round: u64) {
    let mut rng = StdRng::seed_from_u64(0x5eed ^ round);
    let (e, f) = (format!("erin{round}"), format!("frank{round}"));
    let [erin, frank] = [Person::new(), Person::new()];
    erin.init(relay, &e);
    frank.init(relay, &f);
    let to_frank = format!("erin's first ({round})");
    let to_erin = format!("frank's first ({round})");
    // Neither has read anything when both write; half the rounds write at the same instant.
    if rng.gen_bool(0.5) {
        std::thread::scope(|s| {
            s.spawn(|| erin.run(&["send", &f, &to_frank]).ok());
            s.spawn(|| frank.run(&["send", &e, &to_erin]).ok());
        });
    } else if rng.gen_bool(0.5) {
        erin.run(&["send", &f, &to_frank]).ok();
        frank.run(&["send", &e, &to_erin]).ok();
    } else {
        frank.run(&["send", &e, &to_erin]).ok();
        erin.run(&["send", &f, &to_frank]).ok();
    }
    // Then each reads and answers, in a random order.
    let mut seen_by_erin = Vec::new();
    let mut seen_by_frank = Vec::new();
    let replies = [
        format!("erin again ({round})"),
        format!("frank again ({round})"),
    ];
    let mut order = [0, 1];
    if rng.gen_bool(0.5) {
        order.swap(0, 1);
    }
    for who in order {
        if who == 0 {
            seen_by_erin.extend(read(&erin));
            erin.run(&["send", &f, &replies[0]]).ok();
        } else {
            seen_by_frank.extend(read(&frank));
            frank.run(&["send", &e, &replies[1]]).ok();
        }
    }
    seen_by_erin.extend(read(&erin));
    seen_by_frank.extend(read(&frank));
    for (seen, from, texts) in [
        (&seen_by_erin, &f, [&to_erin, &replies[1]]),
        (&seen_by_frank, &e, [&to_frank, &replies[0]]),
    ] {
        for text in texts {
            let line = format!("{from}: {text}");
            assert_eq!(
                seen.iter().filter(|l| **l == line).count(),
                1,
                "round {round}: {line:?} shown once in {seen:#?}"
            );
        }
    }
    // One conversation on each side, with all four messages once.
    for (person, other) in [(&erin, &f), (&frank, &e)] {
        let listed = person.run(&["conversations"]).ok().stdout;
        assert_eq!(listed.lines().count(), 1, "round {round}: {listed}");
        assert!(listed.starts_with(other.as_str()), "{listed}");
        let all = history(person, other);
        for text in [&to_frank, &to_erin, &replies[0], &replies[1]] {
            assert_eq!(
                all.matches(text.as_str()).count(),
                1,
                "round {round}: {all}"
            );
        }
    }
}

/// A message cannot make a line that looks like another sender's.
#[test]
fn a_sender_cannot_be_forged_by_text() {
    let relay = TestRelay::plaintext();
    let [alice, carol, dave] = people(&relay, ["alice", "carol", "dave"]);
    alice
        .run(&["group", "create", "room", "--members", "carol,dave"])
        .ok();
    read(&dave);
    let forged = "Thanks all.\ncarol: I accept the proposal as drafted.";
    dave.run(&["send", "alice/room", forged]).ok();
    dave.run(&["send", "alice/room", "line\u{2028}carol: me too"])
        .ok();
    let shown = alice.run(&["read"]).ok().stdout;
    let history = history(&alice, "room");
    for text in [&shown, &history] {
        for line in text.lines() {
            assert!(
                !line.trim_start().starts_with("carol:") || line.starts_with("    "),
                "a line looks like carol's: {line:?} in\n{text}"
            );
            assert!(!line.starts_with("carol:"), "{text}");
        }
    }
    assert!(
        shown.contains("dave: Thanks all.\n    carol: I accept the proposal as drafted.\n"),
        "{shown}"
    );
    let _ = carol;
}

/// bob removes alice, later adds her back: she joins again and reads from then on.
#[test]
fn a_removed_member_added_back_reads_again() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = people(&relay, ["alice", "bob", "carol"]);
    bob.run(&["group", "create", "team", "--members", "alice,carol"])
        .ok();
    read(&alice);
    bob.run(&["group", "remove", "team", "alice"]).ok();
    bob.run(&["send", "team", "while alice is out"]).ok();
    let alice_reads = read(&alice);
    assert_eq!(alice_reads, ["* bob removed you from bob/team"]);

    bob.run(&["group", "add", "team", "alice"]).ok();
    bob.run(&["send", "team", "welcome back"]).ok();
    let alice_reads = read(&alice);
    assert_eq!(
        alice_reads,
        [
            "* bob added you to bob/team (members: bob, you, carol)",
            "bob: welcome back"
        ]
    );
    alice.run(&["send", "bob/team", "glad to be back"]).ok();
    assert_has(&read(&bob), "alice: glad to be back");
    let carol_reads = read(&carol);
    assert_has(&carol_reads, "* bob removed alice from bob/team");
    assert_has(&carol_reads, "* bob added alice to bob/team");
    assert_has(&carol_reads, "alice: glad to be back");
    // She never sees what was said while she was out.
    assert_lacks(&history(&alice, "bob/team"), "while alice is out");
}

/// Every add and remove is shown to every member, in read, history and JSON.
#[test]
fn adds_and_removes_are_shown_to_every_member() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol, dave] = people(&relay, ["alice", "bob", "carol", "dave"]);
    alice
        .run(&["group", "create", "team", "--members", "bob,carol"])
        .ok();
    alice.run(&["group", "add", "team", "dave"]).ok();
    // Only admins change who is in a group: carol, not one, is refused before anything is sent.
    let refused = carol
        .run(&["group", "remove", "alice/team", "dave"])
        .fails_with(1);
    assert!(
        refused.stderr.contains(
            "only an admin of alice/team can change who is in it or who its admins are; ask alice"
        ),
        "{}",
        refused.stderr
    );
    alice.run(&["group", "promote", "team", "bob"]).ok();
    bob.run(&["group", "remove", "alice/team", "carol"]).ok();

    let bob_reads = read(&bob);
    assert_eq!(
        bob_reads,
        [
            "* alice added you to alice/team (members: alice, you, carol); alice was not one of \
             your contacts before",
            "* alice added dave to alice/team",
            "* alice made you an admin of alice/team"
        ]
    );
    let carol_reads = read(&carol);
    assert_has(&carol_reads, "* alice added dave to alice/team");
    assert_has(&carol_reads, "* bob removed you from alice/team");
    let dave_reads = read(&dave);
    assert_has(&dave_reads, "* bob removed carol from alice/team");
    let alice_json = alice.run(&["--json", "read"]).ok().stdout;
    let change: serde_json::Value = serde_json::from_str(alice_json.trim()).unwrap();
    assert_eq!(change["event"], "membership");
    assert_eq!(change["by"], "bob");
    assert_eq!(change["removed"], serde_json::json!(["carol"]));
    assert_eq!(change["added"], serde_json::json!([]));
    // The history keeps every change, the member's own included.
    let kept = history(&alice, "team");
    assert!(
        kept.contains("* alice created team (members: you, bob, carol)"),
        "{kept}"
    );
    assert!(kept.contains("* alice added dave to team"), "{kept}");
    assert!(kept.contains("* bob removed carol from team"), "{kept}");
    let bobs = history(&bob, "alice/team");
    assert!(
        bobs.contains("* bob removed carol from alice/team"),
        "{bobs}"
    );
    let members = alice.run(&["group", "members", "team"]).ok().stdout;
    assert_eq!(members, "alice\nbob\ndave\n");
}

/// carol loses her laptop; the operator frees her handle and she registers again with a
/// new key. Until alice decides about it, nothing goes to any conversation carol is in.
#[test]
fn a_changed_member_blocks_the_group_until_decided() {
    let mut relay = TestRelay::plaintext();
    let [alice, bob, carol] = people(&relay, ["alice", "bob", "carol"]);
    alice
        .run(&["group", "create", "team", "--members", "bob,carol"])
        .ok();
    read(&bob);
    read(&carol);
    drop(carol);
    let released = relay.blocking_release_handle("carol");
    assert!(released.record, "carol was registered");
    let new_carol = Person::new();
    new_carol.init(&relay, "carol");
    new_carol
        .run(&["send", "alice", "carol here, new laptop"])
        .ok();
    // Alice learns of the new key from the delivery; carol's message is held, not shown.
    let shown = alice.run(&["read"]).ok();
    assert_lacks(&shown.stdout, "new laptop");

    let blocked = alice.run(&["send", "team", "the draft"]).fails_with(3);
    assert!(
        blocked.error_line().contains("'carol'"),
        "{}",
        blocked.stderr
    );
    for remedy in [
        "verify carol",
        "contact accept-new-key carol",
        "group remove team carol",
    ] {
        assert!(blocked.stderr.contains(remedy), "{}", blocked.stderr);
    }
    assert!(
        bob.run(&["read"]).ok().stdout.is_empty(),
        "nothing was sent"
    );

    // Accepting the key does not let the group reach the old one: still blocked.
    alice.run(&["contact", "accept-new-key", "carol"]).ok();
    alice.run(&["send", "team", "the draft"]).fails_with(3);
    // The held message is shown now.
    assert_has(&read(&alice), "[carol] carol: carol here, new laptop");
    // Removing the old key unblocks; adding carol back brings in the new one.
    alice.run(&["group", "remove", "team", "carol"]).ok();
    alice.run(&["send", "team", "the draft"]).ok();
    assert_has(&read(&bob), "alice: the draft");
    alice.run(&["group", "add", "team", "carol"]).ok();
    alice.run(&["send", "team", "the second draft"]).ok();
    let carol_reads = read(&new_carol);
    assert_has(&carol_reads, "[alice/team] alice: the second draft");
    assert_lacks(&carol_reads.join("\n"), "alice: the draft\n");
}

/// bob's key changes and alice accepts it: after that, both reach each other in the live
/// conversation, the old one is closed on both sides and never written to again.
#[test]
fn after_a_key_change_both_sides_use_the_live_conversation() {
    let mut relay = TestRelay::plaintext();
    let [alice, old_bob] = people(&relay, ["alice", "bob"]);
    alice.run(&["send", "bob", "before the change"]).ok();
    read(&old_bob);
    let released = relay.blocking_release_handle("bob");
    assert!(released.record, "bob was registered");
    let bob = Person::new();
    bob.init(&relay, "bob");
    bob.run(&["send", "alice", "new key, same bob"]).ok();
    alice.run(&["read"]).ok();
    alice.run(&["send", "bob", "still there?"]).fails_with(3);
    let accepted = alice.run(&["contact", "accept-new-key", "bob"]).ok().stdout;
    assert!(accepted.contains("\"bob (old key)\""), "{accepted}");

    // The message bob wrote with his new key is shown in the live conversation "bob".
    assert_has(&read(&alice), "[bob] bob: new key, same bob");
    alice.run(&["send", "bob", "welcome back, bob"]).ok();
    assert_has(&read(&bob), "alice: welcome back, bob");
    bob.run(&["send", "alice", "thanks"]).ok();
    assert_has(&read(&alice), "[bob] bob: thanks");
    let live = history(&alice, "bob");
    for text in ["new key, same bob", "welcome back, bob", "thanks"] {
        assert!(live.contains(text), "{live}");
    }
    assert_lacks(&live, "before the change");
    assert!(history(&alice, "bob (old key)").contains("before the change"));
    // One live conversation on each side.
    let listed = alice.run(&["conversations"]).ok().stdout;
    assert_eq!(
        listed.lines().filter(|l| l.contains("direct")).count(),
        2,
        "{listed}"
    );
    assert_eq!(bob.run(&["conversations"]).ok().stdout.lines().count(), 1);

    // The old device learns its conversation was closed; what it sends reaches nobody.
    let old_reads = read(&old_bob);
    assert_has(
        &old_reads,
        "* alice removed you from an earlier private conversation, now closed",
    );
    let _ = old_bob.run(&["send", "alice", "from the old laptop"]);
    let alice_now = alice.run(&["read"]).ok().stdout;
    assert_lacks(&alice_now, "from the old laptop");
    assert_lacks(&history(&alice, "bob"), "from the old laptop");
}
