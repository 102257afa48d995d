//! Documents shared in conversations through a real relay: uploaded in chunks without being
//! held whole, fetched and checked by every member, refused when described wrongly, and out
//! of reach of anyone outside the conversation.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{h, registered, to};
use parley_client::{ClientError, DocumentInfo, DocumentMeta, MessageBody, Transfer};
use parley_testkit::TestRelay;
use tempfile::TempDir;

fn content(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 7 % 253) as u8).collect()
}

/// The document a message shares, if it shares one.
fn shared(body: &MessageBody) -> Option<&DocumentInfo> {
    match body {
        MessageBody::Document(info) => Some(info),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_fetch_a_shared_document_and_outsiders_cannot() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..4).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    let carol = registered(&relay, homes[2].path(), "carol").await;
    let dave = registered(&relay, homes[3].path(), "dave").await;
    alice
        .create_group("summit", &[h("bob"), h("carol")])
        .await
        .unwrap();

    let data = content(1_000_010);
    let mut sent_progress = Vec::new();
    let sent = alice
        .send_file(
            &to(&alice, "summit").await,
            &mut data.as_slice(),
            DocumentMeta::new("non-paper v3.pdf", data.len() as u64, "application/pdf"),
            &mut |t: Transfer| sent_progress.push(t.done),
        )
        .await
        .unwrap();
    let info = shared(&sent.body).unwrap().clone();
    assert_eq!(
        (info.name.as_str(), info.size),
        ("non-paper v3.pdf", 1_000_010)
    );
    assert_eq!(sent_progress.last(), Some(&1_000_010));
    assert!(sent_progress.windows(2).all(|w| w[0] <= w[1]));

    for member in [&bob, &carol] {
        let report = member.sync().await.unwrap();
        let seen: Vec<&DocumentInfo> = report
            .messages
            .iter()
            .filter_map(|m| shared(&m.body))
            .collect();
        assert_eq!(seen, [&info]);
        let mut fetched = Vec::new();
        let mut got = Vec::new();
        let back = member
            .fetch_file(&info.id, &mut fetched, &mut |t: Transfer| got.push(t.done))
            .await
            .unwrap();
        assert_eq!(back, info);
        assert_eq!(fetched, data);
        assert_eq!(got.last(), Some(&1_000_010));
    }
    let listed = bob.documents(None).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(shared(&listed[0].body), Some(&info));

    // Someone outside the conversation has no reference: nothing to fetch.
    dave.sync().await.unwrap();
    let mut nothing = Vec::new();
    let refused = dave
        .fetch_file(&info.id, &mut nothing, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ClientError::UnknownDocument(_)),
        "{refused:?}"
    );
    assert!(nothing.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_to_a_person_starts_a_1to1_and_bad_descriptions_are_refused() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..2).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    let bob_id = to(&alice, "bob").await;

    // An empty name, a media type with spaces, content shorter than announced.
    for meta in [
        DocumentMeta::new("", 3, "text/plain"),
        DocumentMeta::new("a.txt", 3, "text/plain; charset=utf-8"),
        DocumentMeta::new("a.txt", 10, "text/plain"),
    ] {
        let err = alice
            .send_file(&bob_id, &mut &b"abc"[..], meta, &mut |_| {})
            .await
            .unwrap_err();
        assert!(matches!(err, ClientError::InvalidDocument(_)), "{err:?}");
    }
    assert!(alice.documents(None).await.unwrap().is_empty());

    let sent = alice
        .send_file(
            &bob_id,
            &mut &b"abc"[..],
            DocumentMeta::new("a.txt", 3, "text/plain"),
            &mut |_| {},
        )
        .await
        .unwrap();
    let info = shared(&sent.body).unwrap().clone();
    bob.sync().await.unwrap();
    let mut fetched = Vec::new();
    bob.fetch_file(&info.id, &mut fetched, &mut |_| {})
        .await
        .unwrap();
    assert_eq!(fetched, b"abc");
    let empty = alice
        .send_file(
            &bob_id,
            &mut &b""[..],
            DocumentMeta::new("empty.txt", 0, "text/plain"),
            &mut |_| {},
        )
        .await
        .unwrap();
    bob.sync().await.unwrap();
    let mut fetched = Vec::new();
    bob.fetch_file(&shared(&empty.body).unwrap().id, &mut fetched, &mut |_| {})
        .await
        .unwrap();
    assert!(fetched.is_empty());
}
