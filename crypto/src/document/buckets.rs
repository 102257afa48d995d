//! Stored sizes: a document's content is padded to a bucket so that its exact size stays
//! with the members, and cut into chunks of [`CHUNK_LEN`].

/// Plaintext bytes per sealed chunk.
pub const CHUNK_LEN: usize = 64 * 1024;
/// Largest document, in content bytes (what the format allows; a relay may set less).
pub const MAX_DOCUMENT_LEN: u64 = 1 << 40;

/// The stored (padded) size of a document of `size` content bytes: at least one chunk, then
/// the next of `2^k` and `1.5 * 2^k` chunks. A document grows by at most half, and sizes
/// within the same bucket (10.2 MB and 10.9 MB both become 12 MiB) look alike.
pub fn padded_len(size: u64) -> u64 {
    let chunk = CHUNK_LEN as u64;
    let mut bucket = chunk;
    while bucket < size {
        let half_step = bucket.saturating_add(bucket / 2);
        if half_step >= size {
            return half_step;
        }
        // Saturating: a size read from a damaged record may be near u64::MAX, where doubling
        // would wrap to 0 and never end the loop.
        bucket = bucket.saturating_mul(2);
    }
    bucket
}

/// How many sealed chunks a document of `size` content bytes has.
pub fn chunk_count(size: u64) -> u64 {
    padded_len(size).div_ceil(CHUNK_LEN as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1_000_000;
    const MIB: u64 = 1 << 20;

    #[test]
    fn any_size_has_a_bucket_even_beyond_the_format_limit() {
        // Found by the store_records fuzz target: a stored size above 2^63 looped forever.
        for size in [u64::MAX, u64::MAX / 2 + 2, 1 << 63, (1 << 62) * 3 + 1] {
            assert!(padded_len(size) >= size, "{size}");
        }
        assert!(chunk_count(u64::MAX) > 0);
    }

    #[test]
    fn sizes_in_one_bucket_are_stored_alike_and_grow_by_at_most_half() {
        assert_eq!(padded_len(0), CHUNK_LEN as u64);
        assert_eq!(padded_len(1), CHUNK_LEN as u64);
        assert_eq!(padded_len(64 * 1024 + 1), 96 * 1024);
        assert_eq!(padded_len(10_200_000), padded_len(10_900_000));
        assert_eq!(padded_len(10 * MB + 200_000), 12 * MIB);
        for size in [1u64, 65_537, 3 * MB, 10 * MB, 200 * MB, 256 * MIB, 1 << 30] {
            let padded = padded_len(size);
            assert!(padded >= size);
            assert!(
                padded <= (size * 3 / 2).max(CHUNK_LEN as u64),
                "{size} -> {padded}"
            );
            assert_eq!(padded % (32 * 1024), 0);
        }
        assert_eq!(chunk_count(1), 1);
        assert_eq!(chunk_count(96 * 1024), 2);
        assert_eq!(chunk_count(256 * MIB), 4096);
    }
}
