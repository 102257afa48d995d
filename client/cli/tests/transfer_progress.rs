//! The progress of `send-file` and `get-file` with the real binary and a real relay: a bar
//! on stderr (percentage, bytes done of the whole, rate, time left) when stderr is a
//! terminal, here one of tmux, alone and through the daemon; and not one byte of it when
//! stderr is a pipe, as scripts read it.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::tmux::{quoted, tmux_installed, Tmux, TIMEOUT};
use support::{Person, Run, TestRelay};
use tempfile::TempDir;

/// Several MiB that are not all alike: enough chunks (64 KiB each) for the bar to be drawn
/// on its way, not only at its start and end.
const SIZE: usize = 6 * 1024 * 1024;

fn content(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 251) as u8).collect()
}

/// Alice and bob on one relay, a 1:1 between them, and a big file of alice's.
fn scene(relay: &TestRelay) -> (Person, Person, PathBuf, Vec<u8>) {
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(relay, "alice");
    bob.init(relay, "bob");
    alice.run(&["send", "bob", "the report follows"]).ok();
    bob.run(&["read"]).ok();
    let data = content(SIZE);
    let path = alice.path().join("report.bin");
    std::fs::write(&path, &data).unwrap();
    (alice, bob, path, data)
}

/// The id of the only document bob has.
fn only_document(bob: &Person) -> String {
    let listed = bob.run(&["--json", "files"]).ok().stdout;
    let value: serde_json::Value = serde_json::from_str(listed.trim()).unwrap();
    value["id"].as_str().unwrap().to_owned()
}

/// One run of `parley ARGS` as `person`, in `dir`, on a terminal of tmux: what it wrote
/// there (escape sequences and lines rewritten in place included), the screen it left, and
/// its exit code.
struct OnTerminal {
    written: String,
    screen: String,
    code: String,
}

fn on_terminal(person: &Person, dir: &Path, args: &[&str]) -> OnTerminal {
    let tmux = Tmux::new();
    let scratch = TempDir::new().unwrap();
    let (go, ended, log) = (
        scratch.path().join("go"),
        scratch.path().join("ended"),
        scratch.path().join("log"),
    );
    let args: Vec<String> = args.iter().map(|a| quoted(a)).collect();
    // The command waits until the terminal is recorded, so that nothing it writes is missed.
    let script = format!(
        "while [ ! -e {go} ]; do sleep 0.05; done; cd {dir} && \
         PARLEY_HOME={home} PARLEY_PASSPHRASE_FILE={pass} {bin} {args}; \
         echo \"exit=$?\" > {ended}; sleep 600",
        go = quoted(&go.display().to_string()),
        dir = quoted(&dir.display().to_string()),
        home = quoted(&person.home().display().to_string()),
        pass = quoted(&person.passphrase_file().display().to_string()),
        bin = quoted(env!("CARGO_BIN_EXE_parley")),
        args = args.join(" "),
        ended = quoted(&ended.display().to_string()),
    );
    tmux.start(120, 30, &script);
    tmux.record(&log);
    std::fs::write(&go, b"").unwrap();
    let deadline = Instant::now() + TIMEOUT;
    let code = loop {
        if let Ok(text) = std::fs::read_to_string(&ended) {
            if text.ends_with('\n') {
                break text.trim().to_owned();
            }
        }
        if Instant::now() > deadline {
            panic!("parley did not end; the screen shows:\n{}", tmux.screen());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // What the recorder still holds is written as soon as it can read it.
    std::thread::sleep(Duration::from_millis(300));
    OnTerminal {
        written: String::from_utf8_lossy(&std::fs::read(&log).unwrap()).into_owned(),
        screen: tmux.screen(),
        code,
    }
}

/// The percentages the bar showed, in order.
fn percentages(written: &str) -> Vec<u32> {
    written
        .match_indices('%')
        .filter_map(|(at, _)| {
            let before = &written[..at];
            let start = before.trim_end_matches(|c: char| c.is_ascii_digit()).len();
            before[start..].parse().ok()
        })
        .collect()
}

/// Asserts that a bar led by `label` was drawn with bytes, rate and time left, went from
/// 0% on its way to 100% or near, and was cleared: the screen keeps only `result`.
#[track_caller]
fn assert_bar(run: &OnTerminal, label: &str, result: &str) {
    let written = &run.written;
    assert_eq!(run.code, "exit=0", "{written}");
    assert!(written.contains(&format!("{label} [")), "{written:?}");
    assert!(
        written.contains("/6.29 MB"),
        "bytes of the whole: {written:?}"
    );
    assert!(
        written.contains("/s ETA "),
        "rate and time left: {written:?}"
    );
    let shown = percentages(written);
    assert_eq!(shown.first(), Some(&0), "{written:?}");
    assert!(
        shown.iter().any(|p| *p > 0 && *p < 100),
        "no step between start and end: {shown:?}"
    );
    assert!(shown.windows(2).all(|w| w[0] <= w[1]), "{shown:?}");
    let screen = &run.screen;
    assert!(screen.contains(result), "{screen}");
    assert!(
        !screen.contains("ETA"),
        "the bar was left behind:\n{screen}"
    );
}

#[test]
fn a_terminal_sees_a_bar_for_each_transfer_alone_and_through_the_daemon() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so a terminal cannot be tested here");
        return;
    }
    let relay = TestRelay::plaintext();
    let (alice, bob, path, data) = scene(&relay);
    let here = TempDir::new().unwrap();

    // Alone: the library runs in the command.
    let sent = on_terminal(
        &alice,
        here.path(),
        &["send-file", "bob", path.to_str().unwrap()],
    );
    assert_bar(
        &sent,
        "Sending report.bin",
        "Sent report.bin (6.3 MB) to bob.",
    );
    bob.run(&["read"]).ok();
    let id = only_document(&bob);
    let fetched = on_terminal(&bob, here.path(), &["get-file", &id[..8]]);
    let saved = here.path().join("report.bin");
    assert_bar(
        &fetched,
        "Fetching report.bin",
        &format!("Saved report.bin (6.3 MB) to {}.", saved.display()),
    );
    assert_eq!(std::fs::read(&saved).unwrap(), data);

    // Through the daemon: it reports progress as it goes, and the bar moves the same way.
    alice.run(&["daemon", "start"]).ok();
    bob.run(&["daemon", "start"]).ok();
    let sent = on_terminal(
        &alice,
        here.path(),
        &[
            "send-file",
            "bob",
            path.to_str().unwrap(),
            "--name",
            "again.bin",
        ],
    );
    assert_bar(
        &sent,
        "Sending again.bin",
        "Sent again.bin (6.3 MB) to bob.",
    );
    bob.run(&["read"]).ok();
    let listed = bob.run(&["files"]).ok().stdout;
    let again = listed
        .lines()
        .find(|line| line.contains("again.bin"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let fetched = on_terminal(&bob, here.path(), &["get-file", &again]);
    let saved = here.path().join("again.bin");
    assert_bar(
        &fetched,
        "Fetching again.bin",
        &format!("Saved again.bin (6.3 MB) to {}.", saved.display()),
    );
    assert_eq!(std::fs::read(&saved).unwrap(), data);

    // --quiet: no bar either, and no result line.
    let quiet = on_terminal(
        &alice,
        here.path(),
        &["--quiet", "send-file", "bob", path.to_str().unwrap()],
    );
    assert_eq!(quiet.code, "exit=0");
    assert!(!quiet.written.contains("Sending"), "{:?}", quiet.written);
    assert!(!quiet.written.contains('%'), "{:?}", quiet.written);

    alice.run(&["daemon", "stop"]).ok();
    bob.run(&["daemon", "stop"]).ok();
}

/// `parley ARGS` as `person` in `dir`, stderr and stdout piped.
fn piped(person: &Person, dir: &Path, args: &[&str]) -> Run {
    Run::from_output(person.command(args).current_dir(dir).output().unwrap())
}

#[test]
fn a_pipe_gets_only_the_documented_lines() {
    let relay = TestRelay::plaintext();
    let (alice, bob, path, data) = scene(&relay);
    let here = TempDir::new().unwrap();
    let path = path.to_str().unwrap();

    let sent = piped(&alice, here.path(), &["send-file", "bob", path]).ok();
    assert_eq!(sent.stdout, "");
    assert_eq!(sent.stderr, "Sent report.bin (6.3 MB) to bob.\n");
    bob.run(&["read"]).ok();
    let id = only_document(&bob);
    let fetched = piped(&bob, here.path(), &["get-file", &id]).ok();
    let saved = here.path().join("report.bin");
    assert_eq!(fetched.stdout, "");
    assert_eq!(
        fetched.stderr,
        format!("Saved report.bin (6.3 MB) to {}.\n", saved.display())
    );
    assert_eq!(std::fs::read(&saved).unwrap(), data);

    // The same through the daemons; --json adds its one line on stdout, nothing else.
    alice.run(&["daemon", "start"]).ok();
    bob.run(&["daemon", "start"]).ok();
    let sent = piped(
        &alice,
        here.path(),
        &["send-file", "bob", path, "--name", "again.bin"],
    )
    .ok();
    assert_eq!(sent.stdout, "");
    assert_eq!(sent.stderr, "Sent again.bin (6.3 MB) to bob.\n");
    bob.run(&["read"]).ok();
    let ids: Vec<String> = bob
        .run(&["--json", "files"])
        .ok()
        .stdout
        .lines()
        .map(|line| {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            value["id"].as_str().unwrap().to_owned()
        })
        .collect();
    let out = here.path().join("copy.bin");
    let fetched = piped(
        &bob,
        here.path(),
        &[
            "--json",
            "get-file",
            &ids[1],
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .ok();
    assert_eq!(fetched.stdout.lines().count(), 1, "{}", fetched.stdout);
    let answer: serde_json::Value = serde_json::from_str(fetched.stdout.trim()).unwrap();
    assert_eq!(answer["name"], "again.bin");
    assert_eq!(
        fetched.stderr,
        format!("Saved again.bin (6.3 MB) to {}.\n", out.display())
    );
    assert_eq!(std::fs::read(&out).unwrap(), data);

    alice.run(&["daemon", "stop"]).ok();
    bob.run(&["daemon", "stop"]).ok();
}
