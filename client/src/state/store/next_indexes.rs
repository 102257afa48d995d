//! The next free index of each indexed range (a group's history, the unread marks, alerts,
//! held deliveries, the outbox), kept once read and moved by the batches that write there.
//!
//! Receiving a message staged its history record and its unread mark, each at the index
//! after its range's last: a backward scan of sled's tree each, about a twentieth of a
//! receiving member's work in a room. The index changes only with a batch that writes or
//! removes a record of its range, so it is kept and moved with those batches instead.
//!
//! What keeps it true is what keeps [`super::kept_read`] true: an index is read and kept
//! under the store's read lock, and moved (or forgotten) under the write lock by every
//! batch, so a kept index is always the one a scan of the tree would give.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

/// Next indexes by the tree key prefix of their range.
#[derive(Default)]
pub(super) struct NextIndexes(Mutex<HashMap<Vec<u8>, u64>>);

impl NextIndexes {
    /// The kept next index of the range whose keys start with `prefix`, if one is kept.
    pub(super) fn get(&self, prefix: &[u8]) -> Option<u64> {
        self.lock().get(prefix).copied()
    }

    /// Keeps `next` as the range's next index, as read from the tree under the read lock.
    pub(super) fn keep(&self, prefix: Vec<u8>, next: u64) {
        self.lock().insert(prefix, next);
    }

    /// Follows a write (`written`) or removal of the record at `position` whose tree key is
    /// `key` (its range's prefix, then the position), under the write lock once the batch
    /// holding it is applied. Removing the last record makes the next index unknown (the one
    /// before it is not kept), so it is forgotten and read again when asked for.
    pub(super) fn follow(&self, key: &[u8], position: u64, written: bool) {
        let Some(prefix) = key.len().checked_sub(8).and_then(|at| key.get(..at)) else {
            return;
        };
        let mut known = self.lock();
        let Some(next) = known.get_mut(prefix) else {
            return;
        };
        if written {
            *next = (*next).max(position.saturating_add(1));
        } else if position.saturating_add(1) == *next {
            known.remove(prefix);
        }
    }

    /// Forgets every kept index (a batch that failed part way: the tree is read again).
    pub(super) fn forget_all(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Vec<u8>, u64>> {
        // Entries are replaced whole; a panic elsewhere cannot leave one half-made.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
