//! Negative and privacy tests of sealed envelopes through the public API.

// A test binary: helpers outside #[test] fns should fail loudly on bad fixtures too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::envelope::{open, seal, OpenError, ENVELOPE_OVERHEAD};
use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxSecretKey;
use parley_crypto::padding::is_bucket;
use rand::rngs::StdRng;
use rand::SeedableRng;

struct Party {
    handle: Handle,
    inbox: InboxSecretKey,
}

fn party(name: &str, rng: &mut StdRng) -> Party {
    Party {
        handle: Handle::parse(name).unwrap(),
        inbox: InboxSecretKey::generate(rng),
    }
}

fn sealed(rng: &mut StdRng, from: &Party, to: &Party, msg: &[u8]) -> Vec<u8> {
    seal(
        rng,
        msg,
        &from.handle,
        &from.inbox,
        &to.handle,
        &to.inbox.public_key(),
    )
    .unwrap()
}

/// Opens and authenticates in one go, as a client would after pinning the sender's key.
fn receive(env: &[u8], to: &Party, from: &Party) -> Result<Vec<u8>, OpenError> {
    open(env, &to.handle, &to.inbox)?.authenticate(&from.inbox.public_key())
}

#[test]
fn every_tampered_byte_is_rejected() {
    let mut rng = StdRng::seed_from_u64(1);
    let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
    let env = sealed(&mut rng, &alice, &bob, b"attack at dawn");
    assert_eq!(receive(&env, &bob, &alice).unwrap(), b"attack at dawn");
    for i in 0..env.len() {
        for mask in [0x01u8, 0x80] {
            let mut t = env.clone();
            t[i] ^= mask;
            let err = receive(&t, &bob, &alice).unwrap_err();
            if i == 0 {
                assert!(matches!(err, OpenError::UnknownVersion(_)));
            } else {
                // One coarse error whatever failed: no oracle about which check tripped.
                assert_eq!(err, OpenError::Decryption, "byte {i} mask {mask:#x}");
            }
        }
    }
}

#[test]
fn wrong_sender_key_is_rejected() {
    let mut rng = StdRng::seed_from_u64(2);
    let alice = party("alice", &mut rng);
    let bob = party("bob", &mut rng);
    let mallory = party("mallory", &mut rng);
    let env = sealed(&mut rng, &alice, &bob, b"hello");
    // Claimed sender is alice, but bob checks it against mallory's key: refused.
    let opened = open(&env, &bob.handle, &bob.inbox).unwrap();
    assert_eq!(opened.sender(), &alice.handle);
    assert_eq!(
        opened.authenticate(&mallory.inbox.public_key()),
        Err(OpenError::Decryption)
    );
}

#[test]
fn forged_sender_claim_is_rejected() {
    let mut rng = StdRng::seed_from_u64(3);
    let alice = party("alice", &mut rng);
    let bob = party("bob", &mut rng);
    let mallory = party("mallory", &mut rng);
    // Mallory seals with her own key but claims to be alice.
    let env = seal(
        &mut rng,
        b"it's me, alice",
        &alice.handle,
        &mallory.inbox,
        &bob.handle,
        &bob.inbox.public_key(),
    )
    .unwrap();
    let opened = open(&env, &bob.handle, &bob.inbox).unwrap();
    assert_eq!(opened.sender(), &alice.handle);
    assert_eq!(
        opened.authenticate(&alice.inbox.public_key()),
        Err(OpenError::Decryption)
    );
}

#[test]
fn wrong_recipient_cannot_open() {
    let mut rng = StdRng::seed_from_u64(4);
    let alice = party("alice", &mut rng);
    let bob = party("bob", &mut rng);
    let carol = party("carol", &mut rng);
    let env = sealed(&mut rng, &alice, &bob, b"for bob");
    assert_eq!(
        open(&env, &carol.handle, &carol.inbox).unwrap_err(),
        OpenError::Decryption
    );
    // Bob's key but another recipient handle: the inner layer is bound to "bob".
    let opened = open(&env, &carol.handle, &bob.inbox).unwrap();
    assert_eq!(
        opened.authenticate(&alice.inbox.public_key()),
        Err(OpenError::Decryption)
    );
}

#[test]
fn trailing_and_missing_bytes_are_rejected() {
    let mut rng = StdRng::seed_from_u64(5);
    let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
    let env = sealed(&mut rng, &alice, &bob, b"x");
    let mut longer = env.clone();
    longer.push(0);
    assert_eq!(receive(&longer, &bob, &alice), Err(OpenError::Malformed));
    assert_eq!(
        receive(&env[..env.len() - 1], &bob, &alice),
        Err(OpenError::Malformed)
    );
    // Growing to the next bucket keeps the length plausible; the AEAD still refuses it.
    let mut padded = env.clone();
    padded.resize(512, 0);
    assert_eq!(receive(&padded, &bob, &alice), Err(OpenError::Decryption));
    assert_eq!(receive(&[], &bob, &alice), Err(OpenError::Malformed));
}

#[test]
fn length_is_always_a_bucket() {
    let mut rng = StdRng::seed_from_u64(6);
    let alice = party("alice", &mut rng);
    let bob = party("a-much-longer-handle.for_bob", &mut rng);
    for len in [
        0usize, 1, 100, 150, 160, 161, 200, 300, 463, 464, 1000, 4000, 65_000, 70_000, 200_000,
    ] {
        let msg = vec![0x5a; len];
        let env = sealed(&mut rng, &alice, &bob, &msg);
        assert!(is_bucket(env.len()), "len {len} -> {}", env.len());
        assert!(env.len() >= len + ENVELOPE_OVERHEAD);
        assert_eq!(receive(&env, &bob, &alice).unwrap(), msg);
    }
    // Same-bucket messages of different lengths are indistinguishable by size.
    let a = sealed(&mut rng, &alice, &bob, b"y");
    let b = sealed(&mut rng, &alice, &bob, &[0u8; 100]);
    assert_eq!(a.len(), b.len());
}

#[test]
fn too_large_message_is_refused() {
    let mut rng = StdRng::seed_from_u64(7);
    let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
    let err = seal(
        &mut rng,
        &vec![0u8; 1 << 20],
        &alice.handle,
        &alice.inbox,
        &bob.handle,
        &bob.inbox.public_key(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("too large"));
}

#[test]
fn relay_visible_bytes_do_not_contain_sender_handle() {
    let mut rng = StdRng::seed_from_u64(8);
    let alice = party("alice.the.sender.of.this", &mut rng);
    let bob = party("bob", &mut rng);
    for _ in 0..20 {
        let env = sealed(&mut rng, &alice, &bob, b"secret hello");
        let h = alice.handle.as_bytes();
        assert!(!env.windows(h.len()).any(|w| w == h));
        // Nor the sender's inbox public key.
        let k = alice.inbox.public_key().to_bytes();
        assert!(!env.windows(32).any(|w| w == k));
        assert!(!env.windows(12).any(|w| w == b"secret hello"));
    }
}

#[test]
fn two_seals_of_the_same_message_differ() {
    let mut rng = StdRng::seed_from_u64(9);
    let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
    let a = sealed(&mut rng, &alice, &bob, b"same");
    let b = sealed(&mut rng, &alice, &bob, b"same");
    assert_ne!(a, b);
}
