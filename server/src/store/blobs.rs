//! Blobs: documents' sealed chunks, uploaded in order and served by capability.
//!
//! Layout: `blob_meta`: `blob_id` -> `write_hash[32] | read_hash[32] | u64 padded_size |
//! u32 chunks | u32 stored | u64 created_at_ms`; `blob_chunks`: `blob_id | u32 BE index` ->
//! sealed chunk. A chunk is written before the count that covers it, so after a crash the
//! count never claims a chunk that is missing.

use parley_crypto::document::{chunk_count, padded_len, CHUNK_LEN, CHUNK_OVERHEAD};

use super::keys::read_u64;
use super::{Store, StoreError};

/// Bytes of a `blob_meta` value.
const META_LEN: usize = 32 + 32 + 8 + 4 + 4 + 8;
/// Blobs removed by one sweep batch.
const EXPIRE_BATCH: usize = 256;

/// What the relay knows of a blob.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlobMeta {
    /// Hash of the write capability.
    pub(crate) write_hash: [u8; 32],
    /// Hash downloads must match.
    pub(crate) read_hash: [u8; 32],
    /// Stored plaintext size (a bucket).
    pub(crate) padded_size: u64,
    /// Chunks in all.
    pub(crate) chunks: u32,
    /// Chunks stored so far, from index 0.
    pub(crate) stored: u32,
    /// When the upload began (relay clock, ms).
    pub(crate) created_at_ms: u64,
}

impl BlobMeta {
    /// A new, empty blob of `padded_size`, if that is a bucket size no larger than `max`.
    pub(crate) fn new(
        write_hash: [u8; 32],
        read_hash: [u8; 32],
        padded_size: u64,
        max: u64,
        now_ms: u64,
    ) -> Option<BlobMeta> {
        if padded_size == 0 || padded_size > max || padded_len(padded_size) != padded_size {
            return None;
        }
        Some(BlobMeta {
            write_hash,
            read_hash,
            padded_size,
            chunks: u32::try_from(chunk_count(padded_size)).ok()?,
            stored: 0,
            created_at_ms: now_ms,
        })
    }

    /// Whether every chunk is stored.
    pub(crate) fn complete(&self) -> bool {
        self.stored == self.chunks
    }

    /// The exact sealed length of chunk `index`.
    pub(crate) fn chunk_len(&self, index: u32) -> usize {
        let chunk = CHUNK_LEN as u64;
        let before = u64::from(index) * chunk;
        let plain = self.padded_size.saturating_sub(before).min(chunk);
        usize::try_from(plain).unwrap_or(CHUNK_LEN) + CHUNK_OVERHEAD
    }

    fn encode(&self) -> [u8; META_LEN] {
        let mut out = [0u8; META_LEN];
        out[..32].copy_from_slice(&self.write_hash);
        out[32..64].copy_from_slice(&self.read_hash);
        out[64..72].copy_from_slice(&self.padded_size.to_be_bytes());
        out[72..76].copy_from_slice(&self.chunks.to_be_bytes());
        out[76..80].copy_from_slice(&self.stored.to_be_bytes());
        out[80..88].copy_from_slice(&self.created_at_ms.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<BlobMeta, StoreError> {
        let corrupt = || StoreError::Corrupt("blob meta");
        if bytes.len() != META_LEN {
            return Err(corrupt());
        }
        let hash = |at: usize| -> Result<[u8; 32], StoreError> {
            bytes
                .get(at..at + 32)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(corrupt)
        };
        let u32_at = |at: usize| -> Result<u32, StoreError> {
            bytes
                .get(at..at + 4)
                .and_then(|b| <[u8; 4]>::try_from(b).ok())
                .map(u32::from_be_bytes)
                .ok_or_else(corrupt)
        };
        let meta = BlobMeta {
            write_hash: hash(0)?,
            read_hash: hash(32)?,
            padded_size: read_u64(bytes, 64, "blob meta")?,
            chunks: u32_at(72)?,
            stored: u32_at(76)?,
            created_at_ms: read_u64(bytes, 80, "blob meta")?,
        };
        if meta.stored > meta.chunks || u64::from(meta.chunks) != chunk_count(meta.padded_size) {
            return Err(corrupt());
        }
        Ok(meta)
    }
}

/// Outcome of beginning (or resuming) an upload.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Begun {
    /// The blob as stored now (new, or as far as an earlier upload got).
    Ready(BlobMeta),
    /// The id is taken by another write capability, or the same id with another size or read
    /// hash.
    Taken,
}

fn chunk_key(blob_id: &[u8; 32], index: u32) -> [u8; 36] {
    let mut key = [0u8; 36];
    key[..32].copy_from_slice(blob_id);
    key[32..].copy_from_slice(&index.to_be_bytes());
    key
}

impl Store {
    /// Creates the blob `blob_id` as `meta` describes, or finds the one an earlier upload with
    /// the same capabilities and size began.
    pub(crate) fn begin_blob(
        &self,
        blob_id: &[u8; 32],
        meta: BlobMeta,
    ) -> Result<Begun, StoreError> {
        self.admit_new_data()?;
        let swapped =
            self.blob_meta
                .compare_and_swap(blob_id, None::<&[u8]>, Some(&meta.encode()[..]))?;
        match swapped {
            Ok(()) => Ok(Begun::Ready(meta)),
            Err(existing) => {
                let held = existing
                    .current
                    .as_deref()
                    .map(BlobMeta::decode)
                    .transpose()?;
                match held {
                    Some(held)
                        if held.write_hash == meta.write_hash
                            && held.read_hash == meta.read_hash
                            && held.padded_size == meta.padded_size =>
                    {
                        Ok(Begun::Ready(held))
                    }
                    _ => Ok(Begun::Taken),
                }
            }
        }
    }

    /// Stores chunk `meta.stored` of `blob_id` (checked by the caller: index and length) and
    /// counts it. `durable`: flush before returning (the caller does every few chunks and at
    /// the end, so that progress it reports survives a crash).
    pub(crate) async fn put_chunk(
        &self,
        blob_id: &[u8; 32],
        meta: &mut BlobMeta,
        chunk: &[u8],
        durable: bool,
    ) -> Result<(), StoreError> {
        self.admit_new_data()?;
        self.blob_chunks
            .insert(chunk_key(blob_id, meta.stored), chunk)?;
        meta.stored += 1;
        self.blob_meta.insert(blob_id, &meta.encode()[..])?;
        if durable {
            self.persist().await?;
        }
        Ok(())
    }

    /// The blob's record, if any.
    pub(crate) fn blob(&self, blob_id: &[u8; 32]) -> Result<Option<BlobMeta>, StoreError> {
        self.blob_meta
            .get(blob_id)?
            .as_deref()
            .map(BlobMeta::decode)
            .transpose()
    }

    /// Chunk `index` of `blob_id`.
    pub(crate) fn blob_chunk(
        &self,
        blob_id: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .blob_chunks
            .get(chunk_key(blob_id, index))?
            .map(|v| v.to_vec()))
    }

    /// Deletes the blobs begun before `cutoff_ms` (complete or not), returning how many.
    pub(crate) fn expire_blobs(&self, cutoff_ms: u64) -> Result<u64, StoreError> {
        let mut expired = Vec::new();
        for item in self.blob_meta.iter() {
            let (id, value) = item?;
            if BlobMeta::decode(&value)?.created_at_ms < cutoff_ms {
                expired.push(id);
            }
            if expired.len() >= EXPIRE_BATCH {
                break;
            }
        }
        for id in &expired {
            for key in self.blob_chunks.scan_prefix(id).keys() {
                self.blob_chunks.remove(key?)?;
            }
            self.blob_meta.remove(id)?;
        }
        Ok(expired.len() as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_bucket_sizes_within_the_limit_make_a_blob() {
        let max = 256 << 20;
        assert!(BlobMeta::new([1; 32], [2; 32], 64 << 10, max, 0).is_some());
        assert!(BlobMeta::new([1; 32], [2; 32], 96 << 10, max, 0).is_some());
        assert!(BlobMeta::new([1; 32], [2; 32], 100 << 10, max, 0).is_none());
        assert!(BlobMeta::new([1; 32], [2; 32], 0, max, 0).is_none());
        assert!(BlobMeta::new([1; 32], [2; 32], 512 << 20, max, 0).is_none());
        let meta = BlobMeta::new([1; 32], [2; 32], 96 << 10, max, 5).unwrap();
        assert_eq!(meta.chunks, 2);
        assert_eq!(meta.chunk_len(0), CHUNK_LEN + 16);
        assert_eq!(meta.chunk_len(1), (32 << 10) + 16);
        assert_eq!(BlobMeta::decode(&meta.encode()).unwrap(), meta);
        assert!(BlobMeta::decode(&meta.encode()[1..]).is_err());
    }
}
