//! What every storage backend of the relay provides: the one interface the services use.
//!
//! Every operation is async, so that a backend over a network database fits as well as the
//! embedded one; every write that returns `Ok` is durable (under the relay's flush policy);
//! and every check-and-write (a handle taken once, a KeyPackage claimed once, an epoch moved
//! by one commit) is atomic for the whole backend, however many relay processes share it.

use std::sync::Arc;

use parley_crypto::handle::Handle;

use super::blobs::{Begun, BlobMeta, BlobWrite};
use super::directory::{Registration, Rotated, RotationWrite};
use super::groups::{Appended, Created, EpochKey, GroupMeta, StoredEntry, TtlSet};
use super::inbox::{Deposited, StoredDelivery};
use super::key_packages::{Claimed, Published, Upload};
use super::StoreError;
use crate::limits::InboxQuota;
use crate::metrics::Metrics;

/// The store the services share.
pub(crate) type SharedStore = Arc<dyn Store>;

/// A write made through another relay node sharing the store, for this node's subscribers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Change {
    /// A delivery was stored in this inbox under this id.
    Inbox(Handle, u64),
    /// An entry was appended to this group's log at this sequence number.
    Group([u8; 32], u64),
    /// Changes may have been missed (the store's connection was lost): every subscriber
    /// should look again.
    Missed,
}

/// Where a store shared by several nodes reports the others' writes; returns false once
/// nobody listens any more (the relay stopped), which ends the reporting.
pub(crate) type ChangeSink = Arc<dyn Fn(Change) -> bool + Send + Sync>;

/// The relay's storage: directory records, KeyPackages, inboxes, group logs and blobs, all
/// ciphertext or public material (docs/PROTOCOL.md section 8).
#[tonic::async_trait]
pub(crate) trait Store: Send + Sync + 'static {
    /// The metrics the store reports into (stored bytes, flushes, refusals).
    fn metrics(&self) -> Metrics;

    /// Makes every write so far durable.
    async fn flush(&self) -> Result<(), StoreError>;

    /// Gets ready to serve: a network database is reached and its schema brought up to
    /// date, and writes other nodes make are reported to `changes` from then on. Called
    /// once, before the first request.
    async fn start(&self, changes: ChangeSink) -> Result<(), StoreError>;

    // Owner challenges and group-request replays, for a store several nodes share.

    /// Whether other relay nodes share this store: then challenges and accepted group
    /// requests are kept in it (below), so that a challenge issued by one node is spent once
    /// on any, and a request accepted by one is refused as a replay by all. A store of one
    /// node's own leaves them to the node's memory: it is never asked to record, spend or
    /// sight, and has nothing to expire.
    fn shared(&self) -> bool;

    /// Keeps `challenge`, issued for `handle`, spendable until `expires_at_ms`.
    async fn record_challenge(
        &self,
        challenge: &[u8; 32],
        handle: &Handle,
        expires_at_ms: u64,
    ) -> Result<(), StoreError>;

    /// Spends `challenge`: true if it was recorded for `handle` and `now_ms` is before its
    /// expiry. Gone afterwards either way (a challenge is never tried twice).
    async fn spend_challenge(
        &self,
        challenge: &[u8; 32],
        handle: &Handle,
        now_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Records an accepted group request's transcript `digest`, remembered until
    /// `forget_at_ms`: true the first time, false if it is remembered already at `now_ms`.
    async fn first_sighting(
        &self,
        digest: &[u8; 32],
        now_ms: u64,
        forget_at_ms: u64,
    ) -> Result<bool, StoreError>;

    /// Deletes the challenges and remembered requests past their time at `now_ms`.
    async fn expire_tokens(&self, now_ms: u64) -> Result<u64, StoreError>;

    // Directory.

    /// Registers `record` under `handle` if the handle is free.
    async fn register(&self, handle: &Handle, record: &[u8]) -> Result<Registration, StoreError>;

    /// The directory record `handle` holds, if any.
    async fn lookup(&self, handle: &Handle) -> Result<Option<Vec<u8>>, StoreError>;

    /// Replaces `handle`'s record as `write` says (compare-and-swap on the old record),
    /// keeping at most `keep` rotations.
    async fn rotate(
        &self,
        handle: &Handle,
        write: RotationWrite<'_>,
        keep: usize,
    ) -> Result<Rotated, StoreError>;

    /// The rotations `handle` went through, oldest first.
    async fn rotations(&self, handle: &Handle) -> Result<Vec<Vec<u8>>, StoreError>;

    // KeyPackages.

    /// Adds `upload` to `handle`'s KeyPackages, holding at most `max_held`.
    async fn publish_key_packages(
        &self,
        handle: &Handle,
        upload: Upload<'_>,
        max_held: usize,
    ) -> Result<Published, StoreError>;

    /// Takes one of `handle`'s KeyPackages; each is given out at most once.
    async fn claim_key_package(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError>;

    /// `handle`'s last-resort KeyPackage, which is never used up.
    async fn claim_last_resort(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError>;

    // Inboxes.

    /// Stores `envelope` for `handle` within `quota`.
    async fn deposit(
        &self,
        handle: &Handle,
        envelope: &[u8],
        received_at_ms: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError>;

    /// `handle`'s deliveries from id `from_id` on, at most `limit` and about `max_bytes`.
    async fn pending_deliveries(
        &self,
        handle: &Handle,
        from_id: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredDelivery>, StoreError>;

    /// Deletes `handle`'s deliveries `ids`.
    async fn acknowledge(&self, handle: &Handle, ids: &[u64]) -> Result<(), StoreError>;

    /// Deletes deliveries received before `cutoff_ms`; returns how many.
    async fn expire_deliveries(&self, cutoff_ms: u64) -> Result<u64, StoreError>;

    // Group logs.

    /// Creates the group with the access key of epoch 0, if the id is free.
    async fn create_group(
        &self,
        group_id: &[u8; 32],
        access_key: &[u8; 32],
    ) -> Result<Created, StoreError>;

    /// The group's record, if it exists.
    async fn group_meta(&self, group_id: &[u8; 32]) -> Result<Option<GroupMeta>, StoreError>;

    /// The access key of `epoch` of the group, if known.
    async fn epoch_key(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
    ) -> Result<Option<EpochKey>, StoreError>;

    /// Appends `message` in `epoch`; with `next_key`, a commit that moves the group to the
    /// next epoch (compare-and-swap: exactly one commit per epoch wins).
    async fn append(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        message: &[u8],
        next_key: Option<&[u8; 32]>,
        stored_at_ms: u64,
    ) -> Result<Appended, StoreError>;

    /// The group's entries of `epoch` from `from_seq` (not before `first_seq`), at most
    /// `limit` and about `max_bytes`.
    async fn read_entries(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        first_seq: u64,
        from_seq: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredEntry>, StoreError>;

    /// Sets the group's agreed retention, if `epoch` is still its current one.
    async fn set_group_ttl(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        ttl_secs: u64,
    ) -> Result<TtlSet, StoreError>;

    /// Deletes group entries older than the relay's retention (`default_ms`) or their
    /// group's own at `now_ms`; returns how many.
    async fn expire_entries(&self, now_ms: u64, default_ms: Option<u64>)
        -> Result<u64, StoreError>;

    // Blobs.

    /// Creates the blob `meta` describes, or finds the same upload begun earlier.
    async fn begin_blob(&self, blob_id: &[u8; 32], meta: BlobMeta) -> Result<Begun, StoreError>;

    /// Stores `count` chunks given back to back from `meta.stored` on and counts them;
    /// `durable`: made durable before returning.
    async fn put_chunks(
        &self,
        blob_id: &[u8; 32],
        meta: &mut BlobMeta,
        chunks: Vec<u8>,
        count: u32,
        durable: bool,
    ) -> Result<BlobWrite, StoreError>;

    /// Makes the chunks written so far durable and counts them (`meta.stored`); a count
    /// already further on is left as it is.
    async fn commit_blob(
        &self,
        blob_id: &[u8; 32],
        meta: &BlobMeta,
    ) -> Result<BlobWrite, StoreError>;

    /// The blob's record, if any.
    async fn blob(&self, blob_id: &[u8; 32]) -> Result<Option<BlobMeta>, StoreError>;

    /// Chunk `index` of the blob, if stored.
    async fn load_chunk(
        &self,
        blob_id: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    /// Lowers the blob's own retention to `ttl_secs` if its read capability hashes to
    /// `read_hash`; the record as it now stands, or `None`.
    async fn shorten_blob(
        &self,
        blob_id: &[u8; 32],
        read_hash: &[u8; 32],
        ttl_secs: u64,
    ) -> Result<Option<BlobMeta>, StoreError>;

    /// Deletes the blobs past the relay's retention or their own at `now_ms` (one batch);
    /// returns how many.
    async fn expire_blobs(&self, now_ms: u64, default_ms: Option<u64>) -> Result<u64, StoreError>;
}
