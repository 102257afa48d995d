//! `parley send` wall time, with and without the daemon, against the key derivation alone,
//! all measured in this one run: the real `parley` binary (release build) sends to an
//! existing 1:1 on a real relay on loopback, 20 times each way.
//!
//! It fails (exit 1) when the daemon's median is 50 ms or more, or when a send without the
//! daemon costs more than the key derivation its parameters say plus a send through the
//! daemon, with 25% to spare: the unlock must cost what Argon2id costs, no more.
//!
//! Run: `cargo bench -p parley-cli --bench send_latency`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use parley_crypto::vault::{KdfParams, Passphrase, StoreKey, WrappedKey};
use parley_testkit::TestRelay;
use rand::rngs::OsRng;

const RUNS: usize = 20;
const PASSPHRASE: &str = "a bench passphrase that is long enough";
/// The daemon's target for a send to an existing conversation.
const DAEMON_TARGET: Duration = Duration::from_millis(50);
/// Room for noise above "key derivation + a send through the daemon".
const UNLOCK_SLACK: f64 = 1.25;

struct Person {
    home: PathBuf,
    passphrase_file: PathBuf,
}

impl Person {
    fn new(root: &Path, name: &str) -> Person {
        let passphrase_file = root.join(format!("{name}.pass"));
        std::fs::write(&passphrase_file, PASSPHRASE).unwrap();
        std::fs::set_permissions(
            &passphrase_file,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        Person {
            home: root.join(name),
            passphrase_file,
        }
    }

    fn parley(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
        command
            .env("PARLEY_HOME", &self.home)
            .env("PARLEY_PASSPHRASE_FILE", &self.passphrase_file)
            .env_remove("PARLEY_NO_DAEMON")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        command
    }

    fn ok(&self, args: &[&str]) {
        let output = self.parley(args).output().unwrap();
        assert!(
            output.status.success(),
            "parley {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// Wall time of one `parley send bob ...`, from spawn to exit.
    fn timed_send(&self, i: usize) -> Duration {
        let text = format!("message {i}");
        let started = Instant::now();
        let output = self.parley(&["send", "bob", &text]).output().unwrap();
        let took = started.elapsed();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        took
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() -> ExitCode {
    let root = tempfile::tempdir().unwrap();
    let relay = TestRelay::plaintext();
    let (alice, bob) = (
        Person::new(root.path(), "alice"),
        Person::new(root.path(), "bob"),
    );
    for (person, handle) in [(&alice, "alice"), (&bob, "bob")] {
        person.ok(&["init", "--relay", &relay.url(), "--handle", handle]);
    }
    alice.ok(&["send", "bob", "the conversation exists from here on"]);

    // The key derivation alone, with the parameters a new folder gets.
    let params = KdfParams::default();
    let wrapped = WrappedKey::wrap(
        &mut OsRng,
        &Passphrase::new(PASSPHRASE.to_owned()),
        params,
        &StoreKey::generate(&mut OsRng),
    )
    .unwrap();
    let kdf = median(
        (0..RUNS)
            .map(|_| {
                let passphrase = Passphrase::new(PASSPHRASE.to_owned());
                let started = Instant::now();
                wrapped.unwrap(&passphrase).unwrap();
                started.elapsed()
            })
            .collect(),
    );

    let alone = median((0..RUNS).map(|i| alice.timed_send(i)).collect());
    alice.ok(&["daemon", "start"]);
    alice.timed_send(RUNS); // the daemon's first send warms its connection
    let daemon = median((0..RUNS).map(|i| alice.timed_send(RUNS + 1 + i)).collect());
    alice.ok(&["daemon", "stop"]);

    println!("parley send to an existing 1:1, median of {RUNS} (release build, loopback relay):");
    println!(
        "  key derivation alone (Argon2id {} KiB, {} passes): {:8.1} ms",
        params.memory_kib,
        params.passes,
        ms(kdf)
    );
    println!(
        "  without the daemon:                             {:8.1} ms",
        ms(alone)
    );
    println!(
        "  with the daemon:                                {:8.1} ms",
        ms(daemon)
    );
    println!(
        "  ratio without / with the daemon:                {:8.1}x",
        ms(alone) / ms(daemon)
    );
    let budget = ms(kdf) + ms(daemon);
    println!(
        "  without the daemon / (key derivation + daemon send): {:.2}",
        ms(alone) / budget
    );

    let mut failed = false;
    if daemon >= DAEMON_TARGET {
        println!(
            "FAIL: with the daemon the median is {:.1} ms, target < {} ms",
            ms(daemon),
            DAEMON_TARGET.as_millis()
        );
        failed = true;
    }
    if ms(alone) > budget * UNLOCK_SLACK {
        println!("FAIL: without the daemon a send costs more than the key derivation and a send");
        failed = true;
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
