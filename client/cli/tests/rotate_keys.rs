//! `parley rotate-keys` with the real binaries: new keys the old ones endorse, conversations
//! moved, contacts told it was a rotation, and what a newcomer needs in `--help`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Person, TestRelay};

/// The hex key after `label` in `parley rotate-keys` output.
fn key_after<'a>(output: &'a str, label: &str) -> &'a str {
    output
        .lines()
        .find_map(|l| l.strip_prefix(label))
        .map(str::trim)
        .unwrap_or_else(|| panic!("no {label} in {output}"))
}

#[test]
fn rotating_keys_moves_conversations_and_contacts_see_a_rotation_not_a_change() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = [Person::new(), Person::new(), Person::new()];
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    carol.init(&relay, "carol");
    alice.run(&["send", "bob", "before"]).ok();
    alice
        .run(&["group", "create", "summit", "--members", "bob,carol"])
        .ok();
    bob.run(&["read"]).ok();
    carol.run(&["read"]).ok();
    let before = alice.run(&["whoami"]).ok().stdout;

    let rotated = alice.run(&["rotate-keys"]).ok().stdout;
    assert!(
        rotated.starts_with("Your keys were replaced.\n"),
        "{rotated}"
    );
    let old = key_after(&rotated, "Old identity key:");
    let new = key_after(&rotated, "New identity key:");
    assert!(before.contains(old), "{before}");
    assert_ne!(old, new);
    assert!(alice.run(&["whoami"]).ok().stdout.contains(new));
    assert!(
        rotated.contains("Conversations moved to the new key: 2"),
        "{rotated}"
    );

    alice.run(&["send", "summit", "same alice"]).ok();
    alice.run(&["send", "bob", "just you"]).ok();
    let read = bob.run(&["read"]).ok().stdout;
    assert!(read.contains("alice: just you"), "{read}");
    assert!(read.contains("alice: same alice"), "{read}");
    assert!(carol
        .run(&["read"])
        .ok()
        .stdout
        .contains("alice: same alice"));
    for who in [&bob, &carol] {
        let alerts = who.run(&["alerts"]).ok().stdout;
        assert!(alerts.contains("alice rotated their keys"), "{alerts}");
        assert!(!alerts.contains("has changed"), "{alerts}");
        // Nothing is blocked: writing to alice works at once.
        who.run(&["send", "alice", "noted"]).ok();
    }
    let read = alice.run(&["read"]).ok().stdout;
    assert_eq!(read.matches("noted").count(), 2, "{read}");
}

#[test]
fn rotate_keys_explains_itself_and_needs_an_identity() {
    let newcomer = Person::new();
    let help = newcomer.run(&["rotate-keys", "--help"]).ok().stdout;
    assert!(help.contains("signed by your current"), "{help}");
    assert!(help.contains("release your handle"), "{help}");
    let refused = newcomer.run(&["rotate-keys"]).fails_with(1);
    assert!(
        refused.error_line().contains("no Parley identity"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("parley init"), "{}", refused.stderr);
}
