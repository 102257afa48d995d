//! The MLS engine with outside bytes, on Bob's side of a fixed two-member group (loaded once
//! from fuzz/fixtures/mls_bob_state.bin, which fuzz/examples/gen_corpus.rs writes with the
//! seeds): the first byte picks `process` (of the rest padded into a frame, or of the raw
//! rest as a frame), `inspect_key_package` or `stage_welcome`. Every call must return, never
//! panic, and the state is rolled back after each input. A KeyPackage is only ever accepted
//! in a frame of exactly a padding bucket.
#![no_main]

use std::cell::RefCell;

use libfuzzer_sys::fuzz_target;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::{Incoming, Mls};
use parley_crypto::padding;

/// The group fixture: written by gen_corpus, kept in the repository.
const STATE: &[u8] = include_bytes!("../fixtures/mls_bob_state.bin");
/// Bob's identity seed (as in gen_corpus).
const BOB_IDENTITY: [u8; 32] = [0xb1; 32];

/// `u32 BE count | (u32 BE len | group id[32])...` then key/value pairs, see gen_corpus.
fn parse_state(mut bytes: &[u8]) -> ([u8; 32], Vec<(Vec<u8>, Vec<u8>)>) {
    let mut take = |n: usize| {
        let (head, tail) = bytes.split_at(n);
        bytes = tail;
        head.to_vec()
    };
    let group: [u8; 32] = take(32).try_into().unwrap();
    let count = u32::from_be_bytes(take(4).try_into().unwrap());
    let mut pairs = Vec::new();
    for _ in 0..count {
        let klen = u32::from_be_bytes(take(4).try_into().unwrap()) as usize;
        let key = take(klen);
        let vlen = u32::from_be_bytes(take(4).try_into().unwrap()) as usize;
        let value = take(vlen);
        pairs.push((key, value));
    }
    (group, pairs)
}

thread_local! {
    static BOB: RefCell<([u8; 32], Mls)> = RefCell::new({
        let (group, state) = parse_state(STATE);
        let handle = Handle::parse("bob").unwrap();
        let identity = IdentitySecretKey::from_bytes(&BOB_IDENTITY);
        let mls = Mls::new(handle, &identity, state).unwrap();
        assert!(mls.has_group(&group), "fixture holds the group");
        (group, mls)
    });
}

/// The time the engine is given: any fixed time serves, as the bytes decide the lifetimes.
const FUZZ_NOW_MS: u64 = 1_800_000_000_000;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    BOB.with(|bob| {
        let mut bob = bob.borrow_mut();
        let (group, mls) = &mut *bob;
        let epoch = mls.epoch(group).unwrap();
        match selector % 4 {
            0 => {
                if let Ok(frame) = padding::pad(rest, 0) {
                    if let Ok(Incoming::Commit(commit)) = mls.process(group, &frame) {
                        // Vetting then merging a staged commit must not panic either.
                        let _ = commit.added().len() + commit.removed().len();
                        let _ = mls.merge_incoming_commit(group, commit);
                    }
                }
            }
            1 => {
                let _ = mls.process(group, rest);
            }
            2 => {
                if mls.inspect_key_package(rest, FUZZ_NOW_MS).is_ok() {
                    assert!(padding::is_bucket(rest.len()), "unpadded KeyPackage taken");
                }
            }
            _ => {
                if let Ok(welcome) = mls.stage_welcome(rest) {
                    let _ = welcome.members().len();
                    let _ = mls.join(welcome);
                }
            }
        }
        // Each input starts from the fixture's state.
        mls.discard_changes();
        assert_eq!(mls.epoch(group).unwrap(), epoch);
    });
});
