//! Document sealing and opening against raw XChaCha20-Poly1305 on the same 64 KiB chunks, in
//! one run: the cost of the STREAM construction, the blob-id binding, the padding and the
//! chunk bookkeeping over the AEAD itself (issue 14's target: at least 70% of raw).
//!
//!     cargo bench -p parley-crypto --bench document

// A benchmark that fails to set up should stop loudly; criterion's macros write the
// undocumented functions.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use parley_crypto::document::{BlobId, DocumentKey, DocumentOpener, DocumentSealer, CHUNK_LEN};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

/// 4 MiB: a whole number of chunks, so that no padding is measured.
const DOCUMENT_LEN: usize = 64 * CHUNK_LEN;

/// The raw baseline's nonce for chunk `i`: a counter, as STREAM's is.
fn counter_nonce(i: usize) -> XNonce {
    let mut nonce = XNonce::default();
    nonce[..8].copy_from_slice(&(i as u64).to_be_bytes());
    nonce
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut content = vec![0u8; DOCUMENT_LEN];
    rng.fill_bytes(&mut content);
    let key = DocumentKey::generate(&mut rng);
    let blob = BlobId::generate(&mut rng);
    let raw = XChaCha20Poly1305::new(key.to_bytes().as_ref().into());

    let mut group = c.benchmark_group("document_4MiB");
    group.throughput(Throughput::Bytes(DOCUMENT_LEN as u64));
    group.sample_size(20);

    group.bench_function(BenchmarkId::new("raw_xchacha20poly1305", "seal"), |b| {
        b.iter(|| {
            let mut total = 0;
            for (i, chunk) in content.chunks(CHUNK_LEN).enumerate() {
                let nonce = counter_nonce(i);
                total += raw
                    .encrypt(
                        &nonce,
                        Payload {
                            msg: chunk,
                            aad: blob.as_bytes(),
                        },
                    )
                    .unwrap()
                    .len();
            }
            total
        })
    });
    group.bench_function(BenchmarkId::new("document", "seal"), |b| {
        b.iter(|| {
            let mut sealer = DocumentSealer::new(&key, blob, DOCUMENT_LEN as u64).unwrap();
            let mut total = 0;
            for chunk in content.chunks(CHUNK_LEN) {
                total += sealer
                    .push(chunk)
                    .unwrap()
                    .iter()
                    .map(Vec::len)
                    .sum::<usize>();
            }
            total + sealer.finish().unwrap().iter().map(Vec::len).sum::<usize>()
        })
    });

    let raw_sealed: Vec<Vec<u8>> = content
        .chunks(CHUNK_LEN)
        .enumerate()
        .map(|(i, chunk)| {
            let nonce = counter_nonce(i);
            raw.encrypt(
                &nonce,
                Payload {
                    msg: chunk,
                    aad: blob.as_bytes(),
                },
            )
            .unwrap()
        })
        .collect();
    let mut sealer = DocumentSealer::new(&key, blob, DOCUMENT_LEN as u64).unwrap();
    let mut sealed = sealer.push(&content).unwrap();
    sealed.extend(sealer.finish().unwrap());

    group.bench_function(BenchmarkId::new("raw_xchacha20poly1305", "open"), |b| {
        b.iter(|| {
            let mut total = 0;
            for (i, chunk) in raw_sealed.iter().enumerate() {
                let nonce = counter_nonce(i);
                total += raw
                    .decrypt(
                        &nonce,
                        Payload {
                            msg: chunk,
                            aad: blob.as_bytes(),
                        },
                    )
                    .unwrap()
                    .len();
            }
            total
        })
    });
    group.bench_function(BenchmarkId::new("document", "open"), |b| {
        b.iter(|| {
            let mut opener = DocumentOpener::new(&key, blob, DOCUMENT_LEN as u64).unwrap();
            let mut total = 0;
            for chunk in &sealed {
                total += opener.open(chunk).unwrap().len();
            }
            opener.finish().unwrap();
            total
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
