//! The `parley` binary end to end: real relays on 127.0.0.1:0, real data folders in temp
//! dirs, the binary run as a person would run it.

// This whole file is test code: the helpers below are called only from #[test] functions,
// and a failed unwrap in them is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Stdio;

use support::{dead_relay_url, lines, parley_command, Person, Run, TestRelay};
use tempfile::TempDir;

/// `parley --home HOME ARGS` with a passphrase file that every home of these tests shares.
fn parley(home: &Path, args: &[&str]) -> Run {
    let output = with_passphrase(parley_command().arg("--home").arg(home).args(args))
        .output()
        .unwrap();
    Run::from_output(output)
}

fn parley_with_stdin(home: &Path, args: &[&str], input: &str) -> Run {
    Run::with_stdin(
        with_passphrase(parley_command().arg("--home").arg(home).args(args)),
        input,
    )
}

fn with_passphrase(command: &mut std::process::Command) -> &mut std::process::Command {
    command.env("PARLEY_PASSPHRASE_FILE", passphrase_file())
}

/// One passphrase file for the whole test binary, written once.
fn passphrase_file() -> PathBuf {
    static FILE: std::sync::OnceLock<TempDir> = std::sync::OnceLock::new();
    let dir = FILE.get_or_init(|| {
        let dir = TempDir::new().unwrap();
        support::private_file(&dir.path().join("passphrase"), "open sesame, slowly\n");
        dir
    });
    dir.path().join("passphrase")
}

fn init(home: &Path, relay: &TestRelay, handle: &str) -> Run {
    parley(home, &["init", "--relay", &relay.url(), "--handle", handle]).ok()
}

#[test]
fn direct_messages_flow_between_two_people() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (TempDir::new().unwrap(), TempDir::new().unwrap());

    let registered = init(alice.path(), &relay, "alice");
    assert!(
        registered
            .stdout
            .contains(&format!("Registered alice on {}.", relay.url())),
        "{}",
        registered.stdout
    );
    assert!(
        registered.stdout.contains("Next: "),
        "{}",
        registered.stdout
    );
    init(bob.path(), &relay, "bob");

    let sent = parley(alice.path(), &["send", "bob", "hello"]).ok();
    assert_eq!(sent.stdout, "");
    assert_eq!(
        parley(bob.path(), &["read"]).ok().stdout,
        "* alice started a private conversation with you; alice was not one of your contacts before\nalice: hello\n"
    );
    assert_eq!(
        parley(bob.path(), &["read"]).ok().stdout,
        "",
        "a message is new only once"
    );

    parley_with_stdin(alice.path(), &["send", "bob", "-"], "offer: 10 000\n").ok();
    parley(alice.path(), &["send", "bob", "second", "line"]).ok();
    assert_eq!(
        parley(bob.path(), &["read", "alice"]).ok().stdout,
        "alice: offer: 10 000\nalice: second line\n"
    );

    parley(bob.path(), &["send", "alice", "agreed"]).ok();
    assert_eq!(parley(alice.path(), &["read"]).ok().stdout, "bob: agreed\n");
}

#[test]
fn whoami_shows_what_init_registered() {
    let relay = TestRelay::plaintext();
    let home = TempDir::new().unwrap();
    let registered = init(home.path(), &relay, "alice");
    let key_line = registered
        .stdout
        .lines()
        .find(|l| l.contains("identity key"))
        .unwrap()
        .to_owned();
    let key = key_line.rsplit(' ').next().unwrap();
    assert!(
        key.len() >= 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "{key_line}"
    );

    let me = parley(home.path(), &["whoami"]).ok().stdout;
    assert!(me.contains("alice"), "{me}");
    assert!(me.contains(&relay.url()), "{me}");
    assert!(me.contains(key), "{me}");
    assert!(me.to_lowercase().contains("fingerprint"), "{me}");
}

#[test]
fn read_with_a_name_prints_only_that_conversation() {
    let relay = TestRelay::plaintext();
    let (alice, bob, carol) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    init(alice.path(), &relay, "alice");
    init(bob.path(), &relay, "bob");
    init(carol.path(), &relay, "carol");

    parley(alice.path(), &["send", "bob", "from alice"]).ok();
    parley(carol.path(), &["send", "bob", "from carol"]).ok();
    assert_eq!(
        parley(bob.path(), &["read", "carol"]).ok().stdout,
        "* carol started a private conversation with you; carol was not one of your contacts \
         before\ncarol: from carol\n"
    );
    // alice's message was fetched and stored by that read, and is shown by the next read,
    // labelled with its conversation since bob has two.
    assert_eq!(
        parley(bob.path(), &["read"]).ok().stdout,
        "[alice] * alice started a private conversation with you; alice was not one of your \
         contacts before\n[alice] alice: from alice\n"
    );
    assert_eq!(parley(bob.path(), &["read"]).ok().stdout, "");
    // And the conversation with alice exists: bob can answer in it.
    parley(bob.path(), &["send", "alice", "got it"]).ok();
    assert_eq!(
        parley(alice.path(), &["read", "bob"]).ok().stdout,
        "bob: got it\n"
    );
}

#[test]
fn groups_can_be_created_grown_and_shrunk() {
    let relay = TestRelay::plaintext();
    let homes: Vec<TempDir> = (0..4).map(|_| TempDir::new().unwrap()).collect();
    let [alice, bob, carol, dave] = [0, 1, 2, 3].map(|i| homes[i].path());
    for (home, handle) in [
        (alice, "alice"),
        (bob, "bob"),
        (carol, "carol"),
        (dave, "dave"),
    ] {
        init(home, &relay, handle);
    }

    parley(
        alice,
        &["group", "create", "buyers", "--members", "bob,carol"],
    )
    .ok();
    let mut members = lines(&parley(alice, &["group", "members", "buyers"]).ok().stdout)
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>();
    members.sort();
    assert_eq!(members, ["alice", "bob", "carol"]);

    parley(alice, &["send", "buyers", "our offer"]).ok();
    // Invited to alice's group, bob and carol know it as alice/buyers.
    assert_eq!(
        parley(bob, &["read", "alice/buyers"]).ok().stdout,
        "* alice added you to alice/buyers (members: alice, you, carol); alice was not one of \
         your contacts before\nalice: our offer\n"
    );
    assert_eq!(
        parley(carol, &["read"]).ok().stdout,
        "* alice added you to alice/buyers (members: alice, bob, you); alice was not one of \
         your contacts before\nalice: our offer\n"
    );

    parley(alice, &["group", "add", "buyers", "dave"]).ok();
    let members = parley(alice, &["group", "members", "buyers"]).ok().stdout;
    assert!(lines(&members).contains(&"dave"), "{members}");

    parley(alice, &["group", "remove", "buyers", "carol"]).ok();
    let members = parley(alice, &["group", "members", "buyers"]).ok().stdout;
    assert!(!lines(&members).contains(&"carol"), "{members}");
    assert!(lines(&members).contains(&"bob"), "{members}");

    parley(alice, &["send", "buyers", "final offer"]).ok();
    let bob_sees = parley(bob, &["read", "alice/buyers"]).ok().stdout;
    assert_eq!(
        bob_sees,
        "* alice added dave to alice/buyers\n* alice removed carol from alice/buyers\nalice: \
         final offer\n"
    );
    assert_eq!(
        parley(dave, &["read", "alice/buyers"]).ok().stdout,
        "* alice added you to alice/buyers (members: alice, bob, carol, you); alice was not one \
         of your contacts before\n* alice removed carol from alice/buyers\nalice: final offer\n"
    );
    let carol_run = parley(carol, &["read", "alice/buyers"]);
    assert!(
        !carol_run.stdout.contains("final offer"),
        "a removed member must not read later messages: {}",
        carol_run.stdout
    );
}

#[test]
fn safety_numbers_match_on_both_sides() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    init(alice.path(), &relay, "alice");
    init(bob.path(), &relay, "bob");

    let seen_by_alice = parley(alice.path(), &["safety-number", "bob"]).ok().stdout;
    let seen_by_bob = parley(bob.path(), &["safety-number", "alice"]).ok().stdout;
    assert_eq!(seen_by_alice, seen_by_bob);
    let groups: Vec<&str> = seen_by_alice.trim_end().split(' ').collect();
    assert_eq!(groups.len(), 12, "{seen_by_alice}");
    assert!(groups
        .iter()
        .all(|g| g.len() == 5 && g.chars().all(|c| c.is_ascii_digit())));
}

#[test]
fn sending_to_an_unknown_handle_is_one_error_line() {
    let relay = TestRelay::plaintext();
    let alice = TempDir::new().unwrap();
    init(alice.path(), &relay, "alice");

    let run = parley(alice.path(), &["send", "nobody-here", "hello"]).fails_with(1);
    assert_eq!(lines(&run.stderr).len(), 1, "{}", run.stderr);
    assert!(run.error_line().contains("nobody-here"), "{}", run.stderr);
}

#[test]
fn a_taken_handle_is_refused_clearly() {
    let relay = TestRelay::plaintext();
    let (first, second) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    init(first.path(), &relay, "alice");

    let run = parley(
        second.path(),
        &["init", "--relay", &relay.url(), "--handle", "alice"],
    )
    .fails_with(1);
    assert!(run.error_line().contains("alice"), "{}", run.stderr);
    assert!(run.error_line().contains("taken"), "{}", run.stderr);
}

#[test]
fn an_unreachable_relay_exits_4() {
    let home = TempDir::new().unwrap();
    let run = parley(
        home.path(),
        &["init", "--relay", &dead_relay_url(), "--handle", "alice"],
    )
    .fails_with(4);
    assert!(run.error_line().contains("reach"), "{}", run.stderr);

    let mut relay = TestRelay::plaintext();
    let alice = TempDir::new().unwrap();
    init(alice.path(), &relay, "alice");
    relay.blocking_stop();
    parley(alice.path(), &["read"]).fails_with(4);
    parley(alice.path(), &["send", "bob", "hello"]).fails_with(4);
}

#[test]
fn mistakes_get_a_clear_answer() {
    let relay = TestRelay::plaintext();
    let empty = TempDir::new().unwrap();
    let run = parley(&empty.path().join("not-there"), &["whoami"]).fails_with(1);
    assert!(run.stderr.contains("init"), "{}", run.stderr);
    assert!(
        !empty.path().join("not-there").exists(),
        "a typo must not create a folder"
    );

    let alice = TempDir::new().unwrap();
    init(alice.path(), &relay, "alice");
    parley(alice.path(), &["send", "bob", ""]).fails_with(1);
    parley_with_stdin(alice.path(), &["send", "bob", "-"], "\n").fails_with(1);
    parley(
        alice.path(),
        &["init", "--relay", &relay.url(), "--handle", "alice2"],
    )
    .fails_with(1);
    parley(
        alice.path(),
        &["init", "--relay", &relay.url(), "--handle", "A!"],
    )
    .fails_with(1);

    let usage = parley(alice.path(), &["send"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}

#[test]
fn help_explains_every_command_and_the_exit_codes() {
    let run = Run::from_output(parley_command().arg("--help").output().unwrap()).ok();
    for command in [
        "init",
        "whoami",
        "send",
        "read",
        "history",
        "send-file",
        "files",
        "get-file",
        "contacts",
        "conversations",
        "group",
        "safety-number",
        "passphrase",
        "completions",
        "man",
    ] {
        assert!(run.stdout.contains(command), "--help misses {command}");
    }
    assert!(run.stdout.contains("Exit codes"), "{}", run.stdout);
    for code in ["0 ", "1 ", "2 ", "3 ", "4 "] {
        assert!(
            run.stdout.contains(&format!("  {code}")),
            "--help misses exit code {code}"
        );
    }
    assert!(run.stdout.contains("$HOME/.parley"), "{}", run.stdout);
    assert!(run.stdout.contains("PARLEY_HOME"), "{}", run.stdout);
    for needed in [
        "PARLEY_PASSPHRASE_FILE",
        "--passphrase-command",
        "--json",
        "sent_at",
    ] {
        assert!(run.stdout.contains(needed), "--help misses {needed}");
    }

    for sub in [&["send", "--help"][..], &["group", "create", "--help"][..]] {
        let run = Run::from_output(parley_command().args(sub).output().unwrap()).ok();
        assert!(run.stdout.contains("Example"), "{}", run.stdout);
    }
}

#[test]
fn home_defaults_to_dot_parley_and_follows_parley_home() {
    let relay = TestRelay::plaintext();
    let user_home = TempDir::new().unwrap();
    let run = Run::from_output(
        with_passphrase(&mut parley_command())
            .env("HOME", user_home.path())
            .args(["init", "--relay", &relay.url(), "--handle", "alice"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run.stdout.contains("Registered alice"), "{}", run.stdout);
    assert!(user_home.path().join(".parley").is_dir());
    let me = Run::from_output(
        with_passphrase(&mut parley_command())
            .env("HOME", user_home.path())
            .arg("whoami")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(me.stdout.contains("alice"), "{}", me.stdout);

    let elsewhere = TempDir::new().unwrap();
    Run::from_output(
        with_passphrase(&mut parley_command())
            .env("HOME", user_home.path())
            .env("PARLEY_HOME", elsewhere.path())
            .args(["init", "--relay", &relay.url(), "--handle", "bob"])
            .output()
            .unwrap(),
    )
    .ok();
    let me = parley(elsewhere.path(), &["whoami"]).ok();
    assert!(me.stdout.contains("bob"), "{}", me.stdout);
}

#[test]
fn a_pinned_tls_relay_works_and_a_wrong_pin_is_refused() {
    let relay = TestRelay::start();
    let fingerprint = relay.fingerprint().unwrap();
    let (alice, bob) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    for (home, handle) in [(alice.path(), "alice"), (bob.path(), "bob")] {
        parley(
            home,
            &[
                "init",
                "--relay",
                &relay.url(),
                "--handle",
                handle,
                "--relay-fingerprint",
                &fingerprint,
            ],
        )
        .ok();
    }
    let me = parley(alice.path(), &["whoami"]).ok().stdout;
    assert!(me.contains(&fingerprint), "{me}");

    parley(alice.path(), &["send", "bob", "over tls"]).ok();
    assert_eq!(
        parley(bob.path(), &["read"]).ok().stdout,
        "* alice started a private conversation with you; alice was not one of your contacts before\nalice: over tls\n"
    );

    let wrong: String = fingerprint
        .chars()
        .map(|c| if c == '0' { '1' } else { '0' })
        .collect();
    let mallory = TempDir::new().unwrap();
    let run = parley(
        mallory.path(),
        &[
            "init",
            "--relay",
            &relay.url(),
            "--handle",
            "mallory",
            "--relay-fingerprint",
            &wrong,
        ],
    );
    assert_ne!(run.code, 0, "a wrong pin must be refused");
    assert!(run.error_line().starts_with("error: "), "{}", run.stderr);
}

/// Every file under `dir` with its bytes, to prove a failed command wrote nothing.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let bytes = std::fs::read(&path).unwrap();
                files.push((path, bytes));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_passphrase_comes_from_a_file_a_command_or_nowhere() {
    let relay = TestRelay::plaintext();
    let alice = Person::new();
    alice.init(&relay, "alice");

    // A command (a password manager) instead of the file.
    let by_command = Run::from_output(
        parley_command()
            .env("PARLEY_HOME", alice.home())
            .args([
                "--passphrase-command",
                "printf 'correct horse battery staple\\n'",
                "whoami",
            ])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(by_command.stdout.contains("alice"), "{}", by_command.stdout);

    // No file, no command, no terminal: one error naming both ways to give it.
    let nowhere = Run::from_output(
        parley_command()
            .env("PARLEY_HOME", alice.home())
            .arg("whoami")
            .output()
            .unwrap(),
    )
    .fails_with(1);
    assert!(
        nowhere.stderr.contains("PARLEY_PASSPHRASE_FILE"),
        "{}",
        nowhere.stderr
    );
    assert!(
        nowhere.stderr.contains("--passphrase-command"),
        "{}",
        nowhere.stderr
    );

    // Never a flag value.
    let flag = alice.run(&["--passphrase", "correct horse battery staple", "whoami"]);
    assert_eq!(flag.code, 2, "{}", flag.stderr);

    // A failing command is not taken as an empty passphrase.
    let failing = Run::from_output(
        parley_command()
            .env("PARLEY_HOME", alice.home())
            .args(["--passphrase-command", "exit 7", "whoami"])
            .output()
            .unwrap(),
    )
    .fails_with(1);
    assert!(
        failing.error_line().contains("--passphrase-command"),
        "{}",
        failing.stderr
    );
}

#[test]
fn a_wrong_passphrase_is_one_line_and_changes_nothing() {
    let relay = TestRelay::plaintext();
    let alice = Person::new();
    alice.init(&relay, "alice");
    let before = snapshot(&alice.home());

    let wrong = alice.file("wrong", "correct horse battery stapler\n");
    for args in [&["whoami"][..], &["send", "bob", "hi"], &["read"]] {
        let run = Run::from_output(
            alice
                .command(args)
                .env("PARLEY_PASSPHRASE_FILE", &wrong)
                .output()
                .unwrap(),
        )
        .fails_with(1);
        assert_eq!(lines(&run.stderr).len(), 1, "{}", run.stderr);
        assert!(
            run.error_line().contains("passphrase is wrong"),
            "{}",
            run.stderr
        );
    }
    assert!(
        snapshot(&alice.home()) == before,
        "a wrong passphrase must not modify the Parley folder"
    );
    alice.run(&["whoami"]).ok();
}

#[test]
fn the_passphrase_can_be_changed() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    alice.run(&["send", "bob", "before the change"]).ok();

    let new = alice.file("new", "a much longer passphrase\n");
    Run::from_output(
        alice
            .command(&["passphrase", "change"])
            .env("PARLEY_NEW_PASSPHRASE_FILE", &new)
            .output()
            .unwrap(),
    )
    .ok();
    let old = alice.run(&["whoami"]).fails_with(1);
    assert!(
        old.error_line().contains("passphrase is wrong"),
        "{}",
        old.stderr
    );

    let with_new = |args: &[&str]| {
        Run::from_output(
            alice
                .command(args)
                .env("PARLEY_PASSPHRASE_FILE", &new)
                .output()
                .unwrap(),
        )
    };
    let history = with_new(&["history", "bob"]).ok();
    assert!(
        history.stdout.contains("before the change"),
        "{}",
        history.stdout
    );

    // And back, the new one given by a command this time.
    Run::from_output(
        alice
            .command(&[
                "passphrase",
                "change",
                "--new-passphrase-command",
                "echo 'correct horse battery staple'",
            ])
            .env("PARLEY_PASSPHRASE_FILE", &new)
            .output()
            .unwrap(),
    )
    .ok();
    alice.run(&["send", "bob", "after the change"]).ok();
    assert_eq!(
        bob.run(&["read"]).ok().stdout,
        "* alice started a private conversation with you; alice was not one of your contacts before\nalice: before the change\nalice: after the change\n"
    );
}

#[test]
fn read_follow_prints_messages_as_they_arrive_until_ctrl_c() {
    use std::io::{BufRead, BufReader};
    use std::sync::mpsc;
    use std::time::Duration;

    let relay = TestRelay::plaintext();
    let (alice, bob) = (Person::new(), Person::new());
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    alice.run(&["send", "bob", "already there"]).ok();

    let mut follower = bob
        .command(&["read", "--follow"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
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
    let next = || rx.recv_timeout(Duration::from_secs(30)).unwrap();
    assert_eq!(next(), "* alice started a private conversation with you; alice was not one of your contacts before");
    assert_eq!(next(), "alice: already there");
    alice.run(&["send", "bob", "live one"]).ok();
    assert_eq!(next(), "alice: live one");
    alice.run(&["send", "bob", "live two"]).ok();
    assert_eq!(next(), "alice: live two");

    let interrupted = std::process::Command::new("kill")
        .args(["-INT", &follower.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let status = follower.wait().unwrap();
    assert_eq!(status.code(), Some(0), "Ctrl-C ends --follow normally");
}

#[test]
fn first_run_asks_and_confirms_the_relay_fingerprint() {
    let relay = TestRelay::start();
    let fingerprint = relay.fingerprint().unwrap();
    let alice = Person::new();
    // `script` gives parley a real terminal, as a person has; the answers are typed into it:
    // relay address, "y" to the fingerprint, handle, then the passphrase twice.
    let answers = format!(
        "{}\ny\nalice\nfirst run passphrase\nfirst run passphrase\n",
        relay.url()
    );
    let command = format!(
        "PARLEY_HOME='{}' '{}' init",
        alice.home().display(),
        env!("CARGO_BIN_EXE_parley")
    );
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("PARLEY_PASSPHRASE_FILE")
        .env_remove("PARLEY_HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // One answer at a time, so each prompt reads its own line from the terminal.
        for answer in answers.split_inclusive('\n') {
            std::thread::sleep(std::time::Duration::from_millis(300));
            stdin.write_all(answer.as_bytes()).unwrap();
            stdin.flush().unwrap();
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    let run = Run::from_output(child.wait_with_output().unwrap());
    let grouped: String = fingerprint
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect::<Vec<_>>()
        .join(" ");
    assert!(
        run.stdout.contains(&grouped),
        "fingerprint not shown:\n{}",
        run.stdout
    );
    assert!(run.stdout.contains("Registered alice"), "{}", run.stdout);
    assert!(run.stdout.contains("Next: "), "{}", run.stdout);
    assert!(
        !run.stdout.contains("first run passphrase"),
        "the passphrase must not be echoed:\n{}",
        run.stdout
    );

    // The confirmed fingerprint is pinned, and the typed passphrase unlocks the folder.
    let me = Run::from_output(
        parley_command()
            .env("PARLEY_HOME", alice.home())
            .args([
                "--passphrase-command",
                "echo first run passphrase",
                "whoami",
            ])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(me.stdout.contains(&fingerprint), "{}", me.stdout);
}

#[test]
fn init_without_flags_and_without_a_terminal_is_a_usage_error() {
    let person = Person::new();
    let run = person.run(&["init"]).fails_with(2);
    assert!(run.stderr.contains("--relay"), "{}", run.stderr);
    assert!(!person.home().exists());
}

#[test]
fn completions_and_the_man_page_are_generated() {
    // The scripts hand completion back to parley itself (COMPLETE=<shell> parley -- ...).
    for (shell, marker) in [
        ("bash", "complete -o nospace"),
        ("zsh", "#compdef parley"),
        ("fish", "complete --keep-order --exclusive --command parley"),
    ] {
        let run = Run::from_output(
            parley_command()
                .args(["completions", shell])
                .output()
                .unwrap(),
        )
        .ok();
        assert!(run.stdout.contains(marker), "{shell}: {}", run.stdout);
        assert!(run.stdout.contains("COMPLETE="), "{shell}: {}", run.stdout);
    }
    // Which completes commands and options.
    let commands = Run::from_output(
        parley_command()
            .env("COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", "1")
            .args(["--", "parley", ""])
            .output()
            .unwrap(),
    )
    .ok();
    for command in [
        "history",
        "conversations",
        "passphrase",
        "daemon",
        "outbox",
        "alerts",
    ] {
        assert!(
            commands.stdout.lines().any(|l| l == command),
            "bash misses {command}: {}",
            commands.stdout
        );
    }
    let unknown = Run::from_output(
        parley_command()
            .args(["completions", "tcsh"])
            .output()
            .unwrap(),
    );
    assert_eq!(unknown.code, 2);

    let man = Run::from_output(parley_command().arg("man").output().unwrap()).ok();
    assert!(
        man.stdout.starts_with(".ie") || man.stdout.contains(".TH parley"),
        "{}",
        man.stdout
    );
    assert!(man.stdout.contains(".TH parley"), "{}", man.stdout);
    assert!(man.stdout.contains("PARLEY_HOME"), "{}", man.stdout);
    assert!(man.stdout.contains("passphrase"), "{}", man.stdout);
}

/// Every command with examples in its `--help`, as the words after `parley`.
const COMMANDS_WITH_EXAMPLES: [&[&str]; 25] = [
    &[],
    &["init"],
    &["whoami"],
    &["send"],
    &["read"],
    &["history"],
    &["send-file"],
    &["files"],
    &["get-file"],
    &["contacts"],
    &["conversations"],
    &["chat"],
    &["group"],
    &["group", "create"],
    &["group", "add"],
    &["group", "remove"],
    &["group", "members"],
    &["safety-number"],
    &["verify"],
    &["contact"],
    &["passphrase"],
    &["alerts"],
    &["outbox"],
    &["daemon"],
    &["completions"],
];

/// The example lines of `parley ARGS --help`: the indented lines under "Example:" or
/// "Examples:", as written (with their indentation).
fn help_examples(args: &[&str]) -> Vec<String> {
    let help = Run::from_output(parley_command().args(args).arg("--help").output().unwrap()).ok();
    let mut examples = Vec::new();
    let mut in_examples = false;
    for line in help.stdout.lines() {
        if !line.starts_with(' ') {
            in_examples = line == "Example:" || line == "Examples:";
        } else if in_examples {
            examples.push(line.to_owned());
        }
    }
    assert!(
        !examples.is_empty(),
        "no examples in {args:?}:\n{}",
        help.stdout
    );
    examples
}

/// The lines roff sets without filling (between `.nf` and `.fi`), with the escapes that
/// `parley man` writes turned back into the characters they print.
fn unfilled_lines(roff: &str) -> Vec<String> {
    let mut unfilled = Vec::new();
    let mut no_fill = false;
    for line in roff.lines() {
        match line {
            ".nf" => no_fill = true,
            ".fi" => no_fill = false,
            _ if no_fill && !line.starts_with('.') => unfilled.push(
                line.replace("\\&", "")
                    .replace("\\-", "-")
                    .replace("\\*(Aq", "'")
                    .replace("\\(ga", "`")
                    .replace("\\(ti", "~")
                    .replace("\\(ha", "^")
                    .replace("\\e", "\\"),
            ),
            _ => {}
        }
    }
    unfilled
}

#[test]
fn the_man_page_is_one_page_with_every_example_as_written() {
    let roff = Run::from_output(parley_command().arg("man").output().unwrap())
        .ok()
        .stdout;

    // No reference to another page: there is no parley-init(1) to read.
    let references: Vec<&str> = roff
        .split_whitespace()
        .filter(|word| word.contains("(1)") && !word.starts_with("parley(1)"))
        .collect();
    assert!(references.is_empty(), "{references:?}");
    // Instead every command is described in the page itself.
    for command in COMMANDS_WITH_EXAMPLES.iter().filter(|c| !c.is_empty()) {
        let heading = format!(".SS \"parley {}\"", command.join(" ").replace('-', "\\-"));
        assert!(roff.contains(&heading), "no {heading}");
    }

    let examples: Vec<String> = COMMANDS_WITH_EXAMPLES
        .iter()
        .flat_map(|args| help_examples(args))
        .collect();
    // Set in no-fill mode, so the formatter keeps each line and its spacing...
    let unfilled = unfilled_lines(&roff);
    for example in &examples {
        assert!(
            unfilled.contains(example),
            "not set as written: {example:?}\n{roff}"
        );
    }
    // ...which the formatter does (where man is installed).
    let Ok(mut man) = std::process::Command::new("man")
        .args(["-l", "-"])
        .env("MANWIDTH", "200")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        eprintln!("man is not installed; the page was checked as roff only");
        return;
    };
    std::io::Write::write_all(&mut man.stdin.take().unwrap(), roff.as_bytes()).unwrap();
    let output = man.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    // Bold and underline may come as overstrikes ("x\bx"); keep the printed characters.
    let mut shown = String::new();
    for c in String::from_utf8(output.stdout).unwrap().chars() {
        if c == '\u{8}' {
            shown.pop();
        } else {
            shown.push(c);
        }
    }
    for example in &examples {
        assert!(
            shown.lines().any(|line| line.trim() == example.trim()),
            "man does not show {example:?} as written:\n{shown}"
        );
    }
}

#[test]
fn a_near_miss_of_a_contact_or_conversation_gets_a_did_you_mean() {
    let relay = TestRelay::plaintext();
    let (alice, bob, carol) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    init(alice.path(), &relay, "alice");
    init(bob.path(), &relay, "bob");
    // Registered on the relay, but never one of alice's contacts.
    init(carol.path(), &relay, "carol");
    parley(alice.path(), &["send", "bob", "first"]).ok();
    parley(
        alice.path(),
        &["group", "create", "buyers", "--members", "bob"],
    )
    .ok();
    parley(bob.path(), &["read"]).ok();

    // Another case: refused, and the hint names the contact and why.
    let capital = parley(alice.path(), &["send", "Bob", "second"]).fails_with(1);
    assert_eq!(
        capital.error_line(),
        "error: you have no conversation or group named 'Bob'"
    );
    assert_eq!(
        lines(&capital.stderr)[1],
        "hint: did you mean bob? handles are lowercase"
    );
    // A slip in a handle nobody registered.
    let slip = parley(alice.path(), &["send", "bbo", "third"]).fails_with(1);
    assert!(
        slip.stderr.contains("hint: did you mean bob?"),
        "{}",
        slip.stderr
    );
    // The other commands that take a name.
    for args in [
        &["history", "Bob"][..],
        &["read", "Bob"],
        &["read", "bbo"],
        &["verify", "Bob"],
        &["safety-number", "bbo"],
        &["group", "members", "buyrs"],
    ] {
        let run = parley(alice.path(), args).fails_with(1);
        let meant = if args.contains(&"buyrs") {
            "buyers"
        } else {
            "bob"
        };
        assert!(
            run.stderr.contains(&format!("hint: did you mean {meant}?")),
            "{args:?}: {}",
            run.stderr
        );
    }

    // Nothing was sent, and nothing waits to be sent.
    let received = parley(bob.path(), &["read", "alice"]).ok();
    assert!(received.stdout.is_empty(), "{}", received.stdout);
    let outbox = parley(alice.path(), &["--json", "outbox"]).ok();
    assert!(outbox.stdout.is_empty(), "{}", outbox.stdout);
    let history = parley(alice.path(), &["--json", "history", "bob"]).ok();
    assert_eq!(lines(&history.stdout).len(), 1, "{}", history.stdout);

    // No near miss, no suggestion; and never a handle that is not alice's contact, even
    // one registered on the relay.
    for args in [
        &["send", "nowhere", "x"][..],
        &["send", "Carol", "x"],
        &["send", "carl", "x"],
        &["verify", "Carol"],
    ] {
        let run = parley(alice.path(), args).fails_with(1);
        assert!(
            !run.stderr.contains("did you mean"),
            "{args:?}: {}",
            run.stderr
        );
    }
}

#[test]
fn a_passphrase_file_other_users_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let relay = TestRelay::plaintext();
    let person = support::Person::new();
    let file = person.passphrase_file();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let url = relay.url();
    let refused = person
        .run(&["init", "--relay", &url, "--handle", "alice"])
        .fails_with(1);
    assert!(
        refused
            .error_line()
            .contains("can be read by other users of this computer (permissions 644)"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("chmod 600"), "{}", refused.stderr);
    assert!(!person.home().exists(), "nothing was set up");
    // Made private, the same file serves.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    person
        .run(&["init", "--relay", &url, "--handle", "alice"])
        .ok();
}

#[test]
fn the_data_folder_and_its_key_file_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let relay = TestRelay::plaintext();
    let person = support::Person::new();
    person.init(&relay, "alice").ok();
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&person.home()), 0o700, "the data folder");
    // Everything below it is reachable only through it; the store's own folder is closed too.
    assert_eq!(mode(&person.home().join("store")), 0o700, "the store");
    assert_eq!(mode(&person.home().join("vault")), 0o600, "the key file");
}
