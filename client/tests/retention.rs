//! Agreed retention through a real relay, on an injected clock: set when a group is made,
//! changed by a commit every member is told of (a member offline at the time included),
//! enforced on every device (history, documents, unread marks) and at the relay, and, once
//! the stores are compacted, leaving no sealed copy of an expired message on any disk.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::time::Duration;

use common::{h, open_on_clock};
use parley_client::{Client, ConversationId, DocumentMeta, Message, MessageBody, Retention};
use parley_testkit::{LimitsConfig, ManualClock, TestRelay};
use tempfile::TempDir;

/// A relay that keeps everything of its own accord (so that only the conversations'
/// retention deletes) and sweeps every second, on `clock`, its data in `dir`.
fn sweeping_relay(clock: &ManualClock, dir: &Path) -> TestRelay {
    TestRelay::builder()
        .clock(clock.clone())
        .data_dir(dir)
        .limits(LimitsConfig {
            retention_secs: 0,
            sweep_interval_secs: 1,
            ..LimitsConfig::default()
        })
        .start()
}

async fn person(relay: &TestRelay, home: &Path, clock: &ManualClock, handle: &str) -> Client {
    let client = open_on_clock(relay, home, clock).await;
    client.register(&h(handle)).await.unwrap();
    client
}

fn texts(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect()
}

fn retention_changes(messages: &[Message]) -> Vec<(String, Retention)> {
    messages
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::RetentionChanged { retention } => Some((m.sender.to_string(), *retention)),
            _ => None,
        })
        .collect()
}

fn r(text: &str) -> Retention {
    Retention::parse(text).unwrap()
}

/// Every file under `dir` that holds `needle`.
fn files_holding(dir: &Path, needle: &[u8]) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(files_holding(&path, needle));
        } else if std::fs::read(&path)
            .unwrap()
            .windows(needle.len())
            .any(|w| w == needle)
        {
            found.push(path);
        }
    }
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_room_forgets_on_schedule_on_every_device_and_at_the_relay() {
    let clock = ManualClock::new();
    let relay_dir = TempDir::new().unwrap();
    let mut relay = sweeping_relay(&clock, relay_dir.path());
    let homes: Vec<TempDir> = (0..3).map(|_| TempDir::new().unwrap()).collect();
    let alice = person(&relay, homes[0].path(), &clock, "alice").await;
    let bob = person(&relay, homes[1].path(), &clock, "bob").await;
    let carol = person(&relay, homes[2].path(), &clock, "carol").await;

    let summit = alice
        .create_group_with_retention("summit", &[h("bob"), h("carol")], r("7d"))
        .await
        .unwrap();
    for member in [&bob, &carol] {
        member.sync().await.unwrap();
    }
    for member in [&alice, &bob, &carol] {
        let listed = member.conversations().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(
            listed[0].retention,
            r("7d"),
            "every member holds the setting"
        );
    }
    let bobs_summit = bob.resolve("alice/summit").await.unwrap();

    alice.send_text(&summit, "the old position").await.unwrap();
    let doc = b"an old non-paper".to_vec();
    let sent = alice
        .send_file(
            &summit,
            &mut doc.as_slice(),
            DocumentMeta::new("old.txt", doc.len() as u64, "text/plain"),
            &mut |_| {},
        )
        .await
        .unwrap();
    let MessageBody::Document(info) = &sent.body else {
        panic!("{sent:?}")
    };
    let old_blob = relay_dir.path().join("db").join("chunks").join(&info.id);
    assert!(
        old_blob.exists(),
        "the test looks where the relay keeps chunks"
    );
    let got = bob.sync().await.unwrap().messages;
    assert_eq!(texts(&got), ["the old position"]);
    assert_eq!(bob.documents(None).await.unwrap().len(), 1);
    let sealed = bob.sealed_history_for_tests(&bobs_summit).await.unwrap();
    assert!(sealed.len() >= 3, "joined, text and document are stored");
    // carol does not sync from here on: she is offline when the retention changes.

    clock.advance(Duration::from_secs(2 * 3600));
    alice.set_retention(&summit, r("1h")).await.unwrap();
    alice.send_text(&summit, "the new position").await.unwrap();

    // bob is told who changed it and to what, and the old messages are gone at once.
    let got = bob.sync().await.unwrap().messages;
    assert_eq!(retention_changes(&got), [("alice".to_owned(), r("1h"))]);
    assert_eq!(texts(&got), ["the new position"]);
    let history = bob.history(&bobs_summit, None).await.unwrap();
    assert_eq!(texts(&history), ["the new position"]);
    assert!(bob.documents(None).await.unwrap().is_empty());
    assert_eq!(bob.conversations().await.unwrap()[0].retention, r("1h"));
    // The document went up under 7 days; the members asked the relay to keep it no longer
    // than 1 h from its upload, which has passed: the sweeper (every second) deletes it.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while old_blob.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the document outlived the shortened retention at the relay"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // carol, back online, learns of the change and never keeps what expired.
    let got = carol.sync().await.unwrap().messages;
    assert_eq!(retention_changes(&got), [("alice".to_owned(), r("1h"))]);
    assert!(!texts(&got).contains(&"the old position".to_owned()));
    let carols_summit = carol.resolve("alice/summit").await.unwrap();
    let history = carol.history(&carols_summit, None).await.unwrap();
    assert_eq!(texts(&history), ["the new position"]);
    assert!(carol.documents(None).await.unwrap().is_empty());
    assert!(texts(&carol.unread(None).await.unwrap())
        .iter()
        .all(|t| t != "the old position"));

    // alice's own device forgets too, and tells her of her own change.
    alice.sync().await.unwrap();
    let history = alice.history(&summit, None).await.unwrap();
    assert_eq!(texts(&history), ["the new position"]);
    assert_eq!(retention_changes(&history), [("alice".to_owned(), r("1h"))]);

    // After compaction (at the next opening), no sealed copy of an expired entry is on bob's
    // disk. The history of bob's entries still live is, so the search would find it.
    drop(bob);
    let bob = open_on_clock(&relay, homes[1].path(), &clock).await;
    let live = bob.sealed_history_for_tests(&bobs_summit).await.unwrap();
    assert!(!live.is_empty());
    assert!(
        !files_holding(homes[1].path(), &live[0]).is_empty(),
        "the search works"
    );
    for record in sealed {
        assert!(
            files_holding(homes[1].path(), &record).is_empty(),
            "an expired record is still on disk"
        );
    }
    drop(bob);
    relay.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_forgets_a_rooms_old_entries_by_its_agreed_retention() {
    let clock = ManualClock::new();
    let relay_dir = TempDir::new().unwrap();
    let mut relay = sweeping_relay(&clock, relay_dir.path());
    let homes: Vec<TempDir> = (0..2).map(|_| TempDir::new().unwrap()).collect();
    let alice = person(&relay, homes[0].path(), &clock, "alice").await;
    let bob = person(&relay, homes[1].path(), &clock, "bob").await;
    alice.send_text(&h("bob").into(), "hello").await.unwrap();
    bob.sync().await.unwrap();
    let direct = ConversationId::Direct(h("bob"));
    alice.set_retention(&direct, r("1h")).await.unwrap();
    // Told in the 1:1 too.
    let got = bob.sync().await.unwrap().messages;
    assert_eq!(retention_changes(&got), [("alice".to_owned(), r("1h"))]);
    assert_eq!(
        bob.conversations().await.unwrap()[0].retention,
        r("1h"),
        "bob's side of the 1:1 holds it"
    );
    // Setting the same value again changes nothing and tells nobody.
    alice.set_retention(&direct, r("1h")).await.unwrap();
    assert!(retention_changes(&bob.sync().await.unwrap().messages).is_empty());

    // A message bob never fetched, and a document, are gone from the relay once the
    // retention passed (the relay keeps everything else: retention_secs = 0).
    alice.send_text(&direct, "never fetched").await.unwrap();
    let doc = b"a short-lived annex".to_vec();
    let sent = alice
        .send_file(
            &direct,
            &mut doc.as_slice(),
            DocumentMeta::new("annex.txt", doc.len() as u64, "text/plain"),
            &mut |_| {},
        )
        .await
        .unwrap();
    let MessageBody::Document(info) = &sent.body else {
        panic!("{sent:?}")
    };
    let chunk_file = relay_dir.path().join("db").join("chunks").join(&info.id);
    assert!(
        chunk_file.exists(),
        "the test looks where the relay keeps chunks"
    );
    clock.advance(Duration::from_secs(3601));
    // The sweeper runs every second of real time.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let fetched = bob.sync().await.unwrap().messages;
    assert!(
        !texts(&fetched).contains(&"never fetched".to_owned()),
        "an expired entry was served or kept"
    );
    assert!(
        !chunk_file.exists(),
        "the document outlived the conversation's retention"
    );

    // And off again: nothing expires any more.
    bob.set_retention(&ConversationId::Direct(h("alice")), Retention::Off)
        .await
        .unwrap();
    let got = alice.sync().await.unwrap().messages;
    assert!(retention_changes(&got).contains(&("bob".to_owned(), Retention::Off)));
    alice.send_text(&direct, "kept now").await.unwrap();
    clock.advance(Duration::from_secs(30 * 24 * 3600));
    bob.sync().await.unwrap();
    assert!(texts(
        &bob.history(&ConversationId::Direct(h("alice")), None)
            .await
            .unwrap()
    )
    .contains(&"kept now".to_owned()));
    relay.stop().await;
}
