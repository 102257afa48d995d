//! Per-handle inboxes of sealed envelopes.
//!
//! Layout: `deliveries`: `handle prefix | u64 id` -> `u64 received_at_ms | location` (where
//! the envelope lies in the envelope log, see [`super::envelope_log`]);
//! `inbox_meta`: `handle prefix` -> `u64 next_id | u64 pending | u64 pending_bytes` (the last
//! field is missing in databases written before quotas, and then counts as 0). Ids come from
//! the per-inbox counter, assigned and inserted under the inbox's lock (see [`super::counter_locks`]),
//! so id n is in the tree before id n + 1 is assigned and a reader that sees id n also sees
//! every id below n (or its acknowledgement). Ids increase with arrival time, so the oldest
//! deliveries of an inbox are the first of its range. Relays before the envelope log kept each
//! envelope inline in an `inbox` tree (`u64 received_at_ms | envelope`); opening moves them
//! (see [`SledStore::migrate_inline_deliveries`]).
//!
//! A deposit appends its envelope to the log and writes its delivery; it does not write the
//! inbox's counters (one sled write per deposit instead of two). The counters in memory are
//! authoritative once loaded, and loading them counts in every delivery at or above the stored
//! `next_id`, so stored counters that lag behind the deposits since the last removal (or a
//! crash) still load exact. Removals store the counters, in one transaction with the
//! deliveries they remove: those could not be repaired that way.

use std::collections::{BTreeMap, HashSet};

use parley_crypto::handle::Handle;
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::counter_locks::lock;
use super::envelope_log::Location;
use super::keys::{handle_prefix, key_prefix, key_suffix_u64, read_u64, with_u64};
use super::{SledStore, StoreError};
use crate::limits::{InboxQuota, QuotaExceeded};
use crate::metrics::Kind;

/// Outcome of a deposit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Deposited {
    /// Stored durably under this id.
    Stored(u64),
    /// The inbox is at its quota; nothing was written.
    Full(QuotaExceeded),
}

/// A pending delivery.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StoredDelivery {
    /// Per-inbox id, increasing in arrival order.
    pub(crate) id: u64,
    /// Relay clock at arrival.
    pub(crate) received_at_ms: u64,
    /// The envelope as deposited.
    pub(crate) envelope: Vec<u8>,
}

/// Inbox counters.
#[derive(Clone, Copy, Debug)]
pub(super) struct InboxMeta {
    next_id: u64,
    pending: u64,
    pending_bytes: u64,
}

impl InboxMeta {
    const EMPTY: InboxMeta = InboxMeta {
        next_id: 1,
        pending: 0,
        pending_bytes: 0,
    };

    fn decode(bytes: &[u8]) -> Result<InboxMeta, StoreError> {
        Ok(InboxMeta {
            next_id: read_u64(bytes, 0, "inbox counters")?,
            pending: read_u64(bytes, 8, "inbox counters")?,
            pending_bytes: if bytes.len() >= 24 {
                read_u64(bytes, 16, "inbox counters")?
            } else {
                0
            },
        })
    }

    fn encode(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        out[..8].copy_from_slice(&self.next_id.to_be_bytes());
        out[8..16].copy_from_slice(&self.pending.to_be_bytes());
        out[16..].copy_from_slice(&self.pending_bytes.to_be_bytes());
        out
    }
}

/// Bytes of a stored delivery value.
const DELIVERY_LEN: usize = 8 + Location::ENCODED_LEN;

/// `u64 received_at_ms | location`.
pub(super) fn encode_delivery(received_at_ms: u64, location: Location) -> [u8; DELIVERY_LEN] {
    let mut out = [0u8; DELIVERY_LEN];
    out[..8].copy_from_slice(&received_at_ms.to_be_bytes());
    out[8..].copy_from_slice(&location.encode());
    out
}

/// The arrival time and location of a stored delivery value.
pub(super) fn decode_delivery(value: &[u8]) -> Result<(u64, Location), StoreError> {
    let received_at_ms = read_u64(value, 0, "inbox delivery")?;
    let location = value
        .get(8..)
        .ok_or(StoreError::Corrupt("inbox delivery"))
        .and_then(Location::decode)?;
    Ok((received_at_ms, location))
}

/// Bytes of envelope a stored delivery value stands for.
fn envelope_len(value: &[u8]) -> Result<u64, StoreError> {
    Ok(decode_delivery(value)?.1.len())
}

impl SledStore {
    /// Appends an envelope to `handle`'s inbox unless that would exceed `quota`.
    pub(crate) async fn deposit(
        &self,
        handle: &Handle,
        envelope: &[u8],
        received_at_ms: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError> {
        self.admit_new_data()?;
        let prefix = handle_prefix(handle);
        // Inline rather than in spawn_blocking: without a transaction a flush no longer stalls
        // these calls, and the hand-off to a blocking thread cost more than it saved.
        let outcome = self.store_delivery(&prefix, envelope, received_at_ms, quota)?;
        let size = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
        if matches!(outcome, Deposited::Stored(_)) {
            self.metrics.stored_add(Kind::Inbox, size);
            self.persist().await?;
        }
        Ok(outcome)
    }

    /// Stores one delivery under the next id of the inbox with `prefix`, unless that would
    /// exceed `quota`; not yet durable.
    fn store_delivery(
        &self,
        prefix: &[u8],
        envelope: &[u8],
        received_at_ms: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError> {
        let size = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
        let slot = self.inbox_locks.get(prefix);
        let mut guard = lock(&slot);
        let counters = match *guard {
            Some(counters) => counters,
            None => self.load_counters(prefix)?,
        };
        *guard = Some(counters);
        if let Err(exceeded) = quota.admits(counters.pending, counters.pending_bytes, size) {
            return Ok(Deposited::Full(exceeded));
        }
        let id = counters.next_id;
        let location = self.envelopes.append(envelope)?;
        let value = encode_delivery(received_at_ms, location);
        if let Err(error) = self.deliveries.insert(with_u64(prefix, id), &value[..]) {
            self.envelopes.release(&[location]);
            return Err(error.into());
        }
        let next = InboxMeta {
            next_id: id + 1,
            pending: counters.pending + 1,
            pending_bytes: counters.pending_bytes.saturating_add(size),
        };
        // The counters are not written: the delivery is stored, and loading the counters
        // counts in every delivery at or above the stored `next_id` (each removal stores the
        // counters as they stand), so a second write per deposit would buy nothing.
        *guard = Some(next);
        Ok(Deposited::Stored(id))
    }

    /// Pending deliveries with id >= `from_id`, oldest first: at most `limit` of them, and
    /// stopping before `max_bytes` of envelopes (but always at least one).
    pub(crate) fn pending_deliveries(
        &self,
        handle: &Handle,
        from_id: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        let prefix = handle_prefix(handle);
        let range = with_u64(&prefix, from_id)..=with_u64(&prefix, u64::MAX);
        let mut out = Vec::new();
        let mut bytes = 0u64;
        let mut reader = self.envelopes.reader();
        for item in self.deliveries.range(range) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item?;
            let id = key_suffix_u64(&key, "inbox key")?;
            let (received_at_ms, location) = decode_delivery(&value)?;
            bytes = bytes.saturating_add(location.len());
            if bytes > u64::try_from(max_bytes).unwrap_or(u64::MAX) && !out.is_empty() {
                break;
            }
            let Some(envelope) = reader.read(location)? else {
                // Its bytes never reached the disk (see the envelope log): the deposit was
                // not acknowledged, so its sender still holds it. Skipped; expiry removes it.
                tracing::warn!(id, "an inbox delivery's envelope is missing from the log");
                continue;
            };
            out.push(StoredDelivery {
                id,
                received_at_ms,
                envelope,
            });
        }
        Ok(out)
    }

    /// Deletes the given deliveries; unknown ids are ignored (acks are idempotent).
    pub(crate) async fn acknowledge(&self, handle: &Handle, ids: &[u64]) -> Result<(), StoreError> {
        let prefix = handle_prefix(handle);
        let removed = self.remove_deliveries(&prefix, ids)?;
        if !removed.is_empty() {
            self.persist().await?;
            // Only once the removal is durable: a crash before it would otherwise bring back
            // deliveries whose bytes are gone.
            self.envelopes.release(&removed);
        }
        Ok(())
    }

    /// Deletes the deliveries received before `cutoff_ms` from every inbox, returning how
    /// many. Not flushed: a crash only brings back deliveries the next sweep deletes again.
    pub(crate) fn expire_deliveries(&self, cutoff_ms: u64) -> Result<u64, StoreError> {
        let mut expired = 0u64;
        // Inboxes are found from their deliveries, not from their stored counters, which a
        // deposit does not write (see above): from each inbox's first key to past its last.
        let mut next_inbox = Vec::new();
        while let Some(item) = self.deliveries.range(next_inbox.as_slice()..).next() {
            let (key, _) = item?;
            let prefix = key_prefix(&key, "inbox key")?.to_vec();
            next_inbox = with_u64(&prefix, u64::MAX);
            next_inbox.push(0);
            loop {
                let mut ids = Vec::new();
                let range = with_u64(&prefix, 0)..=with_u64(&prefix, u64::MAX);
                for item in self.deliveries.range(range) {
                    let (key, value) = item?;
                    if read_u64(&value, 0, "inbox delivery")? >= cutoff_ms
                        || ids.len() >= EXPIRE_BATCH
                    {
                        break;
                    }
                    ids.push(key_suffix_u64(&key, "inbox key")?);
                }
                if ids.is_empty() {
                    break;
                }
                let full_batch = ids.len() >= EXPIRE_BATCH;
                // Not flushed (see above); a crash may bring back deliveries whose bytes are
                // gone, which read as lost and which the next sweep removes again.
                let removed = self.remove_deliveries(&prefix, &ids)?;
                self.envelopes.release(&removed);
                expired += u64::try_from(removed.len()).unwrap_or(u64::MAX);
                if !full_batch {
                    break;
                }
            }
        }
        if expired > 0 {
            self.metrics.expired(Kind::Inbox, expired);
        }
        Ok(expired)
    }

    /// Removes deliveries of the inbox with `prefix` and updates its counters in one
    /// transaction; returns where the envelopes of those that existed lie, for the caller to
    /// release from the envelope log.
    fn remove_deliveries(&self, prefix: &[u8], ids: &[u64]) -> Result<Vec<Location>, StoreError> {
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| with_u64(prefix, *id)).collect();
        let slot = self.inbox_locks.get(prefix);
        let mut guard = lock(&slot);
        let counters = match *guard {
            Some(counters) => counters,
            None => self.load_counters(prefix)?,
        };
        *guard = Some(counters);
        let after = |removed: u64, bytes: u64| InboxMeta {
            next_id: counters.next_id,
            pending: counters.pending.saturating_sub(removed),
            pending_bytes: counters.pending_bytes.saturating_sub(bytes),
        };
        let (locations, bytes) =
            (&self.deliveries, &self.inbox_meta).transaction(|(deliveries, meta)| {
                let mut locations = Vec::new();
                let mut bytes = 0u64;
                for key in &keys {
                    if let Some(value) = deliveries.remove(key.as_slice())? {
                        let (_, location) =
                            decode_delivery(&value).map_err(ConflictableTransactionError::Abort)?;
                        bytes = bytes.saturating_add(location.len());
                        locations.push(location);
                    }
                }
                let removed = u64::try_from(locations.len()).unwrap_or(u64::MAX);
                if removed > 0 {
                    meta.insert(prefix, &after(removed, bytes).encode()[..])?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>((locations, bytes))
            })?;
        let removed = u64::try_from(locations.len()).unwrap_or(u64::MAX);
        *guard = Some(after(removed, bytes));
        drop(guard);
        self.metrics.stored_sub(Kind::Inbox, bytes);
        Ok(locations)
    }

    /// The counters of the inbox with `prefix` as stored, plus any deliveries stored at or
    /// above their `next_id` by a deposit whose counters a crash kept from the database.
    fn load_counters(&self, prefix: &[u8]) -> Result<InboxMeta, StoreError> {
        let mut counters = match self.inbox_meta.get(prefix)? {
            None => InboxMeta::EMPTY,
            Some(bytes) => InboxMeta::decode(&bytes)?,
        };
        let unaccounted = with_u64(prefix, counters.next_id)..=with_u64(prefix, u64::MAX);
        for item in self.deliveries.range(unaccounted) {
            let (key, value) = item?;
            let id = key_suffix_u64(&key, "inbox key")?;
            counters = InboxMeta {
                next_id: id.saturating_add(1),
                pending: counters.pending.saturating_add(1),
                pending_bytes: counters.pending_bytes.saturating_add(envelope_len(&value)?),
            };
        }
        Ok(counters)
    }

    /// Every location the `deliveries` tree holds, as the envelope log needs them at open.
    pub(super) fn delivery_locations(deliveries: &sled::Tree) -> Result<Vec<Location>, StoreError> {
        deliveries
            .iter()
            .values()
            .map(|value| Ok(decode_delivery(&value?)?.1))
            .collect()
    }

    /// Removes the deliveries whose envelopes lie in segments that no longer exist (`lost`,
    /// as [`super::envelope_log::EnvelopeLog::open`] found them), fixing their inboxes'
    /// counters; returns how many.
    pub(super) fn forget_lost_deliveries(&self, lost: &[Location]) -> Result<u64, StoreError> {
        if lost.is_empty() {
            return Ok(0);
        }
        let lost: HashSet<Location> = lost.iter().copied().collect();
        let mut by_inbox: BTreeMap<Vec<u8>, Vec<u64>> = BTreeMap::new();
        for item in self.deliveries.iter() {
            let (key, value) = item?;
            if lost.contains(&decode_delivery(&value)?.1) {
                let id = key_suffix_u64(&key, "inbox key")?;
                let prefix = key_prefix(&key, "inbox key")?.to_vec();
                by_inbox.entry(prefix).or_default().push(id);
            }
        }
        let mut removed = 0u64;
        for (prefix, ids) in by_inbox {
            let gone = self.remove_deliveries(&prefix, &ids)?;
            removed = removed.saturating_add(u64::try_from(gone.len()).unwrap_or(u64::MAX));
        }
        tracing::warn!(
            removed,
            "removed inbox deliveries whose envelope segment is missing"
        );
        Ok(removed)
    }

    /// Pending envelope bytes over all inboxes, from the deliveries themselves: what the
    /// stored-bytes gauge must show (tests compare them).
    #[cfg(test)]
    pub(super) fn inbox_bytes(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for value in self.deliveries.iter().values() {
            total = total.saturating_add(envelope_len(&value?)?);
        }
        Ok(total)
    }
}

/// Deliveries deleted per transaction by the sweeper, so one huge inbox does not make one
/// huge transaction.
const EXPIRE_BATCH: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::FlushPolicy;

    const QUOTA: InboxQuota = InboxQuota {
        max_messages: 3,
        max_bytes: 1 << 20,
    };

    fn stored_counters(store: &SledStore, prefix: &[u8]) -> (u64, u64, u64) {
        let meta = InboxMeta::decode(&store.inbox_meta.get(prefix).unwrap().unwrap()).unwrap();
        (meta.next_id, meta.pending, meta.pending_bytes)
    }

    /// The counters as a relay opening the database would load them.
    fn loaded_counters(store: &SledStore, prefix: &[u8]) -> (u64, u64, u64) {
        let meta = store.load_counters(prefix).unwrap();
        (meta.next_id, meta.pending, meta.pending_bytes)
    }

    #[tokio::test]
    async fn deposits_since_the_stored_counters_are_counted_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let handle = Handle::parse("alice").unwrap();
        let prefix = handle_prefix(&handle);
        {
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            let first = store.deposit(&handle, b"one", 1, QUOTA).await.unwrap();
            assert_eq!(first, Deposited::Stored(1));
            store.acknowledge(&handle, &[1]).await.unwrap();
            assert_eq!(stored_counters(&store, &prefix), (2, 0, 0));
            // Deposits do not store the counters: these two are only in the deliveries.
            for (at, envelope) in [(2, &b"two"[..]), (3, b"three")] {
                store.deposit(&handle, envelope, at, QUOTA).await.unwrap();
            }
            assert_eq!(stored_counters(&store, &prefix), (2, 0, 0));
        }
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        assert_eq!(loaded_counters(&store, &prefix), (4, 2, 8));
        assert_eq!(store.inbox_bytes().unwrap(), 8);
        let fourth = store.deposit(&handle, b"four", 4, QUOTA).await.unwrap();
        assert_eq!(
            fourth,
            Deposited::Stored(4),
            "ids go on from the deliveries"
        );
        let fifth = store.deposit(&handle, b"five", 5, QUOTA).await.unwrap();
        assert_eq!(fifth, Deposited::Full(QuotaExceeded::Messages));
        store.acknowledge(&handle, &[2, 3, 4]).await.unwrap();
        assert_eq!(stored_counters(&store, &prefix), (5, 0, 0));
        // An emptied inbox never hands out an id again.
        drop(store);
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let sixth = store.deposit(&handle, b"six", 6, QUOTA).await.unwrap();
        assert_eq!(sixth, Deposited::Stored(5));
    }

    #[tokio::test]
    async fn deliveries_whose_segment_is_gone_are_removed_at_open_with_their_counts() {
        let dir = tempfile::tempdir().unwrap();
        let handle = Handle::parse("alice").unwrap();
        let prefix = handle_prefix(&handle);
        let lost_segment = {
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            store.deposit(&handle, b"lost", 1, QUOTA).await.unwrap();
            drop(store);
            // The next open starts a new segment, so the second deposit lies elsewhere.
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            store.deposit(&handle, b"kept", 2, QUOTA).await.unwrap();
            let all = store.pending_deliveries(&handle, 0, 10, 1 << 20).unwrap();
            assert_eq!(all.len(), 2);
            let value = store.deliveries.get(with_u64(&prefix, 1)).unwrap().unwrap();
            decode_delivery(&value).unwrap().1
        };
        let segments = super::super::envelope_log::envelopes_dir(dir.path());
        let mut names: Vec<_> = std::fs::read_dir(&segments)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        names.sort();
        // The oldest segment holds the first deposit.
        std::fs::remove_file(&names[0]).unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let left = store.pending_deliveries(&handle, 0, 10, 1 << 20).unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!((left[0].id, left[0].envelope.as_slice()), (2, &b"kept"[..]));
        assert_eq!(loaded_counters(&store, &prefix), (3, 1, 4));
        // The stored-bytes gauge no longer counts the lost delivery.
        assert_eq!(store.inbox_bytes().unwrap(), 4);
        assert!(store
            .metrics
            .render()
            .contains("parley_stored_bytes{kind=\"inbox\"} 4\n"));
        assert!(store
            .deliveries
            .get(with_u64(&prefix, 1))
            .unwrap()
            .is_none());
        let _ = lost_segment;
    }

    #[tokio::test]
    async fn an_acknowledged_envelope_is_nowhere_in_the_database_directory() {
        // A host that reads its disk after the recipient acknowledged finds neither the
        // envelope nor a copy of it: not in the envelope log, not in sled's files.
        let dir = tempfile::tempdir().unwrap();
        let handle = Handle::parse("alice").unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let mut envelope = vec![0u8; 2048];
        rand::Rng::fill(&mut rand::thread_rng(), envelope.as_mut_slice());
        let quota = InboxQuota {
            max_messages: 10,
            max_bytes: 1 << 20,
        };
        store.deposit(&handle, &envelope, 1, quota).await.unwrap();
        store.flush().await.unwrap();
        let on_disk = |needle: &[u8]| {
            walk(dir.path()).iter().any(|file| {
                std::fs::read(file)
                    .unwrap()
                    .windows(64)
                    .any(|w| w == &needle[..64])
            })
        };
        assert!(on_disk(&envelope), "the test must see it before");
        store.acknowledge(&handle, &[1]).await.unwrap();
        store.flush().await.unwrap();
        assert!(!on_disk(&envelope));
    }

    fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
        let mut files = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                files.extend(walk(&path));
            } else {
                files.push(path);
            }
        }
        files
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_deposits_take_consecutive_ids_and_keep_the_counters_exact() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let handle = Handle::parse("bob").unwrap();
        let quota = InboxQuota {
            max_messages: 1000,
            max_bytes: 1 << 20,
        };
        let tasks: Vec<_> = (0u8..200)
            .map(|i| {
                let (store, handle) = (store.clone(), handle.clone());
                tokio::spawn(async move { store.deposit(&handle, &[i; 10], 0, quota).await })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            match task.await.unwrap().unwrap() {
                Deposited::Stored(id) => ids.push(id),
                Deposited::Full(exceeded) => panic!("refused: {exceeded:?}"),
            }
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=200).collect::<Vec<u64>>());
        let stored = store.pending_deliveries(&handle, 0, 1000, 1 << 20).unwrap();
        assert_eq!(stored.len(), 200);
        let prefix = handle_prefix(&handle);
        assert_eq!(loaded_counters(&store, &prefix), (201, 200, 2000));
    }
}
