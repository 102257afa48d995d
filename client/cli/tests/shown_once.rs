//! A shared document, like a text, is one message wherever it is looked at and whichever
//! command fetched it from the relay: alice sends bob texts and documents while bob follows
//! in one window and lists files and writes back in others, then without his follower, then
//! without any daemon; `read` shows each message once and then never again, and `history`,
//! `files` and the chat show each document exactly once. All with the real binaries against
//! a real relay.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::time::Duration;

use support::follower::Follower;
use support::tmux::{quoted, tmux_installed, Tmux};
use support::{Person, TestRelay};
use tempfile::TempDir;

/// Some bytes that are not all alike.
fn content(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

/// Writes `size` bytes to `dir/name`; its path as a string.
fn document(dir: &Path, name: &str, size: usize) -> String {
    let path = dir.join(name);
    std::fs::write(&path, content(size)).unwrap();
    path.to_str().unwrap().to_owned()
}

/// How many of `text`'s lines contain `needle`.
fn count(text: &str, needle: &str) -> usize {
    text.lines().filter(|line| line.contains(needle)).count()
}

/// The lines of `read` now, as bob.
fn read(bob: &Person) -> Vec<String> {
    bob.run(&["read"])
        .ok()
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

/// The documents and texts of the scenario, as `read` shows them: a document's line starts
/// with its name and size, and ends with its short id.
const BUDGET: &str = "alice: [document] budget.pdf (300.0 KB) id ";
const TERMS: &str = "alice: [document] terms.pdf (120.0 KB) id ";
const OFFER: &str = "alice: [document] offer.pdf (80.0 KB) id ";

/// Asserts that `line` is `prefix` and an 8-character id.
#[track_caller]
fn assert_document_line(line: &str, prefix: &str) {
    let id = line
        .strip_prefix(prefix)
        .unwrap_or_else(|| panic!("not {prefix:?}...: {line:?}"));
    assert!(
        id.len() == 8 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{line:?}"
    );
}

#[test]
fn each_message_is_shown_once_whichever_command_fetched_it() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    let files = TempDir::new().unwrap();

    // 1. bob follows in one window (the follower starts his daemon, which receives for every
    // window); alice writes and shares a document; meanwhile bob lists his files and writes
    // back from other windows, through the same daemon, whose send syncs the conversation.
    let follower = Follower::start(&bob, &[]);
    alice.run(&["send", "bob", "here is the budget"]).ok();
    alice
        .run(&[
            "send-file",
            "bob",
            &document(files.path(), "budget.pdf", 300_000),
        ])
        .ok();
    bob.run(&["files"]).ok();
    bob.run(&["send", "alice", "looking at it"]).ok();
    assert_eq!(
        follower.next(),
        "* alice started a private conversation with you; alice was not one of your contacts before"
    );
    assert_eq!(follower.next(), "alice: here is the budget");
    assert_document_line(&follower.next(), BUDGET);
    follower.assert_quiet_for(Duration::from_secs(2));
    // Shown by the follower: not again by `read` in another window.
    assert_eq!(read(&bob), Vec::<String>::new());
    drop(follower);

    // 2. No follower; the daemon still receives. bob lists and writes before he reads:
    // `read` shows what came exactly once, then nothing.
    alice.run(&["send", "bob", "and the terms"]).ok();
    alice
        .run(&[
            "send-file",
            "bob",
            &document(files.path(), "terms.pdf", 120_000),
        ])
        .ok();
    bob.run(&["send", "alice", "thanks"]).ok();
    assert_eq!(count(&bob.run(&["files"]).ok().stdout, "terms.pdf"), 1);
    let shown = read(&bob);
    assert_eq!(shown.len(), 2, "{shown:?}");
    assert_eq!(shown[0], "alice: and the terms");
    assert_document_line(&shown[1], TERMS);
    assert_eq!(read(&bob), Vec::<String>::new());
    bob.run(&["daemon", "stop"]).ok();

    // 3. No daemon at all: bob's `send` opens his folder itself and fetches alice's
    // document on its way; `read` still shows it, once.
    alice
        .run(&[
            "send-file",
            "bob",
            &document(files.path(), "offer.pdf", 80_000),
        ])
        .ok();
    bob.run(&["send", "alice", "anything else?"]).ok();
    assert_eq!(count(&bob.run(&["files"]).ok().stdout, "offer.pdf"), 1);
    let shown = read(&bob);
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_document_line(&shown[0], OFFER);
    assert_eq!(read(&bob), Vec::<String>::new());

    // history and files: each document once, each text once.
    let history = bob.run(&["history", "alice"]).ok().stdout;
    for name in ["budget.pdf", "terms.pdf", "offer.pdf"] {
        assert_eq!(
            count(&history, &format!("[document] {name} (")),
            1,
            "{history}"
        );
    }
    for text in [
        "here is the budget",
        "and the terms",
        "looking at it",
        "thanks",
    ] {
        assert_eq!(count(&history, text), 1, "{history}");
    }
    let listed = bob.run(&["files"]).ok().stdout;
    assert_eq!(listed.lines().count(), 3, "{listed}");
    for name in ["budget.pdf", "terms.pdf", "offer.pdf"] {
        assert_eq!(count(&listed, name), 1, "{listed}");
    }
    // alice's side agrees: her history has each document once too.
    let hers = alice.run(&["history", "bob"]).ok().stdout;
    for name in ["budget.pdf", "terms.pdf", "offer.pdf"] {
        assert_eq!(count(&hers, &format!("[document] {name} (")), 1, "{hers}");
    }

    // 4. The chat shows each document on one line, once; having seen everything already,
    // bob finds nothing new in `read` afterwards.
    if !tmux_installed() {
        eprintln!("SKIPPED the chat part: tmux is not installed");
        return;
    }
    let tmux = Tmux::new();
    let ended = files.path().join("ended");
    let script = format!(
        "PARLEY_HOME={home} PARLEY_PASSPHRASE_FILE={pass} {bin} chat alice; \
         echo \"exit=$?\" > {ended}; sleep 600",
        home = quoted(&bob.home().display().to_string()),
        pass = quoted(&bob.passphrase_file().display().to_string()),
        bin = quoted(env!("CARGO_BIN_EXE_parley")),
        ended = quoted(&ended.display().to_string()),
    );
    tmux.start(120, 40, &script);
    let screen = tmux.wait_for("the conversation with its documents", |s| {
        s.contains("Message to alice") && s.contains("offer.pdf")
    });
    for name in ["budget.pdf", "terms.pdf", "offer.pdf"] {
        let line = format!("alice [unverified]: [document] {name} (");
        assert_eq!(count(&screen, &line), 1, "{screen}");
    }
    assert_eq!(count(&screen, "here is the budget"), 1, "{screen}");
    tmux.press("Escape");
    tmux.wait_for("the chat to end", |_| ended.exists());
    assert_eq!(std::fs::read_to_string(&ended).unwrap().trim(), "exit=0");
    assert_eq!(read(&bob), Vec::<String>::new());
    let history = bob.run(&["history", "alice"]).ok().stdout;
    assert_eq!(count(&history, "[document]"), 3, "{history}");
    bob.run(&["daemon", "stop"]).ok();
}
