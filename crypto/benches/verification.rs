//! Safety numbers and group codes against the SHA-512 chain they are made of, in one run.
//! Both iterate SHA-512 5200 times on purpose (to make a forged match costly), so the honest
//! baseline is that same chain over inputs of the same lengths, not a single hash: the ratio
//! prices the encoding, the roster sort and the digit formatting. The single SHA-512 of the
//! input is measured too, to show what the iterations cost.
//!
//! - safety number: two chains (one per party) over 64 + 32 bytes each;
//! - group code, at 2, 10, 100 and 1000 members: one chain over 64 bytes plus the encoded
//!   roster and a 32-byte epoch authenticator.
//!
//!     cargo bench -p parley-crypto --bench verification

// A benchmark that fails to set up should stop loudly; criterion's macros write the
// undocumented functions.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use parley_crypto::group_code::{self, GroupCode};
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentityPublicKey, IdentitySecretKey};
use parley_crypto::safety_number::{self, SafetyNumber};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use sha2::{Digest, Sha512};

const ROSTER_SIZES: [usize; 4] = [2, 10, 100, 1000];

/// The iteration both codes run: `h = SHA-512(h || input)`, `iterations` times.
fn chain(mut h: sha2::digest::Output<Sha512>, input: &[u8], iterations: usize) -> [u8; 64] {
    for _ in 0..iterations {
        h = Sha512::new().chain_update(h).chain_update(input).finalize();
    }
    h.into()
}

fn party(name: &str, rng: &mut StdRng) -> (Handle, IdentityPublicKey) {
    (
        Handle::parse(name).unwrap(),
        IdentitySecretKey::generate(rng).public_key(),
    )
}

/// Random bytes of `len`, standing for an input of that length.
fn bytes(len: usize, rng: &mut StdRng) -> Vec<u8> {
    let mut out = vec![0u8; len];
    rng.fill_bytes(&mut out);
    out
}

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);

    let (ha, ka) = party("alice", &mut rng);
    let (hb, kb) = party("bob", &mut rng);
    // Each party's first hash covers version (2), key (32) and handle; the chain its key.
    let (first_a, first_b) = (
        bytes(2 + 32 + ha.as_bytes().len(), &mut rng),
        bytes(2 + 32 + hb.as_bytes().len(), &mut rng),
    );
    let key = bytes(32, &mut rng);
    let mut group = c.benchmark_group("safety_number");
    group.sample_size(20);
    group.bench_function("raw_sha512_once", |b| {
        b.iter(|| Sha512::digest(black_box(&first_a)))
    });
    group.bench_function("raw_sha512_chain", |b| {
        b.iter(|| {
            let a = chain(Sha512::digest(&first_a), &key, safety_number::ITERATIONS);
            let b = chain(Sha512::digest(&first_b), &key, safety_number::ITERATIONS);
            (a, b)
        })
    });
    group.bench_function("safety_number", |b| {
        b.iter(|| SafetyNumber::compute((&ha, &ka), (&hb, &kb)))
    });
    group.finish();

    let mut group = c.benchmark_group("group_code");
    group.sample_size(20);
    let authenticator = bytes(32, &mut rng);
    for n in ROSTER_SIZES {
        let roster: Vec<(Handle, IdentityPublicKey)> = (0..n)
            .map(|i| party(&format!("member{i:04}"), &mut rng))
            .collect();
        let refs: Vec<(&Handle, &IdentityPublicKey)> = roster.iter().map(|(h, k)| (h, k)).collect();
        // The encoding: domain, count, each member (length byte, handle, key), the
        // authenticator's length and the authenticator.
        let encoded_len = b"parley/v1/group-code".len()
            + 4
            + roster
                .iter()
                .map(|(h, _)| 1 + h.as_bytes().len() + 32)
                .sum::<usize>()
            + 4
            + authenticator.len();
        let input = bytes(encoded_len, &mut rng);
        group.bench_function(BenchmarkId::new("raw_sha512_once", n), |b| {
            b.iter(|| Sha512::digest(black_box(&input)))
        });
        group.bench_function(BenchmarkId::new("raw_sha512_chain", n), |b| {
            b.iter(|| chain(Sha512::digest(&input), &input, group_code::ITERATIONS))
        });
        group.bench_function(BenchmarkId::new("group_code", n), |b| {
            b.iter(|| GroupCode::compute(&refs, &authenticator))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
