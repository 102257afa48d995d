//! One lock per inbox, guarding that inbox's counters as held in memory.
//!
//! Deposits write without a sled transaction, whose global write lock would stall every write
//! for the whole of each flush; the per-inbox lock is what keeps an inbox's id assignment and
//! quota arithmetic consistent instead. Each lock holds the counters once loaded from the
//! database, so that only the first write to an inbox after start reads them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// One inbox's lock, holding `T` once loaded (`None` before).
pub(super) type Slot<T> = Arc<Mutex<Option<T>>>;

/// Locks by inbox prefix.
pub(super) struct InboxLocks<T> {
    locks: Mutex<HashMap<Vec<u8>, Slot<T>>>,
}

impl<T> InboxLocks<T> {
    pub(super) fn new() -> Self {
        InboxLocks {
            locks: Mutex::new(HashMap::new()),
        }
    }

    /// The lock of the inbox with `prefix`, created on first use.
    pub(super) fn get(&self, prefix: &[u8]) -> Slot<T> {
        // Holders only ever replace the value whole, so a holder that panicked cannot have
        // left it half updated: a poisoned lock is still sound.
        let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
        locks.entry(prefix.to_vec()).or_default().clone()
    }
}

/// Locks one inbox's slot (see [`InboxLocks::get`] on poisoning).
pub(super) fn lock<T>(slot: &Mutex<Option<T>>) -> MutexGuard<'_, Option<T>> {
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}
