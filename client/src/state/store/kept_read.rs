//! Records read often and written seldom, kept decoded between the batches that change them.
//!
//! Receiving one message read the conversation list four times (expiry, the active groups,
//! the groups to subscribe, the names the message is shown with), each a scan that opened
//! and decoded every conversation record: about a tenth of a receiving member's work in a
//! room of a hundred. Sending to a room looked up every member's pinned contact, one record
//! opened per member before the message could leave. Both change only with a batch that
//! writes or removes such a record, so what was read is kept until one is applied.
//!
//! What keeps it true: a value is read and kept while the store's read lock is held, and
//! forgotten while a batch that touches its records holds the write lock, so a value kept
//! is never older than the last batch applied. Every batch goes through the one `Store`
//! (its clones share what is kept), and no second one can open the same database while it
//! is open (sled locks it), so no write can go around what is kept.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::api::error::StoreError;

/// A value read from the store, if one was read since the last batch that changed it.
pub(super) struct KeptRead<V>(Mutex<Option<Arc<V>>>);

impl<V> Default for KeptRead<V> {
    fn default() -> Self {
        KeptRead(Mutex::new(None))
    }
}

impl<V> KeptRead<V> {
    /// The kept value, or the one `read` returns, kept for the next call. The caller holds
    /// the store's read lock, so no batch lands between `read` and keeping what it read.
    pub(super) fn get_or_read(
        &self,
        read: impl FnOnce() -> Result<V, StoreError>,
    ) -> Result<Arc<V>, StoreError> {
        let mut kept = self.lock();
        if let Some(value) = kept.as_ref() {
            return Ok(Arc::clone(value));
        }
        let value = Arc::new(read()?);
        *kept = Some(Arc::clone(&value));
        Ok(value)
    }

    /// Forgets the kept value. The caller holds the store's write lock, and calls this for
    /// every batch that writes or removes one of its records, whether or not the batch
    /// succeeds (the next read then reads the store itself).
    pub(super) fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> MutexGuard<'_, Option<Arc<V>>> {
        // The value is replaced whole or read; a panic elsewhere cannot leave it half-made.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
