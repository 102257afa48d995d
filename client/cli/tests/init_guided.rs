//! `parley init` as a newcomer meets it: interactively in a real terminal (tmux), each
//! answer checked when it is given and asked again when it cannot be used; and unattended,
//! where the two commonest mistakes (http:// for a TLS relay, no fingerprint) are named.
//! Whatever fails leaves no half-made Parley folder behind.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use support::tmux::{tmux_installed, Tmux, TIMEOUT};
use support::{Person, TestRelay};

const GOOD_PASSPHRASE: &str = "orchid tram seventeen lantern";

/// A shell in tmux that runs `parley init` for `home` with no passphrase source but the
/// prompt, records the exit code in `ended`, then stays so the screen can be read.
fn start_init(tmux: &Tmux, home: &Path, ended: &Path) {
    let script = format!(
        "env -u PARLEY_PASSPHRASE_FILE -u PARLEY_HOME {bin} --home '{home}' init; \
         echo \"exit=$?\" > '{ended}'; sleep 600",
        bin = env!("CARGO_BIN_EXE_parley"),
        home = home.display(),
        ended = ended.display(),
    );
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "main",
        "-x",
        "250",
        "-y",
        "60",
        "/bin/sh",
        "-c",
        &script,
    ]);
}

/// Types a line and presses Enter.
fn answer(tmux: &Tmux, text: &str) {
    tmux.type_text(text);
    tmux.press("Enter");
}

/// How many times `needle` is on screen: a question asked again shows once more.
fn count(screen: &str, needle: &str) -> usize {
    screen.matches(needle).count()
}

#[track_caller]
fn wait_for_exit(ended: &Path, tmux: &Tmux) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(ended) {
            if text.ends_with('\n') {
                return text.trim().to_owned();
            }
        }
        assert!(
            Instant::now() < deadline,
            "parley init did not end; the screen shows:\n{}",
            tmux.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Every mistake a newcomer can make, made once: each is explained where it happens and
/// only that answer is asked again; the pasted fingerprint is accepted; registration works.
#[test]
fn a_guided_init_asks_again_only_what_was_wrong() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the interactive init cannot be tested here");
        return;
    }
    let relay = TestRelay::start();
    let fingerprint = relay.fingerprint().expect("a TLS relay");
    let port = relay.port();
    // bob is taken already.
    Person::new().init(&relay, "bob");
    let person = Person::new();
    let ended = person.path().join("ended");
    let tmux = Tmux::new();
    start_init(&tmux, &person.home(), &ended);

    tmux.wait_for("the relay question", |s| s.contains("Relay address"));
    answer(&tmux, "relay.example");
    tmux.wait_for("the bad address explained", |s| {
        s.contains("That address cannot be used") && count(s, "Relay address") == 2
    });
    answer(&tmux, &format!("http://127.0.0.1:{port}"));
    tmux.wait_for("http to a TLS relay explained", |s| {
        s.contains("uses TLS")
            && s.contains(&format!("https://127.0.0.1:{port}"))
            && count(s, "Relay address") == 3
    });
    answer(&tmux, &format!("https://127.0.0.1:{port}"));
    tmux.wait_for("the fingerprint question", |s| s.contains("[paste/yes/no]"));
    // Pasted as operators often print it: upper case, in groups.
    let pasted = fingerprint
        .to_uppercase()
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    answer(&tmux, &pasted);
    tmux.wait_for("the match confirmed and the handle question", |s| {
        s.contains("The fingerprints match.") && s.contains("Your handle")
    });
    answer(&tmux, "Al");
    tmux.wait_for("the bad handle explained", |s| {
        s.contains("That handle cannot be used") && count(s, "Your handle") == 2
    });
    answer(&tmux, "bob");
    tmux.wait_for("the passphrase question", |s| {
        s.contains("Choose a passphrase")
    });
    answer(&tmux, "abc");
    answer(&tmux, "abc");
    tmux.wait_for("a very weak passphrase refused", |s| {
        s.contains("too easy to guess") && count(s, "Choose a passphrase") == 2
    });
    answer(&tmux, GOOD_PASSPHRASE);
    answer(&tmux, &format!("{GOOD_PASSPHRASE}s"));
    tmux.wait_for("the mismatch explained", |s| {
        s.contains("differ") && count(s, "Choose a passphrase") == 3
    });
    answer(&tmux, GOOD_PASSPHRASE);
    answer(&tmux, GOOD_PASSPHRASE);
    tmux.wait_for("the taken handle explained", |s| {
        s.contains("The handle bob is already taken") && count(s, "Your handle") == 3
    });
    answer(&tmux, "alice");
    assert_eq!(wait_for_exit(&ended, &tmux), "exit=0", "{}", tmux.screen());
    let screen = tmux.screen();
    assert!(screen.contains("Registered alice"), "{screen}");
    // Never asked twice for what was right: the passphrase was not asked again after the
    // taken handle, nor the relay after the bad handle.
    assert_eq!(count(&screen, "Choose a passphrase"), 3, "{screen}");
    assert_eq!(count(&screen, "Relay address"), 3, "{screen}");

    // The folder works with that passphrase, pinned to the relay's fingerprint.
    support::private_file(&person.passphrase_file(), GOOD_PASSPHRASE);
    let whoami = person.run(&["--json", "whoami"]).ok().stdout;
    assert!(whoami.contains("\"handle\":\"alice\""), "{whoami}");
    assert!(whoami.contains(&fingerprint), "{whoami}");
}

/// A pasted fingerprint that differs is the man-in-the-middle warning, and nothing is kept.
#[test]
fn a_pasted_fingerprint_that_differs_stops_and_leaves_nothing() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the interactive init cannot be tested here");
        return;
    }
    let relay = TestRelay::start();
    let person = Person::new();
    let ended = person.path().join("ended");
    let tmux = Tmux::new();
    start_init(&tmux, &person.home(), &ended);
    tmux.wait_for("the relay question", |s| s.contains("Relay address"));
    answer(&tmux, &relay.url());
    tmux.wait_for("the fingerprint question", |s| s.contains("[paste/yes/no]"));
    answer(&tmux, &"ab".repeat(32));
    assert_eq!(wait_for_exit(&ended, &tmux), "exit=1");
    let screen = tmux.screen();
    assert!(
        screen.contains("the fingerprint you pasted is not the one this relay presents"),
        "{screen}"
    );
    assert!(screen.contains("someone may be in the middle"), "{screen}");
    assert!(
        !person.home().exists(),
        "a failed init left {:?}",
        person.home()
    );
}

/// Unattended, the mistakes are named with the flags that fix them, exit 2, and leave no
/// folder behind; so does a handle that is taken or a relay that is not there.
#[test]
fn unattended_mistakes_are_named_and_leave_nothing() {
    let relay = TestRelay::start();
    let fingerprint = relay.fingerprint().unwrap();
    let port = relay.port();
    Person::new().init(&relay, "bob");
    let person = Person::new();

    let http = format!("http://127.0.0.1:{port}");
    let run = person.run(&["init", "--relay", &http, "--handle", "alice"]);
    let run = run.fails_with(2);
    assert!(run.stderr.contains("uses TLS"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("--relay https://127.0.0.1:{port} --handle alice")),
        "{}",
        run.stderr
    );
    assert!(!person.home().exists());

    let https = relay.url();
    let run = person
        .run(&["init", "--relay", &https, "--handle", "alice"])
        .fails_with(2);
    assert!(
        run.stderr.contains("no fingerprint was given"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("--relay-fingerprint"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("hint: check the relay address"),
        "{}",
        run.stderr
    );
    assert!(!person.home().exists());

    let taken = person
        .run(&[
            "init",
            "--relay",
            &https,
            "--handle",
            "bob",
            "--relay-fingerprint",
            &fingerprint,
        ])
        .fails_with(1);
    assert!(taken.stderr.contains("--handle"), "{}", taken.stderr);
    assert!(!person.home().exists());

    let run = person
        .run(&[
            "init",
            "--relay",
            &support::dead_relay_url(),
            "--handle",
            "alice",
        ])
        .fails_with(4);
    assert!(
        run.stderr.contains("cannot reach the relay"),
        "{}",
        run.stderr
    );
    assert!(!person.home().exists());

    // A passphrase file holding a very weak passphrase is refused before anything is made.
    let weak = person.file("weak", "abc123\n");
    let run = support::Run::from_output(
        person
            .command(&[
                "init",
                "--relay",
                &https,
                "--handle",
                "alice",
                "--relay-fingerprint",
                &fingerprint,
            ])
            .env("PARLEY_PASSPHRASE_FILE", &weak)
            .output()
            .unwrap(),
    )
    .fails_with(2);
    assert!(run.stderr.contains("too easy to guess"), "{}", run.stderr);
    assert!(!person.home().exists());

    // A folder that already held something keeps it; only what init made goes.
    std::fs::create_dir_all(person.home()).unwrap();
    std::fs::write(person.home().join("notes.txt"), "mine").unwrap();
    person
        .run(&["init", "--relay", &http, "--handle", "alice"])
        .fails_with(2);
    let left: Vec<_> = std::fs::read_dir(person.home())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, ["notes.txt"]);

    // And with everything right, it works.
    person
        .run(&[
            "init",
            "--relay",
            &https,
            "--handle",
            "alice",
            "--relay-fingerprint",
            &fingerprint,
        ])
        .ok();
}
