//! Per-handle inboxes of sealed envelopes.
//!
//! Layout: `inbox`: `handle prefix | u64 id` -> `u64 received_at_ms | envelope`;
//! `inbox_meta`: `handle prefix` -> `u64 next_id | u64 pending`. Ids come from the per-inbox
//! counter, assigned inside the same transaction as the insert, so a reader that sees id n
//! also sees every id below n (or its acknowledgement).

use parley_crypto::handle::Handle;
use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

use super::keys::{handle_prefix, key_suffix_u64, read_u64, with_u64};
use super::{Store, StoreError};

/// Outcome of a deposit.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Deposited {
    /// Stored durably under this id.
    Stored(u64),
    /// The inbox holds the maximum number of pending deliveries; nothing was written.
    Full,
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
}

impl InboxMeta {
    const EMPTY: InboxMeta = InboxMeta {
        next_id: 1,
        pending: 0,
    };

    fn load(
        tree: &TransactionalTree,
        key: &[u8],
    ) -> Result<InboxMeta, ConflictableTransactionError<StoreError>> {
        match tree.get(key)? {
            None => Ok(InboxMeta::EMPTY),
            Some(bytes) => Ok(InboxMeta {
                next_id: read_u64(&bytes, 0, "inbox counters")
                    .map_err(ConflictableTransactionError::Abort)?,
                pending: read_u64(&bytes, 8, "inbox counters")
                    .map_err(ConflictableTransactionError::Abort)?,
            }),
        }
    }

    fn encode(self) -> [u8; 16] {
        let mut out = [0u8; 16];
        out[..8].copy_from_slice(&self.next_id.to_be_bytes());
        out[8..].copy_from_slice(&self.pending.to_be_bytes());
        out
    }
}

impl Store {
    /// Appends an envelope to `handle`'s inbox unless it already holds `max_pending`.
    pub(crate) async fn deposit(
        &self,
        handle: &Handle,
        envelope: &[u8],
        received_at_ms: u64,
        max_pending: u64,
    ) -> Result<Deposited, StoreError> {
        let prefix = handle_prefix(handle);
        let mut value = Vec::with_capacity(8 + envelope.len());
        value.extend_from_slice(&received_at_ms.to_be_bytes());
        value.extend_from_slice(envelope);
        let value = sled::IVec::from(value);
        let outcome = (&self.inbox, &self.inbox_meta).transaction(|(inbox, meta)| {
            let counters = InboxMeta::load(meta, &prefix)?;
            if counters.pending >= max_pending {
                return Ok(Deposited::Full);
            }
            let id = counters.next_id;
            inbox.insert(with_u64(&prefix, id), value.clone())?;
            let next = InboxMeta {
                next_id: id + 1,
                pending: counters.pending + 1,
            };
            meta.insert(prefix.as_slice(), &next.encode()[..])?;
            Ok(Deposited::Stored(id))
        })?;
        if matches!(outcome, Deposited::Stored(_)) {
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
        let keys: Vec<Vec<u8>> = ids.iter().map(|id| with_u64(&prefix, *id)).collect();
        let removed = (&self.inbox, &self.inbox_meta).transaction(|(inbox, meta)| {
            let mut removed = 0u64;
            for key in &keys {
                if inbox.remove(key.as_slice())?.is_some() {
                    removed += 1;
                }
            }
            if removed > 0 {
                let counters = InboxMeta::load(meta, &prefix)?;
                let next = InboxMeta {
                    next_id: counters.next_id,
                    pending: counters.pending.saturating_sub(removed),
                };
                meta.insert(prefix.as_slice(), &next.encode()[..])?;
            }
            Ok(removed)
        })?;
        if removed > 0 {
            self.persist().await?;
        }
        Ok(())
    }
}
