//! Documents: a document reference decodes canonically or is a typed error; opening any
//! sequence of chunks under a fixed key never panics and hands out no more than the declared
//! size; sealing fuzz content in fuzz-sized pieces opens back to it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use parley_crypto::document::{
    BlobId, DocumentKey, DocumentOpener, DocumentReference, DocumentSealer,
};

fuzz_target!(|data: &[u8]| {
    if let Ok(reference) = DocumentReference::decode(data) {
        assert_eq!(reference.encode().expect("a decoded reference encodes"), data);
    }

    let key = DocumentKey::from_bytes([7; 32]);
    let blob = BlobId::from_bytes([9; 32]);

    // `u32 BE size | u32 BE chunk length | chunk | u32 BE length | chunk ...`: served chunks.
    if let Some((size, mut rest)) = data.split_first_chunk::<4>() {
        let size = u64::from(u32::from_be_bytes(*size) % (1 << 20));
        if let Ok(mut opener) = DocumentOpener::new(&key, blob, size) {
            let mut content = Vec::new();
            let mut ok = true;
            while let Some((len, tail)) = rest.split_first_chunk::<4>() {
                let len = usize::try_from(u32::from_be_bytes(*len))
                    .unwrap_or(usize::MAX)
                    .min(tail.len());
                let (chunk, tail) = tail.split_at(len);
                rest = tail;
                match opener.open(chunk) {
                    Ok(part) => content.extend(part),
                    Err(_) => {
                        ok = false;
                        break;
                    }
                }
            }
            if ok && opener.finish().is_ok() {
                assert_eq!(content.len() as u64, size);
            }
        }
    }

    // Round trip: the input itself as content, pushed in pieces of its first byte's size.
    let piece = usize::from(data.first().copied().unwrap_or(1).max(1)) * 97;
    let mut sealer = DocumentSealer::new(&key, blob, data.len() as u64).expect("small size");
    let mut chunks = Vec::new();
    for part in data.chunks(piece) {
        chunks.extend(sealer.push(part).expect("declared size"));
    }
    chunks.extend(sealer.finish().expect("whole content"));
    let mut opener = DocumentOpener::new(&key, blob, data.len() as u64).expect("small size");
    let mut opened = Vec::new();
    for chunk in &chunks {
        opened.extend(opener.open(chunk).expect("own chunk opens"));
    }
    opener.finish().expect("complete");
    assert_eq!(opened, data);
});
