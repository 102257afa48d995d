//! The embedded backend: [`SledStore`] as the relay's [`Store`]. Reads that sled answers from
//! its cache run on the async executor; sweeps, which walk whole trees, on the blocking pool.

use parley_crypto::handle::Handle;

use super::blobs::{Begun, BlobMeta, BlobWrite};
use super::contract::{ChangeSink, Store};
use super::directory::{Registration, Rotated, RotationWrite};
use super::groups::{Appended, Created, EpochKey, GroupMeta, StoredEntry, TtlSet};
use super::inbox::{Deposited, StoredDelivery};
use super::key_packages::{Claimed, Published, Upload};
use super::{SledStore, StoreError};
use crate::limits::InboxQuota;
use crate::metrics::Metrics;

/// Runs a sweep of `store` on the blocking pool.
async fn sweep(
    store: &SledStore,
    work: impl FnOnce(&SledStore) -> Result<u64, StoreError> + Send + 'static,
) -> Result<u64, StoreError> {
    let store = store.clone();
    tokio::task::spawn_blocking(move || work(&store))
        .await
        .map_err(|_| StoreError::FlushTask)?
}

#[tonic::async_trait]
impl Store for SledStore {
    fn metrics(&self) -> Metrics {
        SledStore::metrics(self)
    }

    async fn flush(&self) -> Result<(), StoreError> {
        SledStore::flush(self).await
    }

    async fn start(&self, _changes: ChangeSink) -> Result<(), StoreError> {
        // Opened, checked and, if need be, compacted before the relay was built; and no other
        // process writes to it.
        Ok(())
    }

    fn shared(&self) -> bool {
        // sled's lock on its files keeps it to one process.
        false
    }

    async fn record_challenge(
        &self,
        _challenge: &[u8; 32],
        _handle: &Handle,
        _expires_at_ms: u64,
    ) -> Result<(), StoreError> {
        Ok(())
    }

    async fn spend_challenge(
        &self,
        _challenge: &[u8; 32],
        _handle: &Handle,
        _now_ms: u64,
    ) -> Result<bool, StoreError> {
        // Never asked (not shared): the node's memory holds its challenges.
        Ok(false)
    }

    async fn first_sighting(
        &self,
        _digest: &[u8; 32],
        _now_ms: u64,
        _forget_at_ms: u64,
    ) -> Result<bool, StoreError> {
        // Never asked (not shared): the node's replay cache decides.
        Ok(true)
    }

    async fn expire_tokens(&self, _now_ms: u64) -> Result<u64, StoreError> {
        Ok(0)
    }

    async fn register(&self, handle: &Handle, record: &[u8]) -> Result<Registration, StoreError> {
        SledStore::register(self, handle, record).await
    }

    async fn lookup(&self, handle: &Handle) -> Result<Option<Vec<u8>>, StoreError> {
        SledStore::lookup(self, handle)
    }

    async fn rotate(
        &self,
        handle: &Handle,
        write: RotationWrite<'_>,
        keep: usize,
    ) -> Result<Rotated, StoreError> {
        SledStore::rotate(self, handle, write, keep).await
    }

    async fn rotations(&self, handle: &Handle) -> Result<Vec<Vec<u8>>, StoreError> {
        SledStore::rotations(self, handle)
    }

    async fn publish_key_packages(
        &self,
        handle: &Handle,
        upload: Upload<'_>,
        max_held: usize,
    ) -> Result<Published, StoreError> {
        SledStore::publish_key_packages(self, handle, upload, max_held).await
    }

    async fn claim_key_package(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError> {
        SledStore::claim_key_package(self, handle).await
    }

    async fn claim_last_resort(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError> {
        SledStore::claim_last_resort(self, handle)
    }

    async fn deposit(
        &self,
        handle: &Handle,
        envelope: &[u8],
        received_at_ms: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError> {
        SledStore::deposit(self, handle, envelope, received_at_ms, quota).await
    }

    async fn pending_deliveries(
        &self,
        handle: &Handle,
        from_id: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        SledStore::pending_deliveries(self, handle, from_id, limit, max_bytes)
    }

    async fn acknowledge(&self, handle: &Handle, ids: &[u64]) -> Result<(), StoreError> {
        SledStore::acknowledge(self, handle, ids).await
    }

    async fn expire_deliveries(&self, cutoff_ms: u64) -> Result<u64, StoreError> {
        sweep(self, move |store| store.expire_deliveries(cutoff_ms)).await
    }

    async fn create_group(
        &self,
        group_id: &[u8; 32],
        access_key: &[u8; 32],
    ) -> Result<Created, StoreError> {
        SledStore::create_group(self, group_id, access_key).await
    }

    async fn group_meta(&self, group_id: &[u8; 32]) -> Result<Option<GroupMeta>, StoreError> {
        SledStore::group_meta(self, group_id)
    }

    async fn epoch_key(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
    ) -> Result<Option<EpochKey>, StoreError> {
        SledStore::epoch_key(self, group_id, epoch)
    }

    async fn append(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        message: &[u8],
        next_key: Option<&[u8; 32]>,
        stored_at_ms: u64,
    ) -> Result<Appended, StoreError> {
        SledStore::append(self, group_id, epoch, message, next_key, stored_at_ms).await
    }

    async fn read_entries(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        first_seq: u64,
        from_seq: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        SledStore::read_entries(self, group_id, epoch, first_seq, from_seq, limit, max_bytes)
    }

    async fn set_group_ttl(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        ttl_secs: u64,
    ) -> Result<TtlSet, StoreError> {
        SledStore::set_group_ttl(self, group_id, epoch, ttl_secs).await
    }

    async fn expire_entries(
        &self,
        now_ms: u64,
        default_ms: Option<u64>,
    ) -> Result<u64, StoreError> {
        sweep(self, move |store| store.expire_entries(now_ms, default_ms)).await
    }

    async fn begin_blob(&self, blob_id: &[u8; 32], meta: BlobMeta) -> Result<Begun, StoreError> {
        SledStore::begin_blob(self, blob_id, meta).await
    }

    async fn put_chunks(
        &self,
        blob_id: &[u8; 32],
        meta: &mut BlobMeta,
        chunks: Vec<u8>,
        count: u32,
        durable: bool,
    ) -> Result<BlobWrite, StoreError> {
        SledStore::put_chunks(self, blob_id, meta, chunks, count, durable).await
    }

    async fn commit_blob(
        &self,
        blob_id: &[u8; 32],
        meta: &BlobMeta,
    ) -> Result<BlobWrite, StoreError> {
        SledStore::commit_blob(self, blob_id, meta).await
    }

    async fn blob(&self, blob_id: &[u8; 32]) -> Result<Option<BlobMeta>, StoreError> {
        SledStore::blob(self, blob_id)
    }

    async fn load_chunk(
        &self,
        blob_id: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        SledStore::load_chunk(self, blob_id, index).await
    }

    async fn shorten_blob(
        &self,
        blob_id: &[u8; 32],
        read_hash: &[u8; 32],
        ttl_secs: u64,
    ) -> Result<Option<BlobMeta>, StoreError> {
        SledStore::shorten_blob(self, blob_id, read_hash, ttl_secs).await
    }

    async fn expire_blobs(&self, now_ms: u64, default_ms: Option<u64>) -> Result<u64, StoreError> {
        sweep(self, move |store| store.expire_blobs(now_ms, default_ms)).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::super::conformance::{conformance_suite, Outage};
    use super::super::{FlushPolicy, SharedStore, SledStore};

    /// A store's database directory, and its disk made full on demand.
    struct FullDisk {
        store: SledStore,
        _dir: tempfile::TempDir,
    }

    #[tonic::async_trait]
    impl Outage for FullDisk {
        async fn begin(&self) {
            self.store.set_disk_reserve(u64::MAX);
        }

        async fn end(&self) {
            self.store.set_disk_reserve(0);
        }
    }

    /// A fresh database in a temporary directory, flushed as the relay runs it.
    fn open() -> (SharedStore, FullDisk) {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let disk = FullDisk {
            store: store.clone(),
            _dir: dir,
        };
        (Arc::new(store), disk)
    }

    conformance_suite!(Some(open()));
}
