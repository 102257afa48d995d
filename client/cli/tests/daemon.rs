//! `parley daemon`: several windows of one person on one folder, played with the real
//! binaries against a real relay: a follower and other commands at the same time, the
//! passphrase asked once, a killed daemon leaving nothing locked, and a socket nobody else
//! can use.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use support::follower::Follower;
use support::{Person, TestRelay};

/// The daemon's process id as `parley daemon status --json` reports it, if it runs.
fn daemon_pid(person: &Person) -> Option<u32> {
    let status = person.run(&["--json", "daemon", "status"]).ok();
    let value: serde_json::Value = serde_json::from_str(status.stdout.trim()).unwrap();
    if !value["running"].as_bool().unwrap() {
        return None;
    }
    let text = value["status"].as_str().unwrap();
    Some(
        text.trim_start_matches("running (process ")
            .trim_end_matches(')')
            .parse()
            .unwrap(),
    )
}

fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_follower_and_other_commands_use_one_folder_at_the_same_time() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    alice.run(&["send", "bob", "before"]).ok();

    // The follower starts the daemon itself: the folder is not locked by it.
    let follower = Follower::start(&bob, &[]);
    assert_eq!(
        follower.next(),
        "* alice started a private conversation with you; alice was not one of your contacts before"
    );
    assert_eq!(follower.next(), "alice: before");
    assert!(
        daemon_pid(&bob).is_some(),
        "read --follow started no daemon"
    );

    // Meanwhile, from other windows: every command works, and sees what the others did.
    let sent = bob.run(&["send", "alice", "answer from window two"]).ok();
    assert_eq!(sent.stderr, "Sent to alice.\n");
    let history = bob.run(&["history", "alice"]).ok();
    assert!(history
        .stdout
        .contains("bob [verified]: answer from window two"));
    assert!(bob.run(&["conversations"]).ok().stdout.contains("alice"));
    assert!(bob.run(&["contacts"]).ok().stdout.contains("alice"));
    alice.run(&["send", "bob", "live"]).ok();
    assert_eq!(follower.next(), "alice: live");
    // What the follower showed is not shown again by a read in another window.
    assert_eq!(bob.run(&["read"]).ok().stdout, "");

    // Nothing asks the passphrase: the daemon was unlocked once.
    let no_passphrase = bob
        .command(&["history", "alice", "-n", "1"])
        .env("PARLEY_PASSPHRASE_FILE", bob.path().join("no such file"))
        .output()
        .unwrap();
    assert!(no_passphrase.status.success());
    assert!(String::from_utf8_lossy(&no_passphrase.stdout).contains("alice [unverified]: live"));

    drop(follower);
    bob.run(&["daemon", "stop"]).ok();
    assert_eq!(daemon_pid(&bob), None);
    assert!(!bob.home().join("daemon/socket").exists());
}

#[test]
fn a_killed_daemon_leaves_nothing_locked() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    bob.run(&["daemon", "start"]).ok();
    let pid = daemon_pid(&bob).unwrap();
    alice.run(&["send", "bob", "while the daemon runs"]).ok();
    assert!(bob
        .run(&["read"])
        .ok()
        .stdout
        .contains("alice: while the daemon runs"));

    let killed = std::process::Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    wait_until("the daemon is gone", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });

    // Its socket is left behind, but nobody listens: commands open the folder themselves.
    assert_eq!(daemon_pid(&bob), None);
    alice.run(&["send", "bob", "after the kill"]).ok();
    assert_eq!(bob.run(&["read"]).ok().stdout, "alice: after the kill\n");
    bob.run(&["send", "alice", "still here"]).ok();
    // And a new daemon starts over the stale socket.
    bob.run(&["daemon", "start"]).ok();
    assert!(daemon_pid(&bob).is_some());
    bob.run(&["daemon", "stop"]).ok();
}

#[test]
fn the_daemon_is_only_for_its_owner_and_keeps_the_passphrase_rules() {
    let relay = TestRelay::plaintext();
    let bob = Person::new();
    bob.init(&relay, "bob");
    // A wrong passphrase starts nothing.
    let wrong = bob.file("wrong", "not the passphrase");
    bob.command(&["daemon", "start"])
        .env("PARLEY_PASSPHRASE_FILE", &wrong)
        .output()
        .map(support::Run::from_output)
        .unwrap()
        .fails_with(1);
    assert_eq!(daemon_pid(&bob), None);

    bob.run(&["daemon", "start"]).ok();
    let dir = bob.home().join("daemon");
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("socket")), 0o600);
    assert_eq!(mode(&dir.join("daemon.log")), 0o600);

    // Changing the passphrase through the daemon still needs the current one.
    let new = bob.file("new", "a new passphrase for bob");
    let refused = support::Run::from_output(
        bob.command(&["passphrase", "change"])
            .env("PARLEY_PASSPHRASE_FILE", &wrong)
            .env("PARLEY_NEW_PASSPHRASE_FILE", &new)
            .output()
            .unwrap(),
    )
    .fails_with(1);
    assert!(
        refused.stderr.contains("passphrase is wrong"),
        "{}",
        refused.stderr
    );
    let changed = support::Run::from_output(
        bob.command(&["passphrase", "change"])
            .env("PARLEY_NEW_PASSPHRASE_FILE", &new)
            .output()
            .unwrap(),
    )
    .ok();
    assert!(
        changed.stderr.contains("Passphrase changed."),
        "{}",
        changed.stderr
    );
    bob.run(&["daemon", "stop"]).ok();
    // Without the daemon, the new passphrase is the one that opens the folder.
    support::Run::from_output(
        bob.command(&["whoami"])
            .env("PARLEY_PASSPHRASE_FILE", &new)
            .output()
            .unwrap(),
    )
    .ok();
    bob.run(&["whoami"]).fails_with(1);

    // The log names no one and quotes nothing.
    let log = std::fs::read_to_string(dir.join("daemon.log")).unwrap();
    assert!(!log.contains("bob"), "{log}");
    assert!(!log.contains('\u{1b}'), "colour codes in the log: {log}");
}

#[test]
fn an_idle_daemon_stops_by_itself_and_one_whose_folder_is_gone_too() {
    let relay = TestRelay::plaintext();
    let bob = Person::new();
    bob.init(&relay, "bob");
    bob.run(&["daemon", "start", "--idle-timeout", "1s"]).ok();
    assert!(daemon_pid(&bob).is_some());
    wait_until("the idle daemon stops", || {
        !bob.home().join("daemon/socket").exists()
    });
    assert_eq!(daemon_pid(&bob), None);

    bob.run(&["daemon", "start"]).ok();
    let pid = daemon_pid(&bob).unwrap();
    std::fs::remove_file(bob.home().join("daemon/socket")).unwrap();
    wait_until("the daemon whose socket is gone stops", || {
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
    });

    let bad = bob
        .run(&["daemon", "start", "--idle-timeout", "soon"])
        .fails_with(2);
    assert!(
        bad.stderr.contains("'soon' is not a duration"),
        "{}",
        bad.stderr
    );
}

/// What the shell is offered for the word after `parley <words...>`, options left out.
fn completions(person: &Person, words: &[&str]) -> Vec<String> {
    let mut args = vec!["--", "parley"];
    args.extend_from_slice(words);
    args.push("");
    let output = person
        .command(&args)
        .env("COMPLETE", "bash")
        .env("_CLAP_COMPLETE_INDEX", (words.len() + 1).to_string())
        .output()
        .unwrap();
    assert!(output.status.success());
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn handles_and_conversation_names_complete_while_the_daemon_runs() {
    let relay = TestRelay::plaintext();
    let (alice, bob, carol) = (Person::new(), Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    carol.init(&relay, "carol");
    alice.run(&["send", "bob", "hello"]).ok();
    alice
        .run(&["group", "create", "peace-talks", "--members", "bob,carol"])
        .ok();

    // Locked folder, no daemon: commands complete, names do not (and nothing is asked).
    assert!(completions(&alice, &["send"]).is_empty());
    assert!(completions(&alice, &[]).contains(&"send".to_owned()));

    alice.run(&["daemon", "start"]).ok();
    let to = completions(&alice, &["send"]);
    for name in ["bob", "carol", "peace-talks"] {
        assert!(to.contains(&name.to_owned()), "send offers {to:?}");
    }
    let people = completions(&alice, &["verify"]);
    assert!(people.contains(&"bob".to_owned()), "{people:?}");
    assert!(!people.contains(&"peace-talks".to_owned()), "{people:?}");
    let members = completions(&alice, &["group", "members"]);
    assert!(members.contains(&"peace-talks".to_owned()), "{members:?}");
    // Another folder's daemon is not asked about this one.
    assert!(completions(&bob, &["send"]).is_empty());
    alice.run(&["daemon", "stop"]).ok();
}

#[test]
fn keys_rotate_through_the_daemon_and_a_follower_reads_on_across_the_other_side_s_rotation() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    alice.run(&["send", "bob", "before"]).ok();
    let follower = Follower::start(&bob, &[]);
    while follower.next() != "alice: before" {}

    // alice rotates with no daemon of hers; bob's follower reads her on, and bob's other
    // window is told it was a rotation (alerts go to the follower's stderr, not shown here).
    let rotated = alice.run(&["rotate-keys"]).ok().stdout;
    assert!(
        rotated.contains("Conversations moved to the new key: 1"),
        "{rotated}"
    );
    alice.run(&["send", "bob", "after rotation"]).ok();
    while follower.next() != "alice: after rotation" {}
    let alerts = bob.run(&["alerts"]).ok().stdout;
    assert!(alerts.contains("alice rotated their keys"), "{alerts}");
    assert!(!alerts.contains("has changed"), "{alerts}");

    // bob rotates from another window, through the daemon his follower started.
    assert!(daemon_pid(&bob).is_some());
    let rotated = bob.run(&["--json", "rotate-keys"]).ok().stdout;
    let report: serde_json::Value = serde_json::from_str(rotated.trim()).unwrap();
    assert_eq!(report["conversations_moved"], 1, "{rotated}");
    let whoami = bob.run(&["--json", "whoami"]).ok().stdout;
    let whoami: serde_json::Value = serde_json::from_str(whoami.trim()).unwrap();
    assert_eq!(whoami["identity_key"], report["new_identity_key"]);
    bob.run(&["send", "alice", "mine too"]).ok();
    assert!(alice.run(&["read"]).ok().stdout.contains("bob: mine too"));
    let alerts = alice.run(&["alerts"]).ok().stdout;
    assert!(alerts.contains("bob rotated their keys"), "{alerts}");
    assert!(!alerts.contains("has changed"), "{alerts}");

    drop(follower);
    bob.run(&["daemon", "stop"]).ok();
}
