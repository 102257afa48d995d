//! The conversation list, kept decoded between the batches that change it.
//!
//! Receiving one message reads the list four times (expiry, the active groups, the groups
//! to subscribe, the names the message is shown with), and each read was a scan that opened
//! and decoded every conversation record: about a tenth of a receiving member's work in a
//! room of a hundred. The list changes only with a batch that writes or removes a
//! conversation record, so it is kept until such a batch is applied.
//!
//! What keeps it true: the list is read and kept while the store's read lock is held, and
//! forgotten while a batch that touches a conversation holds the write lock, so a list kept
//! is never older than the last batch applied.

use std::sync::{Mutex, MutexGuard, PoisonError};

use super::records::Conversation;
use crate::api::error::StoreError;

/// The kept list, if one was read since the last batch that wrote a conversation.
#[derive(Default)]
pub(super) struct ConversationCache(Mutex<Option<Vec<Conversation>>>);

impl ConversationCache {
    /// The kept list, or the one `read` returns, kept for the next call. The caller holds
    /// the store's read lock, so no batch lands between `read` and keeping what it read.
    pub(super) fn get_or_read(
        &self,
        read: impl FnOnce() -> Result<Vec<Conversation>, StoreError>,
    ) -> Result<Vec<Conversation>, StoreError> {
        let mut kept = self.lock();
        if let Some(list) = kept.as_ref() {
            return Ok(list.clone());
        }
        let list = read()?;
        *kept = Some(list.clone());
        Ok(list)
    }

    /// Forgets the kept list. The caller holds the store's write lock, and calls this for
    /// every batch that writes or removes a conversation, before or after applying it
    /// (whether or not the batch succeeds: the next read then reads the store itself).
    pub(super) fn forget(&self) {
        *self.lock() = None;
    }

    fn lock(&self) -> MutexGuard<'_, Option<Vec<Conversation>>> {
        // The value is replaced whole or read; a panic elsewhere cannot leave it half-made.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
