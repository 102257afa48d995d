//! One lock per inbox or group log, guarding its counters as held in memory.
//!
//! Deposits and group posts write without a sled transaction, whose global write lock would
//! stall every write for the whole of each flush and whose commit makes sled write its log
//! buffer out twice; the per-inbox or per-group lock is what keeps id or sequence number
//! assignment and the counters consistent instead. Each lock holds the counters once loaded
//! from the database, so that only the first write after start reads them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One inbox's or group's lock, holding `T` once loaded (`None` before).
pub(super) type Slot<T> = Arc<Mutex<Option<T>>>;

/// Locks by key (an inbox's prefix, a group's id).
pub(super) struct CounterLocks<T> {
    locks: Mutex<HashMap<Vec<u8>, Slot<T>>>,
}

impl<T> CounterLocks<T> {
    pub(super) fn new() -> Self {
        CounterLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The lock of `key`, created on first use.
    pub(super) fn get(&self, key: &[u8]) -> Slot<T> {
        // Holders only ever replace the value whole, so a holder that panicked cannot have
        // left it half updated: a poisoned lock is still sound.
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(key.to_vec()).or_default().clone()
    }

    /// The lock of `key` if a writer ever made one; readers use this so that asking about
    /// ids nobody writes to leaves nothing behind.
    pub(super) fn existing(&self, key: &[u8]) -> Option<Slot<T>> {
        let locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.get(key).cloned()
    }
}

/// Locks one slot (see [`CounterLocks::get`] on poisoning).
pub(super) fn lock<T>(slot: &Mutex<Option<T>>) -> MutexGuard<'_, Option<T>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}
