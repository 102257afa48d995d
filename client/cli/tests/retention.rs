//! Agreed retention with the real binaries, as three people use it: a group made with
//! `--retention`, changed with `group retention` while one member is offline, a 1:1 changed
//! with `retention`, every member told who changed it in `read`, `conversations` showing it,
//! and bad durations refused with a message that says what to write. (Expiry itself runs on
//! an injected clock in the library's tests; the binaries use the real one.)

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use support::{Person, TestRelay};

#[test]
fn a_group_and_a_direct_conversation_agree_on_how_long_messages_live() {
    let relay = TestRelay::plaintext();
    let [alice, bob, carol] = [Person::new(), Person::new(), Person::new()];
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    carol.init(&relay, "carol");

    let created = alice
        .run(&[
            "group",
            "create",
            "caucus",
            "--members",
            "bob,carol",
            "--retention",
            "7d",
        ])
        .ok()
        .stderr;
    assert!(
        created.contains("messages disappear after 1 week"),
        "{created}"
    );
    bob.run(&["read"]).ok();
    for (who, name) in [(&alice, "caucus"), (&bob, "alice/caucus")] {
        let listed = who.run(&["conversations"]).ok().stdout;
        let line = listed.lines().find(|l| l.starts_with(name)).unwrap();
        assert!(
            line.ends_with("messages disappear after 1 week"),
            "{listed}"
        );
        let json = who.run(&["--json", "conversations"]).ok().stdout;
        assert!(json.contains("\"retention\":\"1w\""), "{json}");
    }

    // carol is offline while bob shortens it; everyone is told who did.
    let changed = bob
        .run(&["group", "retention", "alice/caucus", "24h"])
        .ok()
        .stderr;
    assert!(changed.contains("now disappear after 1 day"), "{changed}");
    for who in [&alice, &carol] {
        let read = who.run(&["read"]).ok().stdout;
        let line = read
            .lines()
            .find(|l| l.contains("set messages in"))
            .unwrap_or_else(|| panic!("not told: {read}"));
        assert!(line.contains("* bob set messages in"), "{read}");
        assert!(line.ends_with("to disappear after 1 day"), "{read}");
        assert_eq!(
            read.matches("set messages in").count(),
            1,
            "told once: {read}"
        );
    }
    // Told once across commands: neither read again nor history shows it twice.
    assert!(!alice.run(&["read"]).ok().stdout.contains("set messages in"));
    let history = alice.run(&["history", "caucus"]).ok().stdout;
    assert_eq!(
        history.matches("to disappear after 1 day").count(),
        1,
        "{history}"
    );
    let json = carol
        .run(&["--json", "history", "alice/caucus"])
        .ok()
        .stdout;
    assert!(json.contains("\"event\":\"retention\""), "{json}");
    assert!(json.contains("\"retention_secs\":86400"), "{json}");

    // A 1:1: started by setting it, and turned off again.
    let direct = alice.run(&["retention", "bob", "90m"]).ok().stderr;
    assert!(
        direct.contains("now disappear after 90 minutes"),
        "{direct}"
    );
    let read = bob.run(&["read"]).ok().stdout;
    assert!(
        read.contains("set messages in this conversation to disappear after 90 minutes"),
        "{read}"
    );
    bob.run(&["retention", "alice", "off"]).ok();
    let read = alice.run(&["read"]).ok().stdout;
    assert!(
        read.contains("turned off disappearing messages in this conversation"),
        "{read}"
    );
    let listed = alice.run(&["conversations"]).ok().stdout;
    let line = listed.lines().find(|l| l.starts_with("bob")).unwrap();
    assert!(!line.contains("disappear"), "{listed}");
}

#[test]
fn bad_durations_are_refused_with_what_to_write() {
    let relay = TestRelay::plaintext();
    let [alice, bob] = [Person::new(), Person::new()];
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    for bad in ["7", "7y", "30s", "1.5h", "forever"] {
        // A usage error, told by the argument parser before anything is opened.
        let refused = alice.run(&["retention", "bob", bad]);
        assert_eq!(refused.code, 2, "{bad}: {}", refused.stderr);
        assert!(refused.stderr.starts_with("error: "), "{}", refused.stderr);
        assert!(
            refused.stderr.contains("7d, 24h, 90m or off")
                || refused.stderr.contains("between one minute and ten years"),
            "{bad}: {}",
            refused.stderr
        );
    }
    let refused = alice.run(&[
        "group",
        "create",
        "g",
        "--members",
        "bob",
        "--retention",
        "0m",
    ]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("between one minute and ten years"),
        "{}",
        refused.stderr
    );
    // Nothing was created by the refusals.
    assert!(!alice.run(&["conversations"]).ok().stdout.contains("g "));
    let help = alice.run(&["group", "retention", "--help"]).ok().stdout;
    assert!(help.contains("parley group retention buyers 24h"), "{help}");
    assert!(help.contains("saved with get-file"), "{help}");
    let help = alice.run(&["retention", "--help"]).ok().stdout;
    assert!(help.contains("parley retention bob 7d"), "{help}");
}
