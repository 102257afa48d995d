//! The client process killed at each step of receiving and sending (failpoints of the
//! `test-support` feature abort it there, like a power cut), then started again on the same
//! home: the conversation goes on with nothing lost or duplicated, on both sides.
//!
//! Each step runs in a child process (this test binary, running `crash_step_child`) with
//! `PARLEY_FAILPOINT` set;
//! the test first checks that the child really died by SIGABRT, so a failpoint that is never
//! reached fails the test instead of passing it vacuously.

// Test helpers outside #[test] functions: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(test)]
mod common;

use common::Named;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

use common::{sync_until, TestClient, TestRelay, PATIENCE};
use parley_client::{Client, KdfParams, Passphrase};

/// The signal `std::process::abort` raises.
const SIGABRT: i32 = 6;

/// Runs one step (`sync`, `send TO TEXT`, ...) in a child process with the failpoint armed and
/// asserts it aborted there.
async fn crash_at(client: &mut TestClient, point: &str, args: &[&str]) {
    client.offline();
    let status = run_step(client.home.path(), point, args).await;
    assert_eq!(
        status.signal(),
        Some(SIGABRT),
        "the child should abort at {point}, it exited with {status:?}"
    );
    client.online().await;
}

/// Runs one client step in a child process: this test binary again, running only
/// [`crash_step_child`], with the failpoint armed.
async fn run_step(home: &Path, point: &str, args: &[&str]) -> std::process::ExitStatus {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "crash_step_child", "--ignored", "--nocapture"])
        .env(STEP_VAR, step_spec(home, args))
        .env("PARLEY_FAILPOINT", point);
    tokio::task::spawn_blocking(move || cmd.status().unwrap())
        .await
        .unwrap()
}

/// Carries the child's home and step arguments.
const STEP_VAR: &str = "PARLEY_CRASH_STEP";
/// Separates them in [`STEP_VAR`] (no argument contains it).
const SEPARATOR: char = '\u{1f}';

fn step_spec(home: &Path, args: &[&str]) -> String {
    let mut parts = vec![home.to_str().unwrap()];
    parts.extend_from_slice(args);
    parts.join(&SEPARATOR.to_string())
}

/// The child side of [`run_step`]: opens the client in the given home and runs one step
/// (`sync`, `send TO TEXT`, `group NAME MEMBER...` or `add GROUP HANDLE`), where the armed
/// failpoint aborts the process. Ignored in ordinary runs: it only means something as the
/// child of a crash test, which runs it by name.
#[tokio::test(flavor = "current_thread")]
#[ignore = "the child process of the crash tests, run by them"]
async fn crash_step_child() {
    let spec = std::env::var(STEP_VAR).expect("run by run_step");
    let parts: Vec<&str> = spec.split(SEPARATOR).collect();
    let (home, step) = parts.split_first().unwrap();
    let client = open_when_free(home).await;
    match step {
        ["sync"] => {
            client.fetch().await.unwrap();
        }
        ["send", to, text] => {
            client
                .say(&common::local(&client, to).await, text)
                .await
                .unwrap();
        }
        ["group", name, members @ ..] => {
            let members: Vec<String> = members.iter().map(|m| (*m).to_owned()).collect();
            client.create(name, &members).await.unwrap();
        }
        ["add", group, handle] => client
            .add(&common::local(&client, group).await, handle)
            .await
            .unwrap(),
        ["rotate-keys"] => {
            client.rotate_keys().await.unwrap();
        }
        ["follow", text] => follow_until_shown(&client, home, text).await,
        _ => panic!("unknown step {step:?}"),
    }
}

/// The `follow` step: the event stream runs (a file in the home tells the parent it is
/// subscribed), and the process dies the moment `text` is shown, like a power cut: the
/// pushed message is shown before the disk has it.
async fn follow_until_shown(client: &Client, home: &str, text: &str) {
    use futures::StreamExt;
    let mut events = Box::pin(client.events());
    // The stream subscribes, then syncs; what it shows of that sync is older than `text`.
    let settled = tokio::time::timeout(std::time::Duration::from_millis(1500), async {
        while let Some(event) = events.next().await {
            event.unwrap();
        }
    });
    let _ = settled.await;
    std::fs::write(ready_file(Path::new(home)), b"").unwrap();
    while let Some(event) = events.next().await {
        if let parley_client::Event::Message(message) = event.unwrap() {
            if message.text() == Some(text) {
                std::process::abort();
            }
        }
    }
    panic!("the event stream ended before {text:?} was shown");
}

/// Where the `follow` step says it is subscribed.
fn ready_file(home: &Path) -> std::path::PathBuf {
    home.join("test-following")
}

/// Opens the client in `home`, retrying while the parent's instance still holds the store
/// lock.
async fn open_when_free(home: &str) -> Client {
    let deadline = Instant::now() + std::time::Duration::from_secs(8);
    loop {
        let built = Client::builder()
            .home(home)
            .passphrase(Passphrase::new(common::PASSPHRASE.to_owned()))
            .kdf_params(KdfParams::insecure_for_tests())
            .build()
            .await;
        match built {
            Ok(client) => return client,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!("opening the client: {e}"),
        }
    }
}

/// (sender, text) of what people wrote in a conversation, from the stored history, oldest
/// first.
async fn history(client: &Client, conversation: &str) -> Vec<(String, String)> {
    let conversation = common::local(client, conversation).await;
    common::said(client.history_of(&conversation, None).await.unwrap())
        .into_iter()
        .map(|m| {
            (
                m.sender.to_string(),
                m.text().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(s, t)| ((*s).to_owned(), (*t).to_owned()))
        .collect()
}

/// Syncs until the conversation's history is `want` (or the patience ran out), then syncs once
/// more so a late duplicate would show, and asserts it.
async fn expect_history(client: &Client, conversation: &str, want: &[(&str, &str)]) {
    let want = pairs(want);
    let deadline = Instant::now() + PATIENCE;
    while Instant::now() < deadline {
        client.fetch().await.unwrap();
        if client
            .history_of(&common::local(client, conversation).await, None)
            .await
            .is_ok()
            && history(client, conversation).await == want
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    client.fetch().await.unwrap();
    assert_eq!(history(client, conversation).await, want, "{conversation}");
}

async fn conversation_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

async fn setup() -> (TestRelay, TestClient, TestClient) {
    let relay = TestRelay::start();
    let fp = relay.fingerprint();
    let alice = TestClient::register(&relay.url(), fp.as_deref(), "alice").await;
    let bob = TestClient::register(&relay.url(), fp.as_deref(), "bob").await;
    (relay, alice, bob)
}

/// Bob dies while receiving Alice's first message (the Welcome, then the log entry).
async fn receive_first_message(point: &str) {
    let (_relay, alice, mut bob) = setup().await;
    alice.say("bob", "m1").await.unwrap();
    crash_at(&mut bob, point, &["sync"]).await;

    expect_history(&bob, "alice", &[("alice", "m1")]).await;
    bob.say("alice", "m2").await.unwrap();
    expect_history(&alice, "bob", &[("alice", "m1"), ("bob", "m2")]).await;
    alice.say("bob", "m3").await.unwrap();
    let want = [("alice", "m1"), ("bob", "m2"), ("alice", "m3")];
    expect_history(&bob, "alice", &want).await;
    expect_history(&alice, "bob", &want).await;
    assert_eq!(conversation_names(&bob).await, ["alice"]);
    assert_eq!(conversation_names(&alice).await, ["bob"]);
    // Joining is recorded once, and is unread once, whatever the crash interrupted.
    let joined = |messages: &[parley_client::Message]| {
        messages.iter().filter(|m| m.body.is_membership()).count()
    };
    assert_eq!(joined(&bob.history_of("alice", None).await.unwrap()), 1);
    assert_eq!(joined(&bob.unread(None).await.unwrap()), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_inbox_fetch() {
    receive_first_message("inbox.after_fetch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_welcome_processed_before_persist() {
    receive_first_message("inbox.after_process").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_welcome_persisted_before_ack() {
    receive_first_message("inbox.after_persist").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_group_log_fetch() {
    receive_first_message("group.after_fetch").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_message_processed_before_persist() {
    receive_first_message("group.after_process").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_message_persisted() {
    receive_first_message("group.after_persist").await;
}

/// A power cut in the middle of a store batch (the failpoint first puts on disk what was
/// written so far): after the batch's journal record alone, or after all its writes but the
/// last. The next opening finishes the batch, and the conversation goes on as after any
/// crash (without the finishing, the receiving case fails its check that joining is unread
/// once: checked).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_a_batch_was_journaled_before_its_writes() {
    receive_first_message("store.after_journal").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_in_the_middle_of_a_batch_while_receiving() {
    receive_first_message("store.before_last_write").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_in_the_middle_of_a_batch_while_sending() {
    send_in_conversation("store.before_last_write").await;
}

/// Bob follows the conversation and dies the moment Alice's pushed message is shown, before
/// the disk has it (a pushed message is not waited for): started again, he has it once,
/// and the conversation goes on both ways.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_right_after_a_pushed_message_is_shown() {
    let (_relay, alice, mut bob) = setup().await;
    alice.say("bob", "m1").await.unwrap();
    expect_history(&bob, "alice", &[("alice", "m1")]).await;

    bob.offline();
    let home = bob.home.path().to_owned();
    let child = tokio::spawn(async move { run_step(&home, "none", &["follow", "m2"]).await });
    let ready = ready_file(bob.home.path());
    let deadline = Instant::now() + PATIENCE;
    while !ready.exists() {
        assert!(Instant::now() < deadline, "the follower never subscribed");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    alice.say("bob", "m2").await.unwrap();
    let status = child.await.unwrap();
    assert_eq!(
        status.signal(),
        Some(SIGABRT),
        "it should die showing m2: {status:?}"
    );
    bob.online().await;

    expect_history(&bob, "alice", &[("alice", "m1"), ("alice", "m2")]).await;
    let unread = bob.unread(None).await.unwrap();
    let m2 = unread.iter().filter(|m| m.text() == Some("m2")).count();
    assert_eq!(m2, 1, "m2 waits to be read, once");
    bob.say("alice", "m3").await.unwrap();
    let want = [("alice", "m1"), ("alice", "m2"), ("bob", "m3")];
    expect_history(&alice, "bob", &want).await;
    alice.say("bob", "m4").await.unwrap();
    let mut want = want.to_vec();
    want.push(("alice", "m4"));
    expect_history(&bob, "alice", &want).await;
    expect_history(&alice, "bob", &want).await;
}

/// Alice dies while sending in an established 1:1; afterwards both histories agree, and a
/// message that never reached the relay is simply sent again.
async fn send_in_conversation(point: &str) {
    let (_relay, mut alice, bob) = setup().await;
    alice.say("bob", "m0").await.unwrap();
    expect_history(&bob, "alice", &[("alice", "m0")]).await;
    bob.say("alice", "r0").await.unwrap();
    expect_history(&alice, "bob", &[("alice", "m0"), ("bob", "r0")]).await;

    crash_at(&mut alice, point, &["send", "bob", "m1"]).await;
    alice.fetch().await.unwrap();
    let posted = history(&alice, "bob").await.len() == 3;
    let mut want = vec![("alice", "m0"), ("bob", "r0")];
    if posted {
        want.push(("alice", "m1"));
    }
    // Whatever Alice's history says was sent is exactly what Bob received.
    expect_history(&bob, "alice", &want).await;
    expect_history(&alice, "bob", &want).await;
    if !posted {
        alice.say("bob", "m1").await.unwrap();
        want.push(("alice", "m1"));
    }
    bob.say("alice", "r1").await.unwrap();
    want.push(("bob", "r1"));
    alice.say("bob", "m2").await.unwrap();
    want.push(("alice", "m2"));
    expect_history(&bob, "alice", &want).await;
    expect_history(&alice, "bob", &want).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_encrypt_persisted_before_post() {
    send_in_conversation("send.after_persist").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_post_before_recording() {
    send_in_conversation("send.after_post").await;
}

/// The record of a sent message is not waited for (the mark saved before the post holds
/// it): a power cut right after `send` returned may lose it, and the next read writes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_recording_before_the_disk_has_it() {
    send_in_conversation("send.after_record").await;
}

/// Alice dies while starting the 1:1 with her first message (the commit adding Bob); she
/// starts again with the same command. Each side ends with exactly one conversation.
async fn start_conversation(point: &str, sync_first: bool) {
    let (_relay, mut alice, bob) = setup().await;
    crash_at(&mut alice, point, &["send", "bob", "m1"]).await;
    if sync_first {
        alice.fetch().await.unwrap();
    }
    alice.say("bob", "m1").await.unwrap();
    expect_history(&bob, "alice", &[("alice", "m1")]).await;
    bob.say("alice", "m2").await.unwrap();
    let want = [("alice", "m1"), ("bob", "m2")];
    expect_history(&alice, "bob", &want).await;
    expect_history(&bob, "alice", &want).await;
    assert_eq!(conversation_names(&alice).await, ["bob"]);
    assert_eq!(conversation_names(&bob).await, ["alice"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_commit_persisted_before_rpc() {
    start_conversation("commit.after_persist", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_commit_rpc_before_merge() {
    start_conversation("commit.after_rpc", true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_commit_rpc_then_sends_without_sync() {
    start_conversation("commit.after_rpc", false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_merge_before_welcomes() {
    start_conversation("commit.after_merge", true).await;
}

/// Alice dies while adding Carol to a group; Bob dies while processing that commit.
/// Afterwards all three agree on the members, and group messages reach everyone once.
async fn add_member(point: &str) {
    let (relay, mut alice, mut bob) = setup().await;
    let fp = relay.fingerprint();
    let carol = TestClient::register(&relay.url(), fp.as_deref(), "carol").await;
    alice.create("club", &["bob".to_owned()]).await.unwrap();
    alice
        .say(&common::local(&alice, "club").await, "g0")
        .await
        .unwrap();
    expect_history(&bob, "club", &[("alice", "g0")]).await;

    if point.starts_with("commit.") {
        crash_at(&mut alice, point, &["add", "club", "carol"]).await;
        alice.fetch().await.unwrap();
        if !common::member_handles(&alice, "club")
            .await
            .contains(&"carol".to_owned())
        {
            // Never accepted by the relay: the user adds Carol again.
            alice
                .add(&common::local(&alice, "club").await, "carol")
                .await
                .unwrap();
        }
    } else {
        alice
            .add(&common::local(&alice, "club").await, "carol")
            .await
            .unwrap();
        crash_at(&mut bob, point, &["sync"]).await;
    }
    bob.fetch().await.unwrap();
    let everyone = ["alice", "bob", "carol"];
    assert_eq!(common::member_handles(&alice, "club").await, everyone);
    assert_eq!(common::member_handles(&bob, "club").await, everyone);
    assert_eq!(sync_until(&carol, 0).await.len(), 0);
    assert_eq!(common::member_handles(&carol, "club").await, everyone);

    alice
        .say(&common::local(&alice, "club").await, "g1")
        .await
        .unwrap();
    bob.say(&common::local(&bob, "club").await, "g2")
        .await
        .unwrap();
    carol
        .say(&common::local(&carol, "club").await, "g3")
        .await
        .unwrap();
    let want = [("alice", "g1"), ("bob", "g2"), ("carol", "g3")];
    let with_g0 = [("alice", "g0"), want[0], want[1], want[2]];
    expect_history(&alice, "club", &with_g0).await;
    expect_history(&bob, "club", &with_g0).await;
    expect_history(&carol, "club", &want).await;
    assert_eq!(conversation_names(&carol).await, ["alice/club"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_adding_after_commit_persisted_before_rpc() {
    add_member("commit.after_persist").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_adding_after_commit_rpc_before_merge() {
    add_member("commit.after_rpc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_adding_after_merge_before_welcomes() {
    add_member("commit.after_merge").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_commit_processed_before_persist() {
    add_member("group.commit_after_process").await;
}

/// Alice dies rotating her keys: before the relay is asked, or after it took the new record
/// but before her folder swapped keys. Either way the next sync settles it: the keys in her
/// folder are the ones the relay holds, the 1:1 moves, and bob reads her with the new key,
/// told of a rotation, never of a changed key.
async fn rotate_keys(point: &str) {
    let (relay, mut alice, bob) = setup().await;
    alice.say("bob", "m1").await.unwrap();
    expect_history(&bob, "alice", &[("alice", "m1")]).await;
    let before = alice.whoami().unwrap().identity_key;
    crash_at(&mut alice, point, &["rotate-keys"]).await;

    alice.fetch().await.unwrap();
    let after = alice.whoami().unwrap().identity_key;
    let held = relay
        .directory()
        .await
        .lookup(parley_proto::v1::LookupRequest {
            handle: "alice".to_owned(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    let held = parley_crypto::directory::SignedRecord::decode_and_verify(&held).unwrap();
    assert_eq!(
        held.record()
            .identity_key
            .to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
        after,
        "the folder holds the keys the relay serves"
    );
    if point == "rotation.after_rpc" {
        assert_ne!(
            after, before,
            "the relay took the rotation: it is finished, not lost"
        );
    }
    alice.say("bob", "m2").await.unwrap();
    expect_history(&bob, "alice", &[("alice", "m1"), ("alice", "m2")]).await;
    let unread = bob.unread(None).await.unwrap();
    let m2 = unread.iter().filter(|m| m.text() == Some("m2")).count();
    assert_eq!(m2, 1, "m2 waits to be read, once");
    bob.say("alice", "m3").await.unwrap();
    expect_history(
        &alice,
        "bob",
        &[("alice", "m1"), ("alice", "m2"), ("bob", "m3")],
    )
    .await;
    let alerts = bob.alert_texts().await.unwrap();
    assert!(
        !alerts.iter().any(|a| a.contains("has changed")),
        "{alerts:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_rotating_keys_before_the_relay_is_asked() {
    rotate_keys("rotation.after_persist").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_rotating_keys_after_the_relay_took_the_new_record() {
    rotate_keys("rotation.after_rpc").await;
}
