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
