//! Key rotations: decode_and_verify must not panic on any bytes; a verified rotation keeps its
//! exact bytes, names two records of one handle in order, and re-verifies; following a chain
//! of whatever verified never panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::rotation::{follow_chain, Rotation};

fuzz_target!(|data: &[u8]| {
    if let Ok(rotation) = Rotation::decode_and_verify(data) {
        assert_eq!(rotation.as_bytes(), data);
        let (old, new) = (rotation.old().record(), rotation.new_record().record());
        assert_eq!(old.handle, new.handle);
        assert!(new.record_version > old.record_version);
        assert_eq!(Rotation::decode_and_verify(rotation.as_bytes()), Ok(rotation.clone()));
        let pinned = old.identity_key;
        let current = rotation.new_record().clone();
        assert_eq!(follow_chain(&pinned, &[rotation], &current), Ok(()));
    }
    // The same bytes split into two halves, each a would-be rotation of one chain.
    let (a, b) = data.split_at(data.len() / 2);
    let chain: Vec<Rotation> = [a, b]
        .iter()
        .filter_map(|half| Rotation::decode_and_verify(half).ok())
        .collect();
    if let Some(last) = chain.last() {
        let pinned = chain[0].old().record().identity_key;
        let _ = follow_chain(&pinned, &chain, last.new_record());
    }
});
