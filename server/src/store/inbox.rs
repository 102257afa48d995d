//! Per-handle inboxes of sealed envelopes.
//!
//! Layout: `inbox`: `handle prefix | u64 id` -> `u64 received_at_ms | envelope`;
//! `inbox_meta`: `handle prefix` -> `u64 next_id | u64 pending | u64 pending_bytes` (the last
//! field is missing in databases written before quotas, and then counts as 0). Ids come from
//! the per-inbox counter, assigned inside the same transaction as the insert, so a reader that
//! sees id n also sees every id below n (or its acknowledgement). Ids increase with arrival
//! time, so the oldest deliveries of an inbox are the first of its range.

use parley_crypto::handle::Handle;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

use super::keys::{handle_prefix, key_suffix_u64, read_u64, with_u64};
use super::{Store, StoreError};
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
struct InboxMeta {
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

    fn load(
        tree: &TransactionalTree,
        key: &[u8],
    ) -> Result<InboxMeta, ConflictableTransactionError<StoreError>> {
        match tree.get(key)? {
            None => Ok(InboxMeta::EMPTY),
            Some(bytes) => InboxMeta::decode(&bytes).map_err(ConflictableTransactionError::Abort),
        }
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

impl Store {
    /// Appends an envelope to `handle`'s inbox unless that would exceed `quota`.
    pub(crate) async fn deposit(
        &self,
        handle: &Handle,
        envelope: &[u8],
        received_at_ms: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError> {
        let prefix = handle_prefix(handle);
        let size = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
        let mut value = Vec::with_capacity(8 + envelope.len());
        value.extend_from_slice(&received_at_ms.to_be_bytes());
        value.extend_from_slice(envelope);
        let value = sled::IVec::from(value);
        let outcome = (&self.inbox, &self.inbox_meta).transaction(|(inbox, meta)| {
            let counters = InboxMeta::load(meta, &prefix)?;
            if let Err(exceeded) = quota.admits(counters.pending, counters.pending_bytes, size) {
                return Ok(Deposited::Full(exceeded));
            }
            let id = counters.next_id;
            inbox.insert(with_u64(&prefix, id), value.clone())?;
            let next = InboxMeta {
                next_id: id + 1,
                pending: counters.pending + 1,
                pending_bytes: counters.pending_bytes.saturating_add(size),
            };
            meta.insert(prefix.as_slice(), &next.encode()[..])?;
            Ok(Deposited::Stored(id))
        })?;
        if matches!(outcome, Deposited::Stored(_)) {
            self.metrics.stored_add(Kind::Inbox, size);
            self.persist().await?;
        }
        Ok(outcome)
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
            let (prefix, meta) = item?;
            if InboxMeta::decode(&meta)?.pending == 0 {
                continue;
            }
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
                let counters = InboxMeta::load(meta, prefix)?;
                let next = InboxMeta {
                    next_id: counters.next_id,
                    pending: counters.pending.saturating_sub(removed),
                    pending_bytes: counters.pending_bytes.saturating_sub(bytes),
                };
                meta.insert(prefix, &next.encode()[..])?;
            }
            Ok((removed, bytes))
        })?;
        self.metrics.stored_sub(Kind::Inbox, bytes);
        Ok(removed)
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
