//! A hostile relay serving documents: a flipped, dropped, reordered or swapped chunk, or
//! another document's chunks served for this one, is detected by the member fetching it, who
//! is told the document is damaged. The same document served honestly afterwards is fetched
//! intact.

#[cfg(test)]
mod common;

use common::tamper::TamperProxy;
use common::{TestClient, TestRelay};
use parley_client::{ClientError, DocumentMeta, MessageBody};
use parley_proto::v1::DownloadChunk;

/// alice shares two documents of six chunks with bob through the tampering relay; bob has
/// their ids.
#[cfg(test)]
async fn shared_pair() -> (TestRelay, TamperProxy, TestClient, String, String, Vec<u8>) {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    let data: Vec<u8> = (0..300_000u32).map(|i| (i % 249) as u8).collect();
    let other: Vec<u8> = data.iter().rev().copied().collect();
    let bob_id = alice.resolve("bob").await.unwrap();
    let mut ids = Vec::new();
    for (name, content) in [("first.pdf", &data), ("second.pdf", &other)] {
        let sent = alice
            .send_file(
                &bob_id,
                &mut content.as_slice(),
                DocumentMeta::new(name, content.len() as u64, "application/pdf"),
                &mut |_| {},
            )
            .await
            .unwrap();
        match sent.body {
            MessageBody::Document(info) => ids.push(info.id),
            other => panic!("not a document: {other:?}"),
        }
    }
    bob.sync().await.unwrap();
    let second = ids.pop().unwrap();
    let first = ids.pop().unwrap();
    (relay, proxy, bob, first, second, data)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tampering_with_a_document_s_chunks_is_detected() {
    let (_relay, proxy, bob, first, second, data) = shared_pair().await;
    // The honest download first, and the other document's chunks for the splice.
    let mut intact = Vec::new();
    bob.fetch_file(&first, &mut intact, &mut |_| {})
        .await
        .unwrap();
    assert!(intact == data, "the honest download differs");
    let mut elsewhere = Vec::new();
    bob.fetch_file(&second, &mut elsewhere, &mut |_| {})
        .await
        .unwrap();
    let other_chunks: Vec<DownloadChunk> = proxy.with(|t| t.downloads.last().unwrap().1.clone());
    assert_eq!(
        other_chunks.len(),
        6,
        "300 KB is stored as 384 KiB: 6 chunks of 64 KiB"
    );

    type Rewrite = Box<dyn FnMut(&mut Vec<DownloadChunk>) + Send>;
    let cases: Vec<(&str, Rewrite)> = vec![
        ("a flipped chunk", Box::new(|c| c[2].chunk[40] ^= 1)),
        ("the last chunk dropped", Box::new(|c| drop(c.pop()))),
        (
            "two chunks swapped (indices kept)",
            Box::new(|c| {
                let (a, b) = (c[1].chunk.clone(), c[3].chunk.clone());
                c[1].chunk = b;
                c[3].chunk = a;
            }),
        ),
        ("a chunk of another document", {
            let theirs = other_chunks[1].chunk.clone();
            Box::new(move |c| c[1].chunk = theirs.clone())
        }),
        ("another document entirely", {
            let theirs = other_chunks.clone();
            Box::new(move |c| *c = theirs.clone())
        }),
        (
            "a chunk repeated in the last one's place",
            Box::new(|c| {
                let last = c.len() - 1;
                c[last].chunk = c[last - 1].chunk.clone();
            }),
        ),
    ];
    for (what, rewrite) in cases {
        proxy.with(|t| t.rewrite_chunks = Some(rewrite));
        let mut out = Vec::new();
        let err = bob
            .fetch_file(&first, &mut out, &mut |_| {})
            .await
            .unwrap_err();
        // What was written before the damage showed is the caller's to throw away (the CLI
        // writes to a temporary file): with only padding cut off, that can be all the
        // content, and the fetch still fails.
        assert!(
            matches!(err, ClientError::DocumentDamaged),
            "{what}: {err:?}"
        );
        assert!(
            out.len() <= data.len(),
            "{what}: nothing beyond the content"
        );
    }

    // The relay behaves again: the document was never lost.
    proxy.with(|t| t.rewrite_chunks = None);
    let mut again = Vec::new();
    bob.fetch_file(&first, &mut again, &mut |_| {})
        .await
        .unwrap();
    assert!(again == data, "the document was lost");
}

/// A connection broken in the middle of an upload or a download (a relay restarting, a
/// network dropping) is taken up again where it stopped: the document arrives whole, once,
/// and each chunk went up at most twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_transfers_resume_where_they_stopped() {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&proxy.url(), None, "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    // 40 chunks of 64 KiB, and a tail.
    let data: Vec<u8> = (0..2_650_000u32).map(|i| (i * 31 % 251) as u8).collect();
    let to_bob = alice.resolve("bob").await.unwrap();
    // The upload breaks twice, each time after 20 more chunks reached the relay.
    proxy.with(|t| t.break_uploads = Some((2, 20)));
    let mut confirmed = Vec::new();
    let sent = alice
        .send_file(
            &to_bob,
            &mut data.as_slice(),
            DocumentMeta::new("long-annex.pdf", data.len() as u64, "application/pdf"),
            &mut |t| confirmed.push(t.done),
        )
        .await
        .unwrap();
    let MessageBody::Document(info) = sent.body else {
        panic!("not a document")
    };
    assert_eq!(proxy.with(|t| t.uploads), 3, "two resumptions");
    assert_eq!(confirmed.last(), Some(&(data.len() as u64)));
    assert!(confirmed.windows(2).all(|w| w[0] <= w[1]), "{confirmed:?}");

    bob.sync().await.unwrap();
    proxy.with(|t| t.break_downloads = Some((3, 7)));
    let mut fetched = Vec::new();
    let mut seen = Vec::new();
    bob.fetch_file(&info.id, &mut fetched, &mut |t| seen.push(t.done))
        .await
        .unwrap();
    // Identical content: no chunk was written twice nor left out.
    assert!(fetched == data, "the document differs after resumptions");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "{seen:?}");
    assert_eq!(seen.last(), Some(&(data.len() as u64)));
    // Four downloads: three broken off after 7 chunks each, the last one to the end.
    let downloads = proxy.with(|t| t.downloads.len());
    assert_eq!(downloads, 4);

    // A connection that breaks every time without progress ends in an error, not a loop.
    proxy.with(|t| t.break_downloads = Some((100, 0)));
    let mut partial = Vec::new();
    let failed = bob
        .fetch_file(&info.id, &mut partial, &mut |_| {})
        .await
        .unwrap_err();
    assert!(
        matches!(
            failed,
            ClientError::RelayUnreachable(_) | ClientError::Relay(_)
        ),
        "{failed:?}"
    );
}
