//! Per-handle inboxes of sealed envelopes.
//!
//! Layout: `inbox`: `handle prefix | u64 id` -> `u64 received_at_ms | envelope`;
//! `inbox_meta`: `handle prefix` -> `u64 next_id | u64 pending | u64 pending_bytes` (the last
//! field is missing in databases written before quotas, and then counts as 0). Ids come from
//! the per-inbox counter, assigned and inserted under the inbox's lock (see [`super::counter_locks`]),
//! so id n is in the tree before id n + 1 is assigned and a reader that sees id n also sees
//! every id below n (or its acknowledgement). Ids increase with arrival time, so the oldest
//! deliveries of an inbox are the first of its range.
//!
//! A deposit writes its delivery, then the inbox's counters, without a transaction (sled's
//! transactions hold a global lock that every flush blocks). A crash between the two leaves a
//! delivery at or above the stored `next_id`; loading the counters counts such deliveries in,
//! so the counters always match the deliveries present. Removals stay transactional: they
//! are rarer, and their counters could not be repaired that way.

use parley_crypto::handle::Handle;
use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::counter_locks::lock;
use super::keys::{handle_prefix, key_suffix_u64, read_u64, with_u64};
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

/// Bytes of envelope in a stored delivery value.
fn envelope_len(value: &[u8]) -> u64 {
    u64::try_from(value.len().saturating_sub(8)).unwrap_or(u64::MAX)
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
        let size = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
        let mut value = Vec::with_capacity(8 + envelope.len());
        value.extend_from_slice(&received_at_ms.to_be_bytes());
        value.extend_from_slice(envelope);
        // Inline rather than in spawn_blocking: without a transaction a flush no longer stalls
        // these calls, and the hand-off to a blocking thread cost more than it saved.
        let outcome = self.store_delivery(&prefix, value, size, quota)?;
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
        value: Vec<u8>,
        size: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError> {
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
        self.inbox.insert(with_u64(prefix, id), value)?;
        let next = InboxMeta {
            next_id: id + 1,
            pending: counters.pending + 1,
            pending_bytes: counters.pending_bytes.saturating_add(size),
        };
        // The delivery is stored, so it counts whether or not the counters below reach the
        // database (a later load would count it in).
        *guard = Some(next);
        self.inbox_meta.insert(prefix, &next.encode()[..])?;
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
        let mut bytes = 0usize;
        for item in self.inbox.range(range) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item?;
            let envelope = value
                .get(8..)
                .ok_or(StoreError::Corrupt("inbox delivery"))?;
            bytes = bytes.saturating_add(envelope.len());
            if bytes > max_bytes && !out.is_empty() {
                break;
            }
            out.push(StoredDelivery {
                id: key_suffix_u64(&key, "inbox key")?,
                received_at_ms: read_u64(&value, 0, "inbox delivery")?,
                envelope: envelope.to_vec(),
            });
        }
        Ok(out)
    }

    /// Deletes the given deliveries; unknown ids are ignored (acks are idempotent).
    pub(crate) async fn acknowledge(&self, handle: &Handle, ids: &[u64]) -> Result<(), StoreError> {
        let prefix = handle_prefix(handle);
        if self.remove_deliveries(&prefix, ids)? > 0 {
            self.persist().await?;
        }
        Ok(())
    }

    /// Deletes the deliveries received before `cutoff_ms` from every inbox, returning how
    /// many. Not flushed: a crash only brings back deliveries the next sweep deletes again.
    pub(crate) fn expire_deliveries(&self, cutoff_ms: u64) -> Result<u64, StoreError> {
        let mut expired = 0u64;
        for item in self.inbox_meta.iter() {
            // Not skipped by their stored counters, which may miss a delivery (see above).
            let (prefix, _) = item?;
            loop {
                let mut ids = Vec::new();
                let range = with_u64(&prefix, 0)..=with_u64(&prefix, u64::MAX);
                for item in self.inbox.range(range) {
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
                expired += self.remove_deliveries(&prefix, &ids)?;
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
    /// transaction; returns how many existed.
    fn remove_deliveries(&self, prefix: &[u8], ids: &[u64]) -> Result<u64, StoreError> {
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
        let (removed, bytes) = (&self.inbox, &self.inbox_meta).transaction(|(inbox, meta)| {
            let mut removed = 0u64;
            let mut bytes = 0u64;
            for key in &keys {
                if let Some(value) = inbox.remove(key.as_slice())? {
                    removed += 1;
                    bytes = bytes.saturating_add(envelope_len(&value));
                }
            }
            if removed > 0 {
                meta.insert(prefix, &after(removed, bytes).encode()[..])?;
            }
            Ok::<_, ConflictableTransactionError<StoreError>>((removed, bytes))
        })?;
        *guard = Some(after(removed, bytes));
        drop(guard);
        self.metrics.stored_sub(Kind::Inbox, bytes);
        Ok(removed)
    }

    /// The counters of the inbox with `prefix` as stored, plus any deliveries stored at or
    /// above their `next_id` by a deposit whose counters a crash kept from the database.
    fn load_counters(&self, prefix: &[u8]) -> Result<InboxMeta, StoreError> {
        let mut counters = match self.inbox_meta.get(prefix)? {
            None => InboxMeta::EMPTY,
            Some(bytes) => InboxMeta::decode(&bytes)?,
        };
        let unaccounted = with_u64(prefix, counters.next_id)..=with_u64(prefix, u64::MAX);
        for item in self.inbox.range(unaccounted) {
            let (key, value) = item?;
            let id = key_suffix_u64(&key, "inbox key")?;
            counters = InboxMeta {
                next_id: id.saturating_add(1),
                pending: counters.pending.saturating_add(1),
                pending_bytes: counters.pending_bytes.saturating_add(envelope_len(&value)),
            };
        }
        Ok(counters)
    }

    /// Pending envelope bytes over all inboxes, from their counters.
    pub(super) fn inbox_bytes(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for item in self.inbox_meta.iter() {
            let (_, meta) = item?;
            total = total.saturating_add(InboxMeta::decode(&meta)?.pending_bytes);
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

    #[tokio::test]
    async fn a_delivery_whose_counters_a_crash_lost_is_counted_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let handle = Handle::parse("alice").unwrap();
        let prefix = handle_prefix(&handle);
        {
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            let first = store.deposit(&handle, b"one", 1, QUOTA).await.unwrap();
            assert_eq!(first, Deposited::Stored(1));
            // What a crash between a deposit's two writes leaves: its delivery, not its counters.
            let mut value = 2u64.to_be_bytes().to_vec();
            value.extend_from_slice(b"two");
            store.inbox.insert(with_u64(&prefix, 2), value).unwrap();
            store.flush().await.unwrap();
            assert_eq!(stored_counters(&store, &prefix), (2, 1, 3));
        }
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        let third = store.deposit(&handle, b"three", 3, QUOTA).await.unwrap();
        assert_eq!(third, Deposited::Stored(3));
        assert_eq!(stored_counters(&store, &prefix), (4, 3, 11));
        let fourth = store.deposit(&handle, b"four", 4, QUOTA).await.unwrap();
        assert_eq!(fourth, Deposited::Full(QuotaExceeded::Messages));
        store.acknowledge(&handle, &[1, 2, 3]).await.unwrap();
        assert_eq!(stored_counters(&store, &prefix), (4, 0, 0));
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
        assert_eq!(stored_counters(&store, &prefix), (201, 200, 2000));
    }
}
