//! Key and value layouts shared by the store's trees.
//!
//! Numbers are big-endian so that sled's byte order is numeric order. Handles are prefixed
//! with their length so that one handle's range never contains another handle's keys.

use parley_crypto::handle::Handle;

use super::StoreError;

/// `u8 len | handle`: the prefix of every per-handle key.
pub(super) fn handle_prefix(handle: &Handle) -> Vec<u8> {
    let bytes = handle.as_str().as_bytes();
    let mut key = Vec::with_capacity(1 + bytes.len() + 8);
    // A parsed handle is at most 32 bytes, so its length fits in a byte.
    key.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
    key.extend_from_slice(bytes);
    key
}

/// `prefix | u64 BE n`.
pub(super) fn with_u64(prefix: &[u8], n: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&n.to_be_bytes());
    key
}

/// Reads the big-endian u64 at `at`.
pub(super) fn read_u64(bytes: &[u8], at: usize, what: &'static str) -> Result<u64, StoreError> {
    bytes
        .get(at..at + 8)
        .and_then(|b| <[u8; 8]>::try_from(b).ok())
        .map(u64::from_be_bytes)
        .ok_or(StoreError::Corrupt(what))
}

/// Reads the u64 that ends a key (the sequence number after a prefix).
pub(super) fn key_suffix_u64(key: &[u8], what: &'static str) -> Result<u64, StoreError> {
    let at = key.len().checked_sub(8).ok_or(StoreError::Corrupt(what))?;
    read_u64(key, at, what)
}

/// The part of a key before its final u64 (the handle prefix of a per-handle key); never empty.
pub(super) fn key_prefix<'a>(key: &'a [u8], what: &'static str) -> Result<&'a [u8], StoreError> {
    key.get(..key.len().saturating_sub(8))
        .filter(|prefix| !prefix.is_empty())
        .ok_or(StoreError::Corrupt(what))
}
