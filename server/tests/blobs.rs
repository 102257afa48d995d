//! The Blobs service against a real relay over gRPC: documents sealed by the crypto crate go
//! up in chunks and come back by read capability; uploads resume; and every way to misuse it
//! (another's blob id, a wrong capability, chunks out of order or of the wrong size, sizes
//! off the bucket scheme or over the limit, a source past its quota) is refused.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use common::blobs::{code, download, upload, Doc};
use common::random;
use parley_crypto::document::CHUNK_LEN;
use parley_proto::v1::blobs_client::BlobsClient;
use parley_proto::v1::UploadRequest;
use parley_relay::LimitsConfig;
use parley_testkit::{ManualClock, TestRelay};
use tonic::Code;

#[tokio::test]
async fn a_document_goes_up_in_chunks_resumes_and_comes_back_by_read_capability() {
    let relay = TestRelay::plaintext();
    let mut blobs = relay.blobs().await;
    let doc = Doc::new(5 * CHUNK_LEN + 1000);
    assert_eq!(doc.chunks.len(), 6);

    // The connection breaks after three chunks.
    let progress = upload(&mut blobs, doc.messages(0, 3)).await.unwrap();
    assert_eq!(progress.first().map(|p| (p.stored, p.chunks)), Some((0, 6)));
    // Not downloadable until complete; the same answer as for a wrong capability.
    let early = download(&mut blobs, doc.download(0)).await;
    assert_eq!(code(early), Code::NotFound);

    // Resuming: the relay says how far it got, and the rest follows from there.
    let asked = upload(&mut blobs, doc.messages(0, 0)).await.unwrap();
    assert_eq!(asked.last().map(|p| p.stored), Some(3));
    let progress = upload(&mut blobs, doc.messages(3, 6)).await.unwrap();
    let last = progress.last().unwrap();
    assert_eq!((last.stored, last.chunks, last.complete), (6, 6, true));

    let chunks = download(&mut blobs, doc.download(0)).await.unwrap();
    assert_eq!(chunks, doc.chunks, "served as stored");
    assert_eq!(doc.open(&chunks), doc.content);
    // A broken download resumes from a chunk index.
    let tail = download(&mut blobs, doc.download(4)).await.unwrap();
    assert_eq!(tail, doc.chunks[4..]);
}

#[tokio::test]
async fn misuse_of_blob_ids_capabilities_chunks_and_sizes_is_refused() {
    let relay = TestRelay::plaintext();
    let mut blobs = relay.blobs().await;
    let doc = Doc::new(2 * CHUNK_LEN);
    upload(&mut blobs, doc.messages(0, 2)).await.unwrap();

    // Someone else's blob id with another write capability: taken; nothing appended.
    let mut squatter = doc.messages(0, 0);
    squatter[0].begin.as_mut().unwrap().write_capability = random::<32>().to_vec();
    assert_eq!(
        code(upload(&mut blobs, squatter).await),
        Code::AlreadyExists
    );
    // The wrong read capability, an unknown blob: one answer.
    let mut wrong_read = doc.download(0);
    wrong_read.read_capability = random::<32>().to_vec();
    assert_eq!(code(download(&mut blobs, wrong_read).await), Code::NotFound);
    let mut unknown = doc.download(0);
    unknown.blob_id = random::<32>().to_vec();
    assert_eq!(code(download(&mut blobs, unknown).await), Code::NotFound);
    // A chunk past the last one of a complete blob.
    let mut extra = doc.messages(0, 0);
    extra.push(UploadRequest {
        begin: None,
        index: 2,
        chunk: doc.chunks[1].clone(),
    });
    assert_eq!(code(upload(&mut blobs, extra).await), Code::InvalidArgument);

    let fresh = Doc::new(3 * CHUNK_LEN);
    // Out of order (index 1 first), a chunk of the wrong size, a replayed chunk.
    let mut skipped = fresh.messages(1, 2);
    skipped.truncate(2);
    assert_eq!(
        code(upload(&mut blobs, skipped).await),
        Code::InvalidArgument
    );
    let mut short = fresh.messages(0, 1);
    short[1].chunk.pop();
    assert_eq!(code(upload(&mut blobs, short).await), Code::InvalidArgument);
    let mut replayed = fresh.messages(0, 1);
    replayed.push(replayed[1].clone());
    assert_eq!(
        code(upload(&mut blobs, replayed).await),
        Code::InvalidArgument
    );

    // Sizes off the bucket scheme, or over the limit; malformed capabilities.
    let mut off_bucket = fresh.messages(0, 0);
    off_bucket[0].begin.as_mut().unwrap().padded_size = 100_000;
    assert_eq!(
        code(upload(&mut blobs, off_bucket).await),
        Code::InvalidArgument
    );
    let mut too_big = Doc::new(10).messages(0, 0);
    too_big[0].begin.as_mut().unwrap().padded_size = 512 << 20;
    assert_eq!(code(upload(&mut blobs, too_big).await), Code::OutOfRange);
    let mut bad_id = Doc::new(10).messages(0, 0);
    bad_id[0].begin.as_mut().unwrap().blob_id.pop();
    assert_eq!(
        code(upload(&mut blobs, bad_id).await),
        Code::InvalidArgument
    );
    let no_begin = vec![UploadRequest {
        begin: None,
        index: 0,
        chunk: Vec::new(),
    }];
    assert_eq!(
        code(upload(&mut blobs, no_begin).await),
        Code::InvalidArgument
    );

    // The first document is untouched by all of this.
    let chunks = download(&mut blobs, doc.download(0)).await.unwrap();
    assert_eq!(doc.open(&chunks), doc.content);
}

#[tokio::test]
async fn a_source_past_its_upload_quota_is_refused_and_others_are_not() {
    let relay = TestRelay::builder()
        .plaintext()
        .limits(LimitsConfig {
            // Two chunks an hour, and one blob of two chunks at once.
            max_blob_bytes: 2 * CHUNK_LEN as u64,
            blob_bytes_per_source_per_hour: 2 * CHUNK_LEN as u64,
            ..LimitsConfig::default()
        })
        .start();
    let mut blobs = relay.blobs().await;
    let first = Doc::new(2 * CHUNK_LEN);
    upload(&mut blobs, first.messages(0, 2)).await.unwrap();
    let second = Doc::new(CHUNK_LEN);
    let refused = upload(&mut blobs, second.messages(0, 1)).await;
    assert_eq!(code(refused), Code::ResourceExhausted);
    let text = relay.metrics().render();
    assert!(
        text.contains("parley_rejections_total{reason=\"blob_quota\"} 1"),
        "{text}"
    );

    let other = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));
    let mut elsewhere = BlobsClient::new(relay.channel_from(other).await);
    let progress = upload(&mut elsewhere, second.messages(0, 1)).await.unwrap();
    assert!(progress.last().unwrap().complete);
}

#[tokio::test]
async fn blobs_are_swept_with_the_retention_of_messages() {
    let retention = Duration::from_secs(3600);
    let clock = ManualClock::new();
    let relay = TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .limits(LimitsConfig {
            retention_secs: retention.as_secs(),
            sweep_interval_secs: 1,
            source_requests_per_second: 0,
            ..LimitsConfig::default()
        })
        .start();
    let mut blobs = relay.blobs().await;
    let old = Doc::new(1000);
    upload(&mut blobs, old.messages(0, 1)).await.unwrap();
    clock.advance(retention / 2);
    let young = Doc::new(1000);
    upload(&mut blobs, young.messages(0, 1)).await.unwrap();
    clock.advance(retention / 2 + Duration::from_millis(1));

    let deadline = Instant::now() + Duration::from_secs(10);
    while download(&mut blobs, old.download(0)).await.is_ok() {
        assert!(Instant::now() < deadline, "the old blob was never swept");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = download(&mut blobs, young.download(0)).await.unwrap();
    assert_eq!(young.open(&kept), young.content);
}

#[tokio::test]
async fn a_read_capability_shortens_a_blobs_life_and_nothing_lengthens_it() {
    let clock = ManualClock::new();
    let relay = TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .limits(LimitsConfig {
            retention_secs: 0,
            sweep_interval_secs: 1,
            source_requests_per_second: 0,
            ..LimitsConfig::default()
        })
        .start();
    let mut blobs = relay.blobs().await;
    let (doc, other) = (Doc::new(1000), Doc::new(1000));
    upload(&mut blobs, doc.messages(0, 1)).await.unwrap();
    upload(&mut blobs, other.messages(0, 1)).await.unwrap();

    // Another document's read capability, or none of the right length: as for a download.
    let mut stolen = doc.shorten(60);
    stolen.read_capability = other.shorten(60).read_capability;
    assert_eq!(code(blobs.shorten(stolen).await), Code::NotFound);
    let mut unknown = doc.shorten(60);
    unknown.blob_id = random::<32>().to_vec();
    assert_eq!(code(blobs.shorten(unknown).await), Code::NotFound);
    for ttl in [0, 59, 316_224_001] {
        let refused = blobs.shorten(doc.shorten(ttl)).await;
        assert_eq!(code(refused), Code::InvalidArgument, "ttl {ttl}");
    }

    let answer = blobs.shorten(doc.shorten(3600)).await.unwrap().into_inner();
    assert_eq!(answer.ttl_seconds, 3600);
    // Asking for longer keeps the shorter.
    let answer = blobs.shorten(doc.shorten(7200)).await.unwrap().into_inner();
    assert_eq!(answer.ttl_seconds, 3600);

    clock.advance(Duration::from_secs(3601));
    let deadline = Instant::now() + Duration::from_secs(10);
    while download(&mut blobs, doc.download(0)).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the shortened blob was never swept"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The other document, never shortened, is still there.
    let kept = download(&mut blobs, other.download(0)).await.unwrap();
    assert_eq!(other.open(&kept), other.content);
    assert_eq!(
        code(blobs.shorten(doc.shorten(60)).await),
        Code::NotFound,
        "gone"
    );
}
