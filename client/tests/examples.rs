//! The integrator examples in `client/examples/`, run as the programs they are against a real
//! relay on loopback: what they print, how they exit, and what the other side receives.
//! `cargo test` builds the examples before the tests, so their binaries sit beside this one.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use parley_client::{Client, ConversationKind, Handle, KdfParams, MessageBody, Passphrase};
use parley_testkit::TestRelay;
use tempfile::TempDir;

const PASSPHRASE: &str = "examples passphrase";

/// One person: a data folder, created and registered by the library so that the examples
/// open an existing store (with cheap key-derivation parameters).
struct Person {
    handle: &'static str,
    home: TempDir,
    passphrase_file: PathBuf,
}

impl Person {
    async fn registered(relay: &TestRelay, handle: &'static str) -> Person {
        let home = tempfile::tempdir().unwrap();
        let passphrase_file = home.path().join("passphrase");
        std::fs::File::create(&passphrase_file)
            .unwrap()
            .write_all(format!("{PASSPHRASE}\n").as_bytes())
            .unwrap();
        let person = Person {
            handle,
            home,
            passphrase_file,
        };
        let client = Client::builder()
            .home(person.data())
            .passphrase(Passphrase::new(PASSPHRASE.to_owned()))
            .kdf_params(KdfParams::insecure_for_tests())
            .relay(relay.url())
            .relay_fingerprint(relay.fingerprint().unwrap())
            .build()
            .await
            .unwrap();
        client.register(&handle.parse().unwrap()).await.unwrap();
        person
    }

    fn data(&self) -> PathBuf {
        self.home.path().join("data")
    }

    /// The library on this person's store; drop it before running an example as them (the
    /// store admits one process at a time).
    async fn client(&self, relay: &TestRelay) -> Client {
        Client::builder()
            .home(self.data())
            .passphrase(Passphrase::new(PASSPHRASE.to_owned()))
            .relay(relay.url())
            .relay_fingerprint(relay.fingerprint().unwrap())
            .build()
            .await
            .unwrap()
    }

    /// An example's command, with the environment `examples/common` reads.
    fn example(&self, relay: &TestRelay, name: &str) -> Command {
        let mut command = Command::new(example_binary(name));
        command
            .env_clear()
            .env("PARLEY_HOME", self.data())
            .env("PARLEY_RELAY", relay.url())
            .env("PARLEY_RELAY_FINGERPRINT", relay.fingerprint().unwrap())
            .env("PARLEY_PASSPHRASE_FILE", &self.passphrase_file)
            .env("PARLEY_HANDLE", self.handle)
            .stdin(Stdio::null());
        command
    }
}

/// target/debug/examples/NAME, found from this test's own path (target/debug/deps/...).
fn example_binary(name: &str) -> PathBuf {
    let deps = std::env::current_exe().unwrap();
    let path = deps
        .parent()
        .and_then(Path::parent)
        .unwrap()
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.exists(),
        "{} is missing: run through `cargo test`, which builds the examples",
        path.display()
    );
    path
}

fn h(text: &str) -> Handle {
    text.parse().unwrap()
}

/// Runs a command to its end (on a blocking thread: the relay runs on this runtime).
async fn run(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Waits up to a minute for a child that should end by itself.
async fn finished(mut child: Child) -> Output {
    let started = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
                .await
                .unwrap();
        }
        if started.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            let output = child.wait_with_output().unwrap();
            panic!(
                "the example did not finish: stdout {:?} stderr {:?}",
                stdout(&output),
                stderr(&output)
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_once_delivers_one_message_and_refuses_bad_input() {
    let relay = TestRelay::start();
    let alice = Person::registered(&relay, "alice").await;
    let bob = Person::registered(&relay, "bob").await;

    let mut send = alice.example(&relay, "send_once");
    send.args(["@bob", "the agenda is attached"]);
    let output = run(send).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(stdout(&output), "sent to bob\n");

    let bob_client = bob.client(&relay).await;
    let received = bob_client.sync().await.unwrap().messages;
    let texts: Vec<_> = received.iter().filter_map(|m| m.text()).collect();
    assert_eq!(texts, ["the agenda is attached"]);
    assert_eq!(received.last().unwrap().sender, "alice");
    drop(bob_client);

    // Missing arguments and a name that means nothing fail with a message, not a panic.
    let output = run(alice.example(&relay, "send_once")).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("usage: send_once TO TEXT"),
        "{}",
        stderr(&output)
    );
    let mut unknown = alice.example(&relay, "send_once");
    unknown.args(["no such group!", "hello"]);
    let output = run(unknown).await;
    assert!(!output.status.success());
    assert!(!stderr(&output).contains("panicked"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_bot_answers_in_the_conversation_it_was_written_in() {
    let relay = TestRelay::start();
    let alice = Person::registered(&relay, "alice").await;
    let bot = Person::registered(&relay, "bot").await;

    let mut command = bot.example(&relay, "echo_bot");
    command
        .env("ECHO_LIMIT", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().unwrap();

    let alice_client = alice.client(&relay).await;
    let to_bot = alice_client.resolve("bot").await.unwrap();
    alice_client.send_text(&to_bot, "ping").await.unwrap();

    let output = finished(child).await;
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("answered alice in alice"),
        "{}",
        stdout(&output)
    );

    let answers = alice_client.sync().await.unwrap().messages;
    let answer = answers
        .iter()
        .find(|m| m.text().is_some())
        .expect("the bot answered");
    assert_eq!(answer.text(), Some("echo: ping"));
    assert_eq!(answer.sender, "bot");
    assert_eq!(answer.conversation, to_bot);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verified_group_refuses_an_unverified_member_then_creates_the_group() {
    let relay = TestRelay::start();
    let alice = Person::registered(&relay, "alice").await;
    let bob = Person::registered(&relay, "bob").await;

    // Bob is a contact but nobody compared safety numbers yet.
    let alice_client = alice.client(&relay).await;
    alice_client.safety_number(&h("bob")).await.unwrap();
    drop(alice_client);
    let mut create = alice.example(&relay, "verified_group");
    create.args(["mediators", "bob"]);
    let output = run(create).await;
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("bob is not verified"),
        "{}",
        stderr(&output)
    );
    let bob_client = bob.client(&relay).await;
    assert!(bob_client.sync().await.unwrap().messages.is_empty());
    drop(bob_client);

    // After the comparison, the group is created and its code printed.
    let alice_client = alice.client(&relay).await;
    alice_client.confirm_verified(&h("bob")).await.unwrap();
    drop(alice_client);
    let mut create = alice.example(&relay, "verified_group");
    create.args(["mediators", "bob"]);
    let output = run(create).await;
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    assert!(
        printed.contains("group mediators created with 2 members"),
        "{printed}"
    );
    assert!(printed.contains("  bob verified"), "{printed}");
    assert!(printed.contains("group code (epoch "), "{printed}");

    let bob_client = bob.client(&relay).await;
    let joined = bob_client.sync().await.unwrap().messages;
    assert!(
        joined.iter().any(|m| matches!(
            &m.body,
            MessageBody::Joined { members, .. } if members == &[h("alice"), h("bob")]
        ) && m.conversation_name == "alice/mediators"),
        "{joined:?}"
    );
    let conversations = bob_client.conversations().await.unwrap();
    assert!(conversations
        .iter()
        .any(|c| c.name == "alice/mediators" && c.kind == ConversationKind::Group));
}
