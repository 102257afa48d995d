//! Blobs: documents' sealed chunks, uploaded in order and served by capability.
//!
//! Layout: `blob_meta`: `blob_id` -> `write_hash[32] | read_hash[32] | u64 padded_size |
//! u32 chunks | u32 stored | u64 created_at_ms | u64 ttl_secs` (the last missing in records
//! written before agreed retention, meaning 0: the relay's retention only); the chunks themselves are in a file per
//! blob, outside sled (see [`super::chunk_files`]), chunk `i` at [`BlobMeta::chunk_offset`].
//!
//! `stored` in sled counts only chunks whose data is synced: chunks are written to the file
//! as they come, and every few of them (and when the upload ends) the file is synced and only
//! then the count is written and flushed ([`SledStore::commit_blob`]). So after a crash the count
//! never claims a chunk that is missing, and an upload resumes from it, overwriting whatever
//! uncounted chunks the file held.

use parley_crypto::document::{chunk_count, padded_len, CHUNK_LEN, CHUNK_OVERHEAD};

use subtle::ConstantTimeEq;

use super::keys::read_u64;
use super::{SledStore, StoreError};

/// Bytes of a `blob_meta` value.
const META_LEN: usize = 32 + 32 + 8 + 4 + 4 + 8 + 8;
/// Bytes of a `blob_meta` value written before agreed retention (no `ttl_secs`).
const OLD_META_LEN: usize = META_LEN - 8;
/// Blobs removed by one sweep batch.
const EXPIRE_BATCH: usize = 256;
/// Bytes of every chunk but a blob's last one, sealed.
const SEALED_CHUNK: u64 = (CHUNK_LEN + CHUNK_OVERHEAD) as u64;

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
    /// The conversation's agreed retention in seconds (0: the relay's only).
    pub(crate) ttl_secs: u64,
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
            ttl_secs: 0,
        })
    }

    /// The same blob, deleted `ttl_secs` after its upload began (0: the relay's retention).
    pub(crate) fn with_ttl(self, ttl_secs: u64) -> BlobMeta {
        BlobMeta { ttl_secs, ..self }
    }

    /// Whether the blob is to go at `now_ms`: begun before the relay's retention (if any)
    /// or its own agreed one.
    fn expired(&self, now_ms: u64, default_ms: Option<u64>) -> bool {
        let age = now_ms.saturating_sub(self.created_at_ms);
        let own = (self.ttl_secs > 0).then(|| self.ttl_secs.saturating_mul(1000));
        [default_ms, own]
            .into_iter()
            .flatten()
            .any(|keep| age > keep)
    }

    /// Whether every chunk is stored.
    pub(crate) fn complete(&self) -> bool {
        self.stored == self.chunks
    }

    /// Where chunk `index` starts in the blob's file: every chunk before it has the full
    /// sealed length.
    pub(crate) fn chunk_offset(&self, index: u32) -> u64 {
        u64::from(index) * SEALED_CHUNK
    }

    /// Whether a new upload described by `begun` may go on with this blob: the same
    /// capabilities and size (a resumption), not another uploader's blob under the same id.
    pub(crate) fn resumed_by(&self, begun: &BlobMeta) -> bool {
        self.write_hash == begun.write_hash
            && self.read_hash == begun.read_hash
            && self.padded_size == begun.padded_size
    }

    /// The blob with the shorter of its own retention and `ttl_secs` (0: no retention of its
    /// own), or `None` if that changes nothing: a retention is never lengthened.
    pub(crate) fn shortened_to(&self, ttl_secs: u64) -> Option<BlobMeta> {
        let shorter = match self.ttl_secs {
            0 => ttl_secs,
            own => own.min(ttl_secs),
        };
        (ttl_secs != 0 && shorter != self.ttl_secs).then(|| self.with_ttl(shorter))
    }

    /// Whether `other` describes the same upload (its count aside): an id reused after an
    /// expiry names another blob.
    pub(crate) fn same_blob(&self, other: &BlobMeta) -> bool {
        self.write_hash == other.write_hash
            && self.read_hash == other.read_hash
            && self.padded_size == other.padded_size
            && self.created_at_ms == other.created_at_ms
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
        out[88..96].copy_from_slice(&self.ttl_secs.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<BlobMeta, StoreError> {
        let corrupt = || StoreError::Corrupt("blob meta");
        if bytes.len() != META_LEN && bytes.len() != OLD_META_LEN {
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
            ttl_secs: if bytes.len() == META_LEN {
                read_u64(bytes, 88, "blob meta")?
            } else {
                0
            },
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

/// Whether a write to a blob found it still there.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BlobWrite {
    /// Written (and counted, if it was a commit).
    Done,
    /// The blob expired during the upload (or its id names another upload now): nothing was
    /// counted.
    Gone,
}

/// Runs file I/O on tokio's blocking pool: a write can wait for the kernel's dirty-page
/// throttling and a sync for the disk, either long enough to stall a runtime worker (a
/// 64 KiB chunk makes the hop's few microseconds negligible).
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, StoreError> {
    // A task that did not complete (cancelled at shutdown) is what `FlushTask` names.
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| StoreError::FlushTask)?
}

impl SledStore {
    /// Creates the blob `blob_id` as `meta` describes, or finds the one an earlier upload with
    /// the same capabilities and size began.
    pub(crate) async fn begin_blob(
        &self,
        blob_id: &[u8; 32],
        meta: BlobMeta,
    ) -> Result<Begun, StoreError> {
        self.admit_new_data()?;
        let swapped =
            self.blob_meta
                .compare_and_swap(blob_id, None::<&[u8]>, Some(&meta.encode()[..]))?;
        let ready = match swapped {
            Ok(()) => meta,
            Err(existing) => {
                let held = existing
                    .current
                    .as_deref()
                    .map(BlobMeta::decode)
                    .transpose()?;
                match held {
                    Some(held) if held.resumed_by(&meta) => held,
                    _ => return Ok(Begun::Taken),
                }
            }
        };
        // The file exists before any chunk is written to it; a record that reached the disk
        // without its file (a crash in between) counts no chunk, so creating it now is safe.
        if ready.stored == 0 {
            let (chunks, id) = (self.chunks.clone(), *blob_id);
            blocking(move || chunks.create(&id)).await?;
        }
        Ok(Begun::Ready(ready))
    }

    /// Stores chunk `meta.stored` of `blob_id` (checked by the caller: index and length) and
    /// counts it; see [`SledStore::put_chunks`]. (The upload service writes chunks in batches.)
    #[cfg(test)]
    pub(crate) async fn put_chunk(
        &self,
        blob_id: &[u8; 32],
        meta: &mut BlobMeta,
        chunk: Vec<u8>,
        durable: bool,
    ) -> Result<BlobWrite, StoreError> {
        self.put_chunks(blob_id, meta, chunk, 1, durable).await
    }

    /// Stores `count` chunks from `meta.stored` on, given back to back in `chunks` (checked
    /// by the caller: indexes and lengths), in one write, and counts them. `durable`: sync
    /// the file and store and flush the count before returning (the caller does every few
    /// chunks and at the end, so that the progress it reports survives a crash).
    pub(crate) async fn put_chunks(
        &self,
        blob_id: &[u8; 32],
        meta: &mut BlobMeta,
        chunks: Vec<u8>,
        count: u32,
        durable: bool,
    ) -> Result<BlobWrite, StoreError> {
        self.admit_new_data()?;
        let offset = meta.chunk_offset(meta.stored);
        let (files, id) = (self.chunks.clone(), *blob_id);
        if !blocking(move || files.write_at(&id, offset, &chunks, durable)).await? {
            return Ok(BlobWrite::Gone);
        }
        meta.stored += count;
        if durable {
            self.count_chunks(blob_id, meta).await
        } else {
            Ok(BlobWrite::Done)
        }
    }

    /// Makes the chunks written so far durable: syncs the blob's file, then stores and flushes
    /// `meta.stored`, in that order. A count another upload of the same blob already took
    /// further is left as it is.
    pub(crate) async fn commit_blob(
        &self,
        blob_id: &[u8; 32],
        meta: &BlobMeta,
    ) -> Result<BlobWrite, StoreError> {
        let (chunks, id) = (self.chunks.clone(), *blob_id);
        if !blocking(move || chunks.sync(&id)).await? {
            return Ok(BlobWrite::Gone);
        }
        self.count_chunks(blob_id, meta).await
    }

    /// Stores `meta.stored` (whose chunks are synced) unless the record is gone or further
    /// on, then flushes.
    async fn count_chunks(
        &self,
        blob_id: &[u8; 32],
        meta: &BlobMeta,
    ) -> Result<BlobWrite, StoreError> {
        loop {
            let Some(current) = self.blob_meta.get(blob_id)? else {
                return Ok(BlobWrite::Gone);
            };
            let held = BlobMeta::decode(&current)?;
            if !held.same_blob(meta) {
                return Ok(BlobWrite::Gone);
            }
            if held.stored >= meta.stored {
                break;
            }
            // The record's own retention stays: it may have been shortened meanwhile.
            let counted = BlobMeta {
                stored: meta.stored,
                ..held
            };
            let swapped = self.blob_meta.compare_and_swap(
                blob_id,
                Some(current),
                Some(&counted.encode()[..]),
            )?;
            if swapped.is_ok() {
                break;
            }
        }
        self.persist().await?;
        Ok(BlobWrite::Done)
    }

    /// The blob's record, if any.
    pub(crate) fn blob(&self, blob_id: &[u8; 32]) -> Result<Option<BlobMeta>, StoreError> {
        self.blob_meta
            .get(blob_id)?
            .as_deref()
            .map(BlobMeta::decode)
            .transpose()
    }

    /// Chunk `index` of `blob_id`, if the blob exists and has it counted. Reads the file:
    /// call it off the async executor.
    pub(crate) fn blob_chunk(
        &self,
        blob_id: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        match self.blob(blob_id)? {
            Some(meta) if index < meta.stored => {
                self.chunks
                    .read_at(blob_id, meta.chunk_offset(index), meta.chunk_len(index))
            }
            _ => Ok(None),
        }
    }

    /// [`SledStore::blob_chunk`] on the blocking pool, for async callers.
    pub(crate) async fn load_chunk(
        &self,
        blob_id: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (store, id) = (self.clone(), *blob_id);
        blocking(move || store.blob_chunk(&id, index)).await
    }

    /// Gives `blob_id` the shorter of its own retention and `ttl_secs` (0 = none: the relay's
    /// alone) and returns its record as it now stands, or `None` if there is no such blob or
    /// its read capability's hash is not `read_hash` (compared in constant time, on the
    /// record it changes: an id that expired and was taken again names another blob).
    /// Never lengthens a blob's life; the sweeper deletes it once it is past. Flushed
    /// before it returns, so that a shortening the caller was told of survives a crash.
    pub(crate) async fn shorten_blob(
        &self,
        blob_id: &[u8; 32],
        read_hash: &[u8; 32],
        ttl_secs: u64,
    ) -> Result<Option<BlobMeta>, StoreError> {
        loop {
            let Some(current) = self.blob_meta.get(blob_id)? else {
                return Ok(None);
            };
            let held = BlobMeta::decode(&current)?;
            if !bool::from(held.read_hash.ct_eq(read_hash)) {
                return Ok(None);
            }
            let Some(shortened) = held.shortened_to(ttl_secs) else {
                return Ok(Some(held));
            };
            let swapped = self.blob_meta.compare_and_swap(
                blob_id,
                Some(current),
                Some(&shortened.encode()[..]),
            )?;
            if swapped.is_ok() {
                self.persist().await?;
                return Ok(Some(shortened));
            }
        }
    }

    /// Deletes the blobs (complete or not) begun longer ago than the relay's retention
    /// (`default_ms`, if any) or their own agreed one, at `now_ms`; returns how many. The
    /// record goes first, so a blob is never readable without its file.
    pub(crate) fn expire_blobs(
        &self,
        now_ms: u64,
        default_ms: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut expired = Vec::new();
        for item in self.blob_meta.iter() {
            let (id, value) = item?;
            if BlobMeta::decode(&value)?.expired(now_ms, default_ms) {
                expired.push(id);
            }
            if expired.len() >= EXPIRE_BATCH {
                break;
            }
        }
        for id in &expired {
            self.blob_meta.remove(id)?;
            let id: [u8; 32] = id[..]
                .try_into()
                .map_err(|_| StoreError::Corrupt("blob id"))?;
            self.chunks.remove(&id)?;
        }
        Ok(expired.len() as u64)
    }

    /// At open, with nothing else running: removes the files that have no record (a crash
    /// between an expiry's two deletions, or before a new record reached the disk) and the
    /// records that count chunks whose file is gone (blobs of a relay that kept chunks in
    /// sled, whose tree is dropped at open).
    pub(super) fn forget_lost_blobs(&self) -> Result<(), StoreError> {
        let mut orphans = 0u64;
        for id in self.chunks.ids()? {
            if !self.blob_meta.contains_key(id)? {
                self.chunks.remove(&id)?;
                orphans += 1;
            }
        }
        let mut lost = Vec::new();
        for item in self.blob_meta.iter() {
            let (id, value) = item?;
            let key: [u8; 32] = id[..]
                .try_into()
                .map_err(|_| StoreError::Corrupt("blob id"))?;
            if BlobMeta::decode(&value)?.stored > 0 && !self.chunks.exists(&key) {
                lost.push(id);
            }
        }
        for id in &lost {
            self.blob_meta.remove(id)?;
        }
        if orphans > 0 || !lost.is_empty() {
            tracing::warn!(
                orphan_files = orphans,
                records_without_file = lost.len(),
                "removed blob chunk files without a record and records without their file"
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::chunk_files::chunks_dir;
    use super::super::{compact_dir, FlushPolicy};
    use super::*;

    /// A blob of three chunks (a bucket size: every chunk full) and its sealed chunks (here:
    /// filled with their index).
    fn three_chunks(now_ms: u64) -> (BlobMeta, Vec<Vec<u8>>) {
        let meta = BlobMeta::new([1; 32], [2; 32], 192 << 10, 1 << 30, now_ms).unwrap();
        let chunks = (0..meta.chunks)
            .map(|i| vec![i as u8 + 1; meta.chunk_len(i)])
            .collect();
        (meta, chunks)
    }

    async fn upload(store: &SledStore, id: &[u8; 32], meta: BlobMeta, chunks: &[Vec<u8>]) {
        let Begun::Ready(mut meta) = store.begin_blob(id, meta).await.unwrap() else {
            panic!("taken");
        };
        for chunk in &chunks[meta.stored as usize..] {
            let last = meta.stored + 1 == meta.chunks;
            let written = store.put_chunk(id, &mut meta, chunk.clone(), last);
            assert_eq!(written.await.unwrap(), BlobWrite::Done);
        }
    }

    fn read_all(store: &SledStore, id: &[u8; 32]) -> Vec<Vec<u8>> {
        let meta = store.blob(id).unwrap().unwrap();
        (0..meta.chunks)
            .map(|i| store.blob_chunk(id, i).unwrap().unwrap())
            .collect()
    }

    #[tokio::test]
    async fn chunks_go_to_their_offsets_in_the_blob_file_and_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let (meta, chunks) = three_chunks(0);
        let id = [9; 32];
        upload(&store, &id, meta, &chunks).await;
        assert!(store.blob(&id).unwrap().unwrap().complete());
        assert_eq!(read_all(&store, &id), chunks);
        assert_eq!(store.load_chunk(&id, 2).await.unwrap().unwrap(), chunks[2]);
        assert_eq!(store.blob_chunk(&id, 3).unwrap(), None);

        let file = std::fs::read(chunks_dir(dir.path()).join(hex::encode(id))).unwrap();
        let sealed = CHUNK_LEN + CHUNK_OVERHEAD;
        assert_eq!(file.len(), 2 * sealed + chunks[2].len());
        assert_eq!(&file[..sealed], &chunks[0][..]);
        assert_eq!(&file[sealed..2 * sealed], &chunks[1][..]);
        assert_eq!(&file[2 * sealed..], &chunks[2][..]);
        assert_eq!(meta.chunk_offset(2), 2 * sealed as u64);
    }

    #[tokio::test]
    async fn a_resumed_upload_goes_on_from_the_committed_count() {
        let dir = tempfile::tempdir().unwrap();
        let (meta, chunks) = three_chunks(0);
        let id = [9; 32];
        {
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            let Begun::Ready(mut held) = store.begin_blob(&id, meta).await.unwrap() else {
                panic!("taken");
            };
            let written = store.put_chunk(&id, &mut held, chunks[0].clone(), true);
            assert_eq!(written.await.unwrap(), BlobWrite::Done);
            // Written but not committed when the relay stops: not counted, to be overwritten.
            let garbage = vec![0xee; chunks[1].len()];
            let written = store.put_chunk(&id, &mut held, garbage, false);
            assert_eq!(written.await.unwrap(), BlobWrite::Done);
            assert_eq!(held.stored, 2);
            assert_eq!(store.blob(&id).unwrap().unwrap().stored, 1);
            assert_eq!(store.blob_chunk(&id, 1).unwrap(), None);
            store.flush().await.unwrap();
        }
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        assert_eq!(
            store.begin_blob(&id, meta).await.unwrap(),
            Begun::Ready(BlobMeta { stored: 1, ..meta })
        );
        upload(&store, &id, meta, &chunks).await;
        assert_eq!(read_all(&store, &id), chunks);

        // A commit counts what was written since the last one.
        let (other, more) = three_chunks(0);
        let Begun::Ready(mut held) = store.begin_blob(&[3; 32], other).await.unwrap() else {
            panic!("taken");
        };
        for chunk in &more[..2] {
            let written = store.put_chunk(&[3; 32], &mut held, chunk.clone(), false);
            assert_eq!(written.await.unwrap(), BlobWrite::Done);
        }
        assert_eq!(
            store.commit_blob(&[3; 32], &held).await.unwrap(),
            BlobWrite::Done
        );
        assert_eq!(store.blob(&[3; 32]).unwrap().unwrap().stored, 2);
        // An older commit never lowers the count.
        let behind = BlobMeta { stored: 1, ..held };
        assert_eq!(
            store.commit_blob(&[3; 32], &behind).await.unwrap(),
            BlobWrite::Done
        );
        assert_eq!(store.blob(&[3; 32]).unwrap().unwrap().stored, 2);
    }

    #[tokio::test]
    async fn a_blob_goes_after_its_own_retention_even_when_the_relay_keeps_all() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let (kept, chunks) = three_chunks(0);
        upload(&store, &[1; 32], kept, &chunks).await;
        let (short, _) = three_chunks(0);
        upload(&store, &[2; 32], short.with_ttl(60), &chunks).await;
        assert_eq!(store.expire_blobs(60_000, None).unwrap(), 0);
        assert_eq!(store.expire_blobs(60_001, None).unwrap(), 1);
        assert!(store.blob(&[2; 32]).unwrap().is_none());
        assert!(
            store.blob(&[1; 32]).unwrap().is_some(),
            "no retention of its own"
        );
        // The relay's retention still applies to both kinds.
        assert_eq!(store.expire_blobs(60_001, Some(60_000)).unwrap(), 1);
        // A record of the old layout reads as having none.
        let mut old = short.with_ttl(60).encode().to_vec();
        old.truncate(OLD_META_LEN);
        assert_eq!(BlobMeta::decode(&old).unwrap().ttl_secs, 0);
    }

    #[tokio::test]
    async fn shortening_a_blob_never_lengthens_it_and_survives_an_upload_in_progress() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let (meta, chunks) = three_chunks(0);
        let Begun::Ready(mut held) = store
            .begin_blob(&[1; 32], meta.with_ttl(3600))
            .await
            .unwrap()
        else {
            panic!("taken");
        };
        let shortened = store
            .shorten_blob(&[1; 32], &meta.read_hash, 600)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(shortened.ttl_secs, 600);
        // Longer or none: the shorter stays.
        for ask in [7200, 0] {
            let kept = store
                .shorten_blob(&[1; 32], &meta.read_hash, ask)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(kept.ttl_secs, 600, "asked {ask}");
        }
        // The upload goes on with the retention it began with; its counts keep the shorter.
        for chunk in &chunks {
            let written = store.put_chunk(&[1; 32], &mut held, chunk.clone(), true);
            assert_eq!(written.await.unwrap(), BlobWrite::Done);
        }
        assert_eq!(held.ttl_secs, 3600);
        let stored = store.blob(&[1; 32]).unwrap().unwrap();
        assert_eq!((stored.stored, stored.ttl_secs), (3, 600));
        assert_eq!(store.expire_blobs(600_000, None).unwrap(), 0);
        assert_eq!(store.expire_blobs(600_001, None).unwrap(), 1);
        // Another read capability's hash: as if there were no such blob, nothing changed.
        upload(&store, &[2; 32], meta, &chunks).await;
        let wrong = store.shorten_blob(&[2; 32], &[0xaa; 32], 60).await.unwrap();
        assert_eq!(wrong, None);
        assert_eq!(store.blob(&[2; 32]).unwrap().unwrap().ttl_secs, 0);
        // A blob with no retention of its own takes the one asked; an unknown one is None.
        let given = store
            .shorten_blob(&[2; 32], &meta.read_hash, 60)
            .await
            .unwrap();
        assert_eq!(given.unwrap().ttl_secs, 60);
        let unknown = store
            .shorten_blob(&[9; 32], &meta.read_hash, 60)
            .await
            .unwrap();
        assert_eq!(unknown, None);
    }

    #[tokio::test]
    async fn expiry_deletes_the_record_and_the_file_and_stops_an_upload() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let (old, chunks) = three_chunks(10);
        upload(&store, &[1; 32], old, &chunks).await;
        let (young, _) = three_chunks(30);
        let Begun::Ready(mut held) = store.begin_blob(&[2; 32], young).await.unwrap() else {
            panic!("taken");
        };
        let written = store.put_chunk(&[2; 32], &mut held, chunks[0].clone(), false);
        assert_eq!(written.await.unwrap(), BlobWrite::Done);

        assert_eq!(store.expire_blobs(20, Some(0)).unwrap(), 1);
        assert_eq!(store.blob(&[1; 32]).unwrap(), None);
        assert_eq!(store.blob_chunk(&[1; 32], 0).unwrap(), None);
        assert!(!chunks_dir(dir.path()).join(hex::encode([1; 32])).exists());
        assert!(chunks_dir(dir.path()).join(hex::encode([2; 32])).exists());

        // The upload in flight learns its blob is gone, and does not bring it back.
        assert_eq!(store.expire_blobs(40, Some(0)).unwrap(), 1);
        let written = store.put_chunk(&[2; 32], &mut held, chunks[1].clone(), true);
        assert_eq!(written.await.unwrap(), BlobWrite::Gone);
        assert_eq!(
            store.commit_blob(&[2; 32], &held).await.unwrap(),
            BlobWrite::Gone
        );
        assert_eq!(store.blob(&[2; 32]).unwrap(), None);
        assert_eq!(
            std::fs::read_dir(chunks_dir(dir.path())).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn files_without_records_and_records_without_files_are_removed_at_open() {
        let dir = tempfile::tempdir().unwrap();
        let (meta, chunks) = three_chunks(0);
        let orphan = chunks_dir(dir.path()).join(hex::encode([5; 32]));
        {
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            upload(&store, &[1; 32], meta, &chunks).await;
            // Begun, nothing stored yet: kept, file or not.
            store.begin_blob(&[2; 32], meta).await.unwrap();
            std::fs::remove_file(chunks_dir(dir.path()).join(hex::encode([2; 32]))).unwrap();
            // Counted chunks whose file is gone: unreadable.
            upload(&store, &[3; 32], meta, &chunks).await;
            std::fs::remove_file(chunks_dir(dir.path()).join(hex::encode([3; 32]))).unwrap();
            // A crash between an expiry's two deletions.
            std::fs::write(&orphan, b"left over").unwrap();
            std::fs::write(chunks_dir(dir.path()).join("README"), b"not ours").unwrap();
            // A relay before chunk files kept them in a tree.
            store
                .db
                .open_tree("blob_chunks")
                .unwrap()
                .insert(b"k", b"v")
                .unwrap();
            store.flush().await.unwrap();
        }
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        assert!(!orphan.exists());
        assert!(chunks_dir(dir.path()).join("README").exists());
        assert_eq!(read_all(&store, &[1; 32]), chunks);
        assert_eq!(store.blob(&[2; 32]).unwrap().map(|m| m.stored), Some(0));
        assert_eq!(store.blob(&[3; 32]).unwrap(), None);
        assert!(!store
            .db
            .tree_names()
            .iter()
            .any(|n| &n[..] == b"blob_chunks"));
        // The begun blob goes on: resuming creates its file again.
        upload(&store, &[2; 32], meta, &chunks).await;
        assert_eq!(read_all(&store, &[2; 32]), chunks);
    }

    #[tokio::test]
    async fn compaction_keeps_blobs_readable() {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = dir.path().join("db");
        let (meta, chunks) = three_chunks(0);
        {
            let store = SledStore::open(&db_dir, FlushPolicy::GroupCommit).unwrap();
            upload(&store, &[1; 32], meta, &chunks).await;
            store.flush().await.unwrap();
        }
        let compacted = compact_dir(&db_dir).unwrap();
        assert!(compacted.after_bytes > (192 << 10));
        let store = SledStore::open(&db_dir, FlushPolicy::GroupCommit).unwrap();
        assert_eq!(read_all(&store, &[1; 32]), chunks);
        let entries: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(entries, ["db"], "nothing left beside the database");
    }

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
