//! Golden tests: what a negotiator sees, command by command and error by error, compared
//! with the transcripts in tests/golden/. Ports, keys, times and temp paths are replaced by
//! placeholders; everything else must match to the byte.
//!
//! After an intended change of wording, regenerate the transcripts with
//! `PARLEY_BLESS=1 cargo test -p parley-cli --test golden` and review the diff.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::path::PathBuf;

use support::{dead_relay_url, parley_command, Person, Run, TestRelay};

/// A transcript being recorded, with the dynamic values to hide.
struct Golden {
    name: &'static str,
    redactions: Vec<(String, String)>,
    transcript: String,
}

impl Golden {
    fn new(name: &'static str) -> Golden {
        Golden {
            name,
            redactions: Vec::new(),
            transcript: String::new(),
        }
    }

    /// Hides `value` behind `placeholder` wherever it appears.
    fn redact(&mut self, value: impl Into<String>, placeholder: &str) {
        self.redactions.push((value.into(), placeholder.to_owned()));
        // Longest first, so a path is replaced before its prefix.
        self.redactions
            .sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    }

    fn person(&mut self, name: &str) -> Person {
        let person = Person::new();
        self.redact(
            person.path().display().to_string(),
            &format!("<{name}-dir>"),
        );
        person
    }

    fn relay(&mut self, relay: &TestRelay) {
        self.redact(format!("127.0.0.1:{}", relay.port()), "127.0.0.1:<port>");
    }

    /// Runs `parley ARGS` as `who` and records what they saw.
    fn run(&mut self, who: &str, person: &Person, args: &[&str]) -> Run {
        let run = person.run(args);
        self.record(who, args, &run);
        run
    }

    fn record(&mut self, who: &str, args: &[&str], run: &Run) {
        let mut block = format!("{who}$ parley {}\n", shown_args(args));
        for line in run.stdout.lines() {
            block.push_str(line);
            block.push('\n');
        }
        for line in run.stderr.lines() {
            block.push_str("stderr: ");
            block.push_str(line);
            block.push('\n');
        }
        block.push_str(&format!("exit {}\n\n", run.code));
        let block = self.redacted(&block);
        self.transcript.push_str(&block);
    }

    fn redacted(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (value, placeholder) in &self.redactions {
            text = text.replace(value, placeholder);
        }
        generic_redactions(&text)
    }

    /// Compares with the stored transcript (or stores it, with PARLEY_BLESS=1).
    fn check(self) {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/golden")
            .join(format!("{}.txt", self.name));
        if std::env::var_os("PARLEY_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &self.transcript).unwrap();
            return;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
            panic!(
                "{} is missing; it would be:\n{}",
                path.display(),
                self.transcript
            )
        });
        if expected != self.transcript {
            let first = expected
                .lines()
                .zip(self.transcript.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(
                    expected
                        .lines()
                        .count()
                        .min(self.transcript.lines().count()),
                );
            panic!(
                "{} differs from what parley shows now (first at line {}):\n--- expected\n{}\n--- actual\n{}",
                path.display(),
                first + 1,
                expected,
                self.transcript
            );
        }
    }
}

fn shown_args(args: &[&str]) -> String {
    args.iter()
        .map(|arg| {
            if !arg.is_empty()
                && arg
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@".contains(c))
            {
                (*arg).to_owned()
            } else {
                format!("'{arg}'")
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Hides what no list of known values covers: hex strings of 32+ characters (keys and
/// fingerprints), 13-digit millisecond times, "YYYY-MM-DD HH:MM" times and 12x5-digit
/// safety numbers.
fn generic_redactions(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        if let Some(len) = shape_at(&chars, i, "dddd-dd-dd dd:dd") {
            out.push_str("<time>");
            i += len;
            continue;
        }
        if let Some(len) = safety_number_at(&chars, i) {
            out.push_str("<safety-number>");
            i += len;
            continue;
        }
        let starts_word = i == 0 || !chars[i - 1].is_ascii_alphanumeric();
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
            .count();
        let ends_word = chars
            .get(i + run)
            .is_none_or(|c| !c.is_ascii_alphanumeric());
        if starts_word && ends_word && run >= 32 {
            out.push_str("<hex>");
            i += run;
            continue;
        }
        let digits = chars[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if starts_word && ends_word && digits == 13 {
            out.push_str("<ms>");
            i += digits;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

/// The length of `shape` ('d' = a digit, anything else itself) at `i`, if it is there.
fn shape_at(chars: &[char], i: usize, shape: &str) -> Option<usize> {
    let len = shape.chars().count();
    let window = chars.get(i..i + len)?;
    window
        .iter()
        .zip(shape.chars())
        .all(|(c, s)| {
            if s == 'd' {
                c.is_ascii_digit()
            } else {
                *c == s
            }
        })
        .then_some(len)
}

fn safety_number_at(chars: &[char], i: usize) -> Option<usize> {
    let shape = ["ddddd"; 12].join(" ");
    shape_at(chars, i, &shape)
}

#[test]
fn everyday_commands() {
    let mut golden = Golden::new("everyday");
    let mut json = Golden::new("json");
    let relay = TestRelay::plaintext();
    golden.relay(&relay);
    json.relay(&relay);
    let (alice, bob, carol) = (
        golden.person("alice"),
        golden.person("bob"),
        golden.person("carol"),
    );

    golden.run(
        "alice",
        &alice,
        &["init", "--relay", &relay.url(), "--handle", "alice"],
    );
    bob.init(&relay, "bob");
    carol.init(&relay, "carol");

    golden.run("alice", &alice, &["send", "bob", "Can we meet at ten?"]);
    golden.run("bob", &bob, &["read"]);
    golden.run("bob", &bob, &["read"]);
    golden.run("bob", &bob, &["send", "alice", "Yes, at the usual place."]);
    golden.run("alice", &alice, &["read", "bob"]);
    golden.run("bob", &bob, &["history", "alice"]);
    golden.run("bob", &bob, &["history", "alice", "--limit", "1"]);
    golden.run("bob", &bob, &["contacts"]);
    golden.run("bob", &bob, &["conversations"]);
    golden.run("alice", &alice, &["whoami"]);
    golden.run(
        "alice",
        &alice,
        &["group", "create", "buyers", "--members", "bob,carol"],
    );
    golden.run("alice", &alice, &["group", "members", "buyers"]);
    golden.run(
        "alice",
        &alice,
        &["send", "buyers", "Our offer stands until Friday."],
    );
    golden.run("carol", &carol, &["read", "alice/buyers"]);
    golden.run("bob", &bob, &["read"]);
    golden.run("alice", &alice, &["conversations"]);
    golden.run("alice", &alice, &["safety-number", "bob"]);
    golden.run("alice", &alice, &["verify", "bob", "--confirm"]);
    golden.run("alice", &alice, &["contacts"]);
    golden.run("alice", &alice, &["history", "bob"]);
    golden.check();

    // The same kinds of data for scripts.
    json.run(
        "alice",
        &alice,
        &["--json", "send", "bob", "Offer: 10 000 \"net\""],
    );
    json.run("bob", &bob, &["--json", "read"]);
    json.run("bob", &bob, &["history", "alice", "--json"]);
    json.run("bob", &bob, &["contacts", "--json"]);
    json.run("bob", &bob, &["conversations", "--json"]);
    json.run("alice", &alice, &["whoami", "--json"]);
    json.run("alice", &alice, &["group", "members", "buyers", "--json"]);
    json.run("alice", &alice, &["safety-number", "bob", "--json"]);
    json.check();
}

#[test]
fn every_error_a_negotiator_can_meet() {
    let mut golden = Golden::new("errors");
    let mut relay = TestRelay::plaintext();
    golden.relay(&relay);
    let (alice, bob, carol, newcomer) = (
        golden.person("alice"),
        golden.person("bob"),
        golden.person("carol"),
        golden.person("newcomer"),
    );
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    carol.init(&relay, "carol");

    // Wrong passphrase, and none at all.
    let wrong = alice.file("wrong-passphrase", "correct horse battery stapler\n");
    let run = Run::from_output(
        alice
            .command(&["whoami"])
            .env("PARLEY_PASSPHRASE_FILE", &wrong)
            .output()
            .unwrap(),
    );
    golden.record("alice (wrong passphrase file)", &["whoami"], &run);
    let run = Run::from_output(
        parley_command()
            .env("PARLEY_HOME", alice.home())
            .arg("whoami")
            .output()
            .unwrap(),
    );
    golden.record("alice (no passphrase file, no terminal)", &["whoami"], &run);

    // Before init; a taken handle.
    golden.run("newcomer", &newcomer, &["read"]);
    golden.run(
        "newcomer",
        &newcomer,
        &["init", "--relay", &relay.url(), "--handle", "alice"],
    );
    golden.run("newcomer", &newcomer, &["init"]);

    // People and conversations that do not exist; empty messages.
    golden.run("alice", &alice, &["send", "nobody-here", "hello"]);
    golden.run("alice", &alice, &["history", "nowhere"]);
    golden.run("alice", &alice, &["send", "bob", ""]);
    golden.record(
        "alice",
        &["send", "bob", "-"],
        &alice.run_with_stdin(&["send", "bob", "-"], "\n"),
    );

    // Not a member.
    alice
        .run(&["group", "create", "buyers", "--members", "bob"])
        .ok();
    golden.run("alice", &alice, &["group", "remove", "buyers", "carol"]);
    alice.run(&["group", "remove", "buyers", "bob"]).ok();
    bob.run(&["read"]).ok();
    golden.run(
        "bob (removed from buyers)",
        &bob,
        &["send", "alice/buyers", "still there?"],
    );

    // Usage mistakes.
    golden.run("alice", &alice, &["send"]);
    golden.run("alice", &alice, &["history", "bob", "--limit", "many"]);

    // The relay is down.
    relay.blocking_stop();
    golden.run("alice (relay stopped)", &alice, &["read"]);
    golden.run("alice (relay stopped)", &alice, &["send", "bob", "hello?"]);
    let dead = dead_relay_url();
    golden.redact(
        dead.trim_start_matches("http://").to_owned(),
        "127.0.0.1:<dead-port>",
    );
    golden.run(
        "newcomer",
        &newcomer,
        &["init", "--relay", &dead, "--handle", "newcomer"],
    );
    golden.check();
}

/// A relay that comes back with the same address and certificate but a different "bob":
/// alice's client must stop (exit 3) instead of writing to the impostor.
#[test]
fn a_changed_key_blocks_sending_with_exit_3() {
    let mut golden = Golden::new("key-changed");
    let mut relay = TestRelay::start();
    golden.relay(&relay);
    let (alice, bob, impostor) = (
        golden.person("alice"),
        golden.person("bob"),
        golden.person("impostor"),
    );
    alice.init(&relay, "alice");
    bob.init(&relay, "bob");
    alice.run(&["send", "bob", "first contact"]).ok();
    assert_eq!(
        bob.run(&["read"]).ok().stdout,
        "* alice started a private conversation with you; alice was not one of your contacts \
         before\nalice: first contact\n"
    );

    relay.blocking_stop();
    let replaced = TestRelay::builder()
        .certificate_of(&relay)
        .port(relay.port())
        .start();
    assert_eq!(replaced.fingerprint(), relay.fingerprint());
    impostor.init(&replaced, "bob");

    golden.run("alice", &alice, &["send", "bob", "the real offer"]);
    golden.run("alice", &alice, &["read"]);
    golden.run("alice", &alice, &["contacts"]);
    golden.run("alice", &alice, &["contacts", "--json"]);
    golden.check();
    let sent = alice.run(&["send", "bob", "again"]);
    assert_eq!(sent.code, 3, "{}", sent.stderr);
    assert_eq!(
        impostor.run(&["read"]).ok().stdout,
        "",
        "the impostor must receive nothing"
    );
}

#[test]
fn redaction_hides_only_dynamic_values() {
    let text = "key 0123456789abcdef0123456789abcdef at 2026-01-02 03:04, sent_at\":1795769165455 \
                12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 12345 \
                but not 12345 or deadbeef";
    assert_eq!(
        generic_redactions(text),
        "key <hex> at <time>, sent_at\":<ms> <safety-number> but not 12345 or deadbeef"
    );
}
