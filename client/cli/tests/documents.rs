//! Documents with the real binary and a real relay: `send-file` to a group, the one-line
//! form in `read`, `files` and `files --json`, and `get-file` saving identical bytes, never
//! replacing a file without --force, never writing outside the folder chosen whatever name
//! the sender gave, and leaving nothing behind when it fails; alone and through the daemon.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};

use support::{names_in, Person, Run, TestRelay};
use tempfile::TempDir;

/// A few hundred KB that are not all alike.
fn content(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

/// Writes `bytes` to `dir/name` and returns its path as a string.
fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `parley ARGS` as `person`, run in the folder `dir`.
fn run_in(person: &Person, dir: &Path, args: &[&str]) -> Run {
    Run::from_output(person.command(args).current_dir(dir).output().unwrap())
}

/// The `files --json` objects of `person`.
fn files_json(person: &Person) -> Vec<serde_json::Value> {
    person
        .run(&["files", "--json"])
        .ok()
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Alice and bob on one relay, in alice's group summit (bob has read the invitation).
fn summit(relay: &TestRelay) -> (Person, Person) {
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(relay, "alice");
    bob.init(relay, "bob");
    alice
        .run(&["group", "create", "summit", "--members", "bob"])
        .ok();
    bob.run(&["read"]).ok();
    (alice, bob)
}

#[test]
fn a_document_sent_to_a_group_is_listed_and_saved_whole() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = summit(&relay);
    let data = content(300_000);
    let source = TempDir::new().unwrap();
    let path = write(source.path(), "budget.pdf", &data);

    let sent = alice.run(&["send-file", "summit", &path]).ok();
    assert_eq!(sent.stderr, "Sent budget.pdf (300.0 KB) to summit.\n");
    assert_eq!(sent.stdout, "");

    // One line in read, with the first 8 characters of the id.
    let read = bob.run(&["read"]).ok().stdout;
    let line = read.lines().next().unwrap();
    let short = line
        .strip_prefix("alice: [document] budget.pdf (300.0 KB) id ")
        .unwrap_or_else(|| panic!("{read}"));
    assert!(
        short.len() == 8 && short.bytes().all(|b| b.is_ascii_hexdigit()),
        "{read}"
    );
    assert_eq!(read.lines().count(), 1, "{read}");
    let history = bob.run(&["history", "alice/summit"]).ok().stdout;
    assert!(
        history.contains(&format!(
            "alice [unverified]: [document] budget.pdf (300.0 KB) id {short}"
        )),
        "{history}"
    );

    // files, in words and as JSON.
    let files = bob.run(&["files"]).ok().stdout;
    let fields: Vec<&str> = files.trim_end().split("  ").collect();
    assert_eq!(
        fields[..5],
        [short, "budget.pdf", "300.0 KB", "alice", "alice/summit"],
        "{files}"
    );
    assert_eq!(fields[5].len(), "2026-12-04 10:31".len(), "{files}");
    assert_eq!(files.lines().count(), 1, "{files}");
    assert_eq!(bob.run(&["files", "alice/summit"]).ok().stdout, files);
    let listed = files_json(&bob);
    assert_eq!(listed.len(), 1, "{listed:?}");
    let document = &listed[0];
    let id = document["id"].as_str().unwrap();
    assert!(id.len() == 64 && id.starts_with(short), "{document}");
    assert_eq!(document["name"], "budget.pdf");
    assert_eq!(document["size"], 300_000);
    assert_eq!(document["media_type"], "application/pdf");
    assert_eq!(document["sender"], "alice");
    assert_eq!(document["conversation"], "alice/summit");
    assert!(document["sent_at"].as_u64().unwrap() > 1_600_000_000_000);
    // The sender lists it too.
    assert_eq!(files_json(&alice)[0]["id"], id);

    // Saved by its first 8 characters, in the current folder, byte for byte.
    let downloads = TempDir::new().unwrap();
    let saved = run_in(&bob, downloads.path(), &["get-file", short]).ok();
    let target = downloads.path().join("budget.pdf");
    assert_eq!(
        saved.stderr,
        format!("Saved budget.pdf (300.0 KB) to {}.\n", target.display())
    );
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(names_in(downloads.path()), ["budget.pdf"]);

    // Not replaced without --force; replaced with it.
    std::fs::write(&target, b"mine").unwrap();
    let refused = run_in(&bob, downloads.path(), &["get-file", short]).fails_with(1);
    assert_eq!(
        refused.error_line(),
        format!(
            "error: {} exists already; nothing was saved",
            target.display()
        )
    );
    assert!(refused.stderr.contains("--force"), "{}", refused.stderr);
    assert_eq!(std::fs::read(&target).unwrap(), b"mine");
    run_in(&bob, downloads.path(), &["get-file", short, "--force"]).ok();
    assert_eq!(std::fs::read(&target).unwrap(), data);
    assert_eq!(names_in(downloads.path()), ["budget.pdf"]);

    // --out: a file name, or a folder to save it in; the whole id works too.
    let copy = downloads.path().join("copy.pdf");
    bob.run(&["get-file", id, "--out", copy.to_str().unwrap()])
        .ok();
    assert_eq!(std::fs::read(&copy).unwrap(), data);
    let elsewhere = TempDir::new().unwrap();
    let json = bob
        .run(&[
            "--json",
            "get-file",
            &short.to_uppercase(),
            "--out",
            elsewhere.path().to_str().unwrap(),
        ])
        .ok();
    let answer: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    let into = elsewhere.path().join("budget.pdf");
    assert_eq!(answer["path"], into.to_str().unwrap());
    assert_eq!(answer["id"], id);
    assert_eq!(std::fs::read(&into).unwrap(), data);
}

#[test]
fn a_senders_name_never_leads_outside_the_folder() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = summit(&relay);
    let source = TempDir::new().unwrap();
    let path = write(source.path(), "payload.bin", b"not what it claims");
    let sent = alice
        .run(&["send-file", "summit", &path, "--name", "../../evil.txt"])
        .ok();
    assert_eq!(sent.stderr, "Sent ../../evil.txt (18 B) to summit.\n");
    let read = bob.run(&["read"]).ok().stdout;
    assert!(
        read.starts_with("alice: [document] ../../evil.txt (18 B) id "),
        "{read}"
    );
    let listed = files_json(&bob);
    assert_eq!(listed[0]["name"], "../../evil.txt");
    assert_eq!(listed[0]["media_type"], "application/octet-stream");
    let id = listed[0]["id"].as_str().unwrap();

    // Run two folders deep in a folder of its own: nothing may appear above.
    let base = TempDir::new().unwrap();
    let here: PathBuf = base.path().join("a").join("b");
    std::fs::create_dir_all(&here).unwrap();
    run_in(&bob, &here, &["get-file", &id[..8]]).ok();
    assert_eq!(names_in(&here), ["evil.txt"]);
    assert_eq!(
        std::fs::read(here.join("evil.txt")).unwrap(),
        b"not what it claims"
    );
    assert_eq!(names_in(&base.path().join("a")), ["b"]);
    assert_eq!(names_in(base.path()), ["a"]);
}

#[test]
fn mistakes_are_clear_errors_and_leave_nothing_behind() {
    let mut relay = TestRelay::plaintext();
    let (alice, bob) = summit(&relay);
    let source = TempDir::new().unwrap();

    // What cannot be sent is refused before anything happens.
    let folder = alice
        .run(&["send-file", "summit", source.path().to_str().unwrap()])
        .fails_with(1);
    assert!(
        folder.error_line().ends_with("is a folder, not a file"),
        "{}",
        folder.stderr
    );
    let missing = source.path().join("nope.pdf");
    let missing = alice
        .run(&["send-file", "summit", missing.to_str().unwrap()])
        .fails_with(1);
    assert!(
        missing.error_line().starts_with("error: cannot read ")
            && missing
                .error_line()
                .ends_with("nope.pdf: No such file or directory"),
        "{}",
        missing.stderr
    );
    let path = write(source.path(), "notes.txt", b"ten o'clock");
    alice
        .run(&["send-file", "nobody-here", &path])
        .fails_with(1);
    assert!(files_json(&alice).is_empty());

    // Ids that are not one, or that nobody shared.
    let unknown = bob.run(&["get-file", "0123456789abcdef"]).fails_with(1);
    assert_eq!(
        unknown.error_line(),
        "error: no document with the id '0123456789abcdef' was shared with you"
    );
    assert!(
        unknown.stderr.contains("parley files"),
        "{}",
        unknown.stderr
    );
    let short = bob.run(&["get-file", "0123"]).fails_with(1);
    assert_eq!(short.error_line(), "error: '0123' is not a document id");
    bob.run(&["get-file", "not-hex-at-all"]).fails_with(1);

    // A fetch that fails leaves neither the file nor its temporary file.
    alice.run(&["send-file", "summit", &path]).ok();
    bob.run(&["read"]).ok();
    let id = files_json(&bob)[0]["id"].as_str().unwrap().to_owned();
    relay.blocking_stop();
    let downloads = TempDir::new().unwrap();
    run_in(&bob, downloads.path(), &["get-file", &id]).fails_with(4);
    assert!(names_in(downloads.path()).is_empty());
}

#[test]
fn documents_go_through_the_daemon() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = summit(&relay);
    alice.run(&["daemon", "start"]).ok();
    bob.run(&["daemon", "start"]).ok();
    let data = content(200_000);
    let source = TempDir::new().unwrap();
    write(source.path(), "offer.docx", &data);

    // The command is run elsewhere than the file: the daemon is given its absolute path.
    let sent = run_in(
        &alice,
        source.path(),
        &[
            "send-file",
            "summit",
            "offer.docx",
            "--name",
            "offer v2.docx",
        ],
    )
    .ok();
    assert_eq!(sent.stderr, "Sent offer v2.docx (200.0 KB) to summit.\n");
    let read = bob.run(&["read"]).ok().stdout;
    assert!(
        read.starts_with("alice: [document] offer v2.docx (200.0 KB) id "),
        "{read}"
    );
    let listed = files_json(&bob);
    assert_eq!(
        listed[0]["media_type"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    );
    let id = listed[0]["id"].as_str().unwrap();

    let downloads = TempDir::new().unwrap();
    run_in(&bob, downloads.path(), &["get-file", &id[..8]]).ok();
    assert_eq!(
        std::fs::read(downloads.path().join("offer v2.docx")).unwrap(),
        data
    );
    run_in(&bob, downloads.path(), &["get-file", &id[..8]]).fails_with(1);
    let unknown = bob.run(&["get-file", "0123456789abcdef"]).fails_with(1);
    assert_eq!(
        unknown.error_line(),
        "error: no document with the id '0123456789abcdef' was shared with you"
    );
    assert_eq!(names_in(downloads.path()), ["offer v2.docx"]);

    alice.run(&["daemon", "stop"]).ok();
    bob.run(&["daemon", "stop"]).ok();
}
