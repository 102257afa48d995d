//! The `parley` binary end to end: real relays on 127.0.0.1:0, real data folders in temp
//! dirs, the binary run as a person would run it.

// This whole file is test code: the helpers below are called only from #[test] functions,
// and a failed unwrap in them is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpListener as StdListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use parley_relay::{Relay, RelayConfig, TlsSetting};
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// A relay serving on loopback from its own runtime, so the test thread can block on the
/// binary while the relay keeps answering.
struct TestRelay {
    url: String,
    fingerprint: Option<String>,
    runtime: Option<Runtime>,
    shutdown: Option<oneshot::Sender<()>>,
    _data: TempDir,
}

impl TestRelay {
    fn plaintext() -> TestRelay {
        TestRelay::start(TlsSetting::Plaintext, "http")
    }

    fn self_signed() -> TestRelay {
        TestRelay::start(TlsSetting::SelfSigned, "https")
    }

    fn start(tls: TlsSetting, scheme: &str) -> TestRelay {
        let data = TempDir::new().unwrap();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let relay = Relay::open(RelayConfig {
            data_dir: data.path().to_path_buf(),
            tls,
        })
        .unwrap();
        let fingerprint = relay.tls_fingerprint();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (shutdown, stop) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let stopped = async {
                let _ = stop.await;
            };
            relay.serve(listener, stopped).await.unwrap();
        });
        TestRelay {
            url: format!("{scheme}://127.0.0.1:{port}"),
            fingerprint,
            runtime: Some(runtime),
            shutdown: Some(shutdown),
            _data: data,
        }
    }

    fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What one run of the binary produced.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().expect("parley was killed by a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    #[track_caller]
    fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "parley failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the failure contract: this exit code, the first stderr line is `error: ...`,
    /// and at most a `hint: ...` line follows; nothing on stdout, no panic text.
    #[track_caller]
    fn fails_with(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert!(
            !lines.is_empty() && lines[0].starts_with("error: "),
            "stderr: {}",
            self.stderr
        );
        assert!(
            lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
            "stderr: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "stderr: {}", self.stderr);
        assert!(self.stdout.is_empty(), "stdout: {}", self.stdout);
        self
    }

    fn error_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }
}

fn parley_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
    command
        .env_remove("PARLEY_HOME")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

fn parley(home: &Path, args: &[&str]) -> Run {
    let output = parley_command()
        .arg("--home")
        .arg(home)
        .args(args)
        .output()
        .unwrap();
    Run::from_output(output)
}

fn parley_with_stdin(home: &Path, args: &[&str], input: &str) -> Run {
    let mut child = parley_command()
        .arg("--home")
        .arg(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    Run::from_output(child.wait_with_output().unwrap())
}

fn init(home: &Path, relay: &TestRelay, handle: &str) -> Run {
    parley(home, &["init", "--relay", &relay.url, "--handle", handle]).ok()
}

/// A loopback URL on which nothing listens (the port was just free).
fn dead_relay_url() -> String {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

#[test]
fn direct_messages_flow_between_two_people() {
    let relay = TestRelay::plaintext();
    let (alice, bob) = (TempDir::new().unwrap(), TempDir::new().unwrap());

    let registered = init(alice.path(), &relay, "alice");
    assert!(
        registered
            .stdout
            .contains(&format!("Registered alice on {}.", relay.url)),
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
    assert_eq!(parley(bob.path(), &["read"]).ok().stdout, "alice: hello\n");
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
    assert!(me.contains(&relay.url), "{me}");
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
        "carol: from carol\n"
    );
    // alice's message was fetched and stored by that read, so it is no longer new.
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
    assert_eq!(
        parley(bob, &["read", "buyers"]).ok().stdout,
        "alice: our offer\n"
    );
    assert_eq!(parley(carol, &["read"]).ok().stdout, "alice: our offer\n");

    parley(alice, &["group", "add", "buyers", "dave"]).ok();
    let members = parley(alice, &["group", "members", "buyers"]).ok().stdout;
    assert!(lines(&members).contains(&"dave"), "{members}");

    parley(alice, &["group", "remove", "buyers", "carol"]).ok();
    let members = parley(alice, &["group", "members", "buyers"]).ok().stdout;
    assert!(!lines(&members).contains(&"carol"), "{members}");
    assert!(lines(&members).contains(&"bob"), "{members}");

    parley(alice, &["send", "buyers", "final offer"]).ok();
    let bob_sees = parley(bob, &["read", "buyers"]).ok().stdout;
    assert!(bob_sees.ends_with("alice: final offer\n"), "{bob_sees}");
    assert_eq!(
        parley(dave, &["read", "buyers"]).ok().stdout,
        "alice: final offer\n"
    );
    let carol_run = parley(carol, &["read", "buyers"]);
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
        &["init", "--relay", &relay.url, "--handle", "alice"],
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
    relay.stop();
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
        &["init", "--relay", &relay.url, "--handle", "alice2"],
    )
    .fails_with(1);
    parley(
        alice.path(),
        &["init", "--relay", &relay.url, "--handle", "A!"],
    )
    .fails_with(1);

    let usage = parley(alice.path(), &["send"]);
    assert_eq!(usage.code, 2, "{}", usage.stderr);
}

#[test]
fn help_explains_every_command_and_the_exit_codes() {
    let run = Run::from_output(parley_command().arg("--help").output().unwrap()).ok();
    for command in ["init", "whoami", "send", "read", "group", "safety-number"] {
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
        parley_command()
            .env("HOME", user_home.path())
            .args(["init", "--relay", &relay.url, "--handle", "alice"])
            .output()
            .unwrap(),
    )
    .ok();
    assert!(run.stdout.contains("Registered alice"), "{}", run.stdout);
    assert!(user_home.path().join(".parley").is_dir());
    let me = Run::from_output(
        parley_command()
            .env("HOME", user_home.path())
            .arg("whoami")
            .output()
            .unwrap(),
    )
    .ok();
    assert!(me.stdout.contains("alice"), "{}", me.stdout);

    let elsewhere = TempDir::new().unwrap();
    Run::from_output(
        parley_command()
            .env("HOME", user_home.path())
            .env("PARLEY_HOME", elsewhere.path())
            .args(["init", "--relay", &relay.url, "--handle", "bob"])
            .output()
            .unwrap(),
    )
    .ok();
    let me = parley(elsewhere.path(), &["whoami"]).ok();
    assert!(me.stdout.contains("bob"), "{}", me.stdout);
}

#[test]
fn a_pinned_tls_relay_works_and_a_wrong_pin_is_refused() {
    let relay = TestRelay::self_signed();
    let fingerprint = relay.fingerprint.clone().unwrap();
    let (alice, bob) = (TempDir::new().unwrap(), TempDir::new().unwrap());
    for (home, handle) in [(alice.path(), "alice"), (bob.path(), "bob")] {
        parley(
            home,
            &[
                "init",
                "--relay",
                &relay.url,
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
        "alice: over tls\n"
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
            &relay.url,
            "--handle",
            "mallory",
            "--relay-fingerprint",
            &wrong,
        ],
    );
    assert_ne!(run.code, 0, "a wrong pin must be refused");
    assert!(run.error_line().starts_with("error: "), "{}", run.stderr);
}
