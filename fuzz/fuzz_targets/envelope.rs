//! Sealed envelopes: opening arbitrary bytes with a fixed recipient key must not panic, and
//! any message sealed from fuzz bytes must open and authenticate to exactly those bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::envelope::{open, seal, seal_with_record, ENVELOPE_OVERHEAD};
use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxSecretKey;
use parley_crypto::padding::MAX_PADDED_LEN;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Fixed keys, the same as fuzz/examples/gen_corpus.rs seals its seeds with.
const ALICE_INBOX: [u8; 32] = [0xa1; 32];
const BOB_INBOX: [u8; 32] = [0xb0; 32];

fuzz_target!(|data: &[u8]| {
    let alice = Handle::parse("alice").unwrap();
    let bob = Handle::parse("bob").unwrap();
    let alice_inbox = InboxSecretKey::from_bytes(ALICE_INBOX);
    let bob_inbox = InboxSecretKey::from_bytes(BOB_INBOX);

    if let Ok(opened) = open(data, &bob, &bob_inbox) {
        let sender = opened.sender().clone();
        let result = opened.authenticate(&alice_inbox.public_key());
        // Only Alice's key authenticates anything in this setup.
        if result.is_ok() {
            assert_eq!(sender, alice);
        }
    }

    // Round trip: the fuzz bytes as message, the first 8 as RNG seed.
    let seed = data
        .get(..8)
        .map(|b| u64::from_le_bytes(b.try_into().unwrap()))
        .unwrap_or(0);
    let mut rng = StdRng::seed_from_u64(seed);
    let fits = data.len() + 4 + 1 + 32 + 32 + 16 + ENVELOPE_OVERHEAD <= MAX_PADDED_LEN;
    match seal(
        &mut rng,
        data,
        &alice,
        &alice_inbox,
        &bob,
        &bob_inbox.public_key(),
    ) {
        Ok(envelope) => {
            let opened = open(&envelope, &bob, &bob_inbox).expect("own envelope opens");
            assert_eq!(opened.sender(), &alice);
            let message = opened
                .authenticate(&alice_inbox.public_key())
                .expect("own envelope authenticates");
            assert_eq!(message, data);
        }
        Err(error) => assert!(!fits, "seal refused a message that fits: {error}"),
    }

    // v2: the first bytes (up to 200) also serve as the sender's record, which must come
    // back unchanged and be needed to authenticate.
    let record = &data[..data.len().min(200)];
    let fits = fits && data.len() + 2 + record.len() + 4 + 1 + 32 + 32 + 16 + ENVELOPE_OVERHEAD
        <= MAX_PADDED_LEN;
    match seal_with_record(
        &mut rng,
        data,
        &alice,
        &alice_inbox,
        record,
        &bob,
        &bob_inbox.public_key(),
    ) {
        Ok(envelope) => {
            let opened = open(&envelope, &bob, &bob_inbox).expect("own v2 envelope opens");
            assert_eq!(opened.sender_record(), Some(record));
            let message = opened
                .authenticate(&alice_inbox.public_key())
                .expect("own v2 envelope authenticates");
            assert_eq!(message, data);
        }
        Err(error) => assert!(!fits, "seal refused a v2 message that fits: {error}"),
    }
});
