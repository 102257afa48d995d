//! Documents sealed and opened chunk by chunk: round trips at every size boundary, and each
//! thing a hostile relay can do to the stored chunks (flip, truncate, reorder, swap with
//! another document's, serve under another blob id) detected before content is trusted.

// Test helpers outside #[test] functions unwrap too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::document::{
    capability_hash, chunk_count, padded_len, BlobId, DocumentError, DocumentKey, DocumentOpener,
    DocumentSealer, WriteCapability, CHUNK_LEN, CHUNK_OVERHEAD,
};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

fn content(len: usize, seed: u64) -> Vec<u8> {
    let mut bytes = vec![0u8; len];
    StdRng::seed_from_u64(seed).fill_bytes(&mut bytes);
    bytes
}

/// Seals `content` pushed in pieces of `piece` bytes.
fn seal(key: &DocumentKey, blob: BlobId, content: &[u8], piece: usize) -> Vec<Vec<u8>> {
    let mut sealer = DocumentSealer::new(key, blob, content.len() as u64).unwrap();
    let mut chunks = Vec::new();
    for part in content.chunks(piece.max(1)) {
        chunks.extend(sealer.push(part).unwrap());
    }
    chunks.extend(sealer.finish().unwrap());
    chunks
}

/// Opens `chunks`; the content, or the first error.
fn open(
    key: &DocumentKey,
    blob: BlobId,
    size: usize,
    chunks: &[Vec<u8>],
) -> Result<Vec<u8>, DocumentError> {
    let mut opener = DocumentOpener::new(key, blob, size as u64)?;
    let mut out = Vec::new();
    for chunk in chunks {
        out.extend(opener.open(chunk)?);
    }
    opener.finish()?;
    Ok(out)
}

fn fresh(seed: u64) -> (DocumentKey, BlobId) {
    let mut rng = StdRng::seed_from_u64(seed);
    (DocumentKey::generate(&mut rng), BlobId::generate(&mut rng))
}

#[test]
fn documents_of_every_boundary_size_round_trip_at_their_bucket_size() {
    let (key, blob) = fresh(1);
    for size in [
        0,
        1,
        CHUNK_LEN - 1,
        CHUNK_LEN,
        CHUNK_LEN + 1,
        3 * CHUNK_LEN / 2,
        5 * CHUNK_LEN + 17,
        1_000_000,
    ] {
        let data = content(size, size as u64);
        for piece in [1000, CHUNK_LEN, 3 * CHUNK_LEN + 5] {
            let chunks = seal(&key, blob, &data, piece);
            assert_eq!(chunks.len() as u64, chunk_count(size as u64), "{size}");
            let stored: usize = chunks.iter().map(Vec::len).sum();
            assert_eq!(
                stored as u64,
                padded_len(size as u64) + (chunks.len() * CHUNK_OVERHEAD) as u64
            );
            assert_eq!(
                open(&key, blob, size, &chunks).unwrap(),
                data,
                "{size}/{piece}"
            );
        }
    }
}

#[test]
fn a_hostile_store_is_detected_whatever_it_does_to_the_chunks() {
    let (key, blob) = fresh(2);
    let size = 4 * CHUNK_LEN + 100;
    let data = content(size, 7);
    let chunks = seal(&key, blob, &data, CHUNK_LEN);
    assert_eq!(
        chunks.len(),
        6,
        "4 full chunks, the rest padded to 6 chunks (96 * 4 KiB)"
    );

    let mut flipped = chunks.clone();
    flipped[2][100] ^= 1;
    assert_eq!(
        open(&key, blob, size, &flipped),
        Err(DocumentError::BadChunk)
    );

    let truncated = &chunks[..5];
    assert_eq!(
        open(&key, blob, size, truncated),
        Err(DocumentError::Truncated)
    );
    // The second-to-last chunk served again in the last one's place (lengths plausible).
    let mut cut = chunks[..5].to_vec();
    cut.push(chunks[4].clone());
    assert_eq!(open(&key, blob, size, &cut), Err(DocumentError::BadChunk));

    let mut reordered = chunks.clone();
    reordered.swap(1, 2);
    assert_eq!(
        open(&key, blob, size, &reordered),
        Err(DocumentError::BadChunk)
    );

    // Another document's chunk at the same place, under another key or even the same one.
    let (other_key, other_blob) = fresh(3);
    let other = seal(&other_key, other_blob, &content(size, 8), CHUNK_LEN);
    let mut spliced = chunks.clone();
    spliced[3] = other[3].clone();
    assert_eq!(
        open(&key, blob, size, &spliced),
        Err(DocumentError::BadChunk)
    );
    let same_key_other_blob = seal(&key, other_blob, &content(size, 9), CHUNK_LEN);
    let mut spliced = chunks.clone();
    spliced[3] = same_key_other_blob[3].clone();
    assert_eq!(
        open(&key, blob, size, &spliced),
        Err(DocumentError::BadChunk)
    );

    // The whole document served for another blob id, or opened with another key.
    assert_eq!(
        open(&key, other_blob, size, &chunks),
        Err(DocumentError::BadChunk)
    );
    assert_eq!(
        open(&other_key, blob, size, &chunks),
        Err(DocumentError::BadChunk)
    );

    // A chunk of the wrong length, or one past the last.
    let mut short = chunks.clone();
    short[0].pop();
    assert_eq!(
        open(&key, blob, size, &short),
        Err(DocumentError::BadChunkLength)
    );
    let mut extra = chunks.clone();
    extra.push(chunks[5].clone());
    assert_eq!(
        open(&key, blob, size, &extra),
        Err(DocumentError::BadChunkLength)
    );

    // A size other than the one sealed (a forged reference) does not open either.
    assert!(open(&key, blob, size + CHUNK_LEN * 4, &chunks).is_err());
    assert_eq!(open(&key, blob, size, &chunks).unwrap(), data);
}

#[test]
fn the_sealer_takes_exactly_the_declared_size() {
    let (key, blob) = fresh(4);
    let mut sealer = DocumentSealer::new(&key, blob, 10).unwrap();
    assert_eq!(sealer.push(&[1; 11]), Err(DocumentError::SizeMismatch));
    sealer.push(&[1; 9]).unwrap();
    assert_eq!(sealer.finish().err(), Some(DocumentError::SizeMismatch));
    assert!(DocumentSealer::new(&key, blob, u64::MAX).is_err());
}

#[test]
fn capabilities_are_bound_to_the_key_and_blob_and_stored_only_as_hashes() {
    let (key, blob) = fresh(5);
    let (other_key, other_blob) = fresh(6);
    let read = key.read_capability(&blob);
    assert_eq!(read.as_bytes(), key.read_capability(&blob).as_bytes());
    assert_ne!(read.as_bytes(), key.read_capability(&other_blob).as_bytes());
    assert_ne!(read.as_bytes(), other_key.read_capability(&blob).as_bytes());
    assert_eq!(read.hash(), capability_hash(read.as_bytes()));
    assert_ne!(&read.hash(), read.as_bytes());
    let write = WriteCapability::generate(&mut StdRng::seed_from_u64(7));
    assert_ne!(write.hash(), read.hash());
}
