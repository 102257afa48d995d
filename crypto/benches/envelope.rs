//! Inbox envelopes sealed and opened against a raw one-layer sealed box of the same bytes, in
//! one run, at 1 KiB and 64 KiB: what the two HPKE layers (an outer Base layer to hide the
//! sender, an inner Auth layer to authenticate it), the sender binding and the padding to a
//! bucket cost over the least a sealed message needs.
//!
//! The raw baseline is one ephemeral X25519 key, one X25519 DH and ChaCha20-Poly1305 (the
//! envelope's AEAD) over the message, keyed with the DH output directly (no KDF). A seal does
//! five X25519 scalar multiplications (two ephemeral keys, three DHs) and two AEAD passes;
//! opening and authenticating does three DHs and two AEAD passes; so the ratio is mostly
//! protocol, not overhead.
//!
//!     cargo bench -p parley-crypto --bench envelope

// A benchmark that fails to set up should stop loudly; criterion's macros write the
// undocumented functions.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{ChaCha20Poly1305, Nonce};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use parley_crypto::envelope::{open, seal};
use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxSecretKey;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use x25519_dalek::{EphemeralSecret, PublicKey, StaticSecret};

const SIZES: [(usize, &str); 2] = [(1024, "1KiB"), (64 * 1024, "64KiB")];

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let alice = Handle::parse("alice").unwrap();
    let bob = Handle::parse("bob").unwrap();
    let alice_inbox = InboxSecretKey::generate(&mut rng);
    let bob_inbox = InboxSecretKey::generate(&mut rng);
    let bob_public = bob_inbox.public_key();
    let alice_public = alice_inbox.public_key();
    let raw_secret = StaticSecret::random_from_rng(&mut rng);
    let raw_public = PublicKey::from(&raw_secret);
    // A fresh key per message, so a fixed nonce is sound.
    let nonce = Nonce::default();

    for (len, name) in SIZES {
        let mut message = vec![0u8; len];
        rng.fill_bytes(&mut message);
        let mut group = c.benchmark_group(format!("envelope_{name}"));
        group.throughput(Throughput::Bytes(len as u64));
        group.sample_size(20);

        group.bench_function(
            BenchmarkId::new("raw_x25519_chacha20poly1305", "seal"),
            |b| {
                b.iter(|| {
                    let ephemeral = EphemeralSecret::random_from_rng(&mut rng);
                    let enc = PublicKey::from(&ephemeral);
                    let shared = ephemeral.diffie_hellman(&raw_public);
                    let aead = ChaCha20Poly1305::new(shared.as_bytes().into());
                    (enc, aead.encrypt(&nonce, message.as_slice()).unwrap())
                })
            },
        );
        group.bench_function(BenchmarkId::new("envelope", "seal"), |b| {
            b.iter(|| seal(&mut rng, &message, &alice, &alice_inbox, &bob, &bob_public).unwrap())
        });

        let ephemeral = EphemeralSecret::random_from_rng(&mut rng);
        let enc = PublicKey::from(&ephemeral);
        let shared = ephemeral.diffie_hellman(&raw_public);
        let raw_sealed = ChaCha20Poly1305::new(shared.as_bytes().into())
            .encrypt(&nonce, message.as_slice())
            .unwrap();
        let sealed = seal(&mut rng, &message, &alice, &alice_inbox, &bob, &bob_public).unwrap();

        group.bench_function(
            BenchmarkId::new("raw_x25519_chacha20poly1305", "open"),
            |b| {
                b.iter(|| {
                    let shared = raw_secret.diffie_hellman(&enc);
                    ChaCha20Poly1305::new(shared.as_bytes().into())
                        .decrypt(&nonce, raw_sealed.as_slice())
                        .unwrap()
                })
            },
        );
        group.bench_function(BenchmarkId::new("envelope", "open"), |b| {
            b.iter(|| {
                open(&sealed, &bob, &bob_inbox)
                    .unwrap()
                    .authenticate(&alice_public)
                    .unwrap()
            })
        });
        group.finish();
        println!("envelope_{name}: sealed length {} bytes", sealed.len());
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
