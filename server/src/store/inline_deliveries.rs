//! Deliveries of relays before the envelope log: each envelope inline in an `inbox` tree
//! (`handle prefix | u64 id` -> `u64 received_at_ms | envelope`), moved at open into the log
//! and the `deliveries` tree under the same keys.
//!
//! Crash safety: each batch's envelopes are appended and synced before one transaction moves
//! the batch's keys from one tree to the other, so a crash leaves every delivery in exactly
//! one of the trees; envelopes appended for a batch whose transaction did not happen point
//! nowhere, and the log deletes their segment on a later open once nothing else lies in it.

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::inbox::encode_delivery;
use super::keys::read_u64;
use super::{SledStore, StoreError};
use crate::metrics::Kind;

/// Name of the tree older relays kept envelopes in.
const INLINE_TREE: &str = "inbox";
/// Deliveries moved per transaction.
const BATCH: usize = 500;

impl SledStore {
    /// Moves every delivery an older relay kept inline into the envelope log, then drops the
    /// old tree; returns how many moved.
    pub(super) fn migrate_inline_deliveries(&self) -> Result<u64, StoreError> {
        if !self
            .db
            .tree_names()
            .iter()
            .any(|name| name == INLINE_TREE.as_bytes())
        {
            return Ok(0);
        }
        let inline = self.db.open_tree(INLINE_TREE)?;
        let mut moved = 0u64;
        loop {
            let mut batch = Vec::new();
            for item in inline.iter().take(BATCH) {
                let (key, value) = item?;
                let received_at_ms = read_u64(&value, 0, "inbox delivery")?;
                let envelope = value
                    .get(8..)
                    .ok_or(StoreError::Corrupt("inbox delivery"))?;
                let location = self.envelopes.append(envelope)?;
                batch.push((key, encode_delivery(received_at_ms, location)));
                self.metrics.stored_add(Kind::Inbox, location.len());
            }
            if batch.is_empty() {
                break;
            }
            self.envelopes.sync()?;
            (&inline, &self.deliveries).transaction(|(inline, deliveries)| {
                for (key, value) in &batch {
                    inline.remove(key)?;
                    deliveries.insert(key, &value[..])?;
                }
                Ok::<_, ConflictableTransactionError<StoreError>>(())
            })?;
            moved = moved.saturating_add(u64::try_from(batch.len()).unwrap_or(u64::MAX));
        }
        // sled recovers a prefix of its log, so the drop cannot survive a crash without the
        // moves before it.
        self.db.drop_tree(INLINE_TREE)?;
        self.db.flush()?;
        if moved > 0 {
            tracing::info!(
                moved,
                "moved an older relay's inbox deliveries into the envelope log"
            );
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::compact::open as open_untimed;
    use crate::store::FlushPolicy;
    use parley_crypto::handle::Handle;

    /// `u8 len | handle | u64 id`, as the older relay keyed its deliveries.
    fn key(handle: &str, id: u64) -> Vec<u8> {
        let mut key = vec![u8::try_from(handle.len()).unwrap()];
        key.extend_from_slice(handle.as_bytes());
        key.extend_from_slice(&id.to_be_bytes());
        key
    }

    fn inline_value(received_at_ms: u64, envelope: &[u8]) -> Vec<u8> {
        let mut value = received_at_ms.to_be_bytes().to_vec();
        value.extend_from_slice(envelope);
        value
    }

    #[tokio::test]
    async fn an_older_relays_deliveries_are_moved_and_read_back_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        {
            // What an older relay left: deliveries inline, counters beside them.
            let db = open_untimed(dir.path()).unwrap();
            let inbox = db.open_tree(INLINE_TREE).unwrap();
            for id in 1..=1200u64 {
                let envelope = [u8::try_from(id % 251).unwrap(); 300];
                inbox
                    .insert(key("alice", id), inline_value(id * 10, &envelope))
                    .unwrap();
            }
            inbox
                .insert(key("bob", 7), inline_value(5, b"bob's"))
                .unwrap();
            let mut counters = 1201u64.to_be_bytes().to_vec();
            counters.extend_from_slice(&1200u64.to_be_bytes());
            counters.extend_from_slice(&(1200u64 * 300).to_be_bytes());
            db.open_tree("inbox_meta")
                .unwrap()
                .insert(&key("alice", 0)[..6], counters)
                .unwrap();
            db.flush().unwrap();
        }
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        // The stored-bytes gauge counts what was moved in.
        assert!(store.metrics.render().contains(&format!(
            "parley_stored_bytes{{kind=\"inbox\"}} {}\n",
            1200 * 300 + 5
        )));
        assert!(!store
            .db
            .tree_names()
            .iter()
            .any(|name| name == INLINE_TREE.as_bytes()));
        let alice = Handle::parse("alice").unwrap();
        let mut seen = 0u64;
        let mut from = 0;
        loop {
            let page = store
                .pending_deliveries(&alice, from, 500, 1 << 20)
                .unwrap();
            let Some(last) = page.last() else { break };
            from = last.id + 1;
            for delivery in &page {
                assert_eq!(delivery.received_at_ms, delivery.id * 10);
                assert_eq!(
                    delivery.envelope,
                    [u8::try_from(delivery.id % 251).unwrap(); 300]
                );
                seen += 1;
            }
        }
        assert_eq!(seen, 1200);
        let bob = Handle::parse("bob").unwrap();
        let bobs = store.pending_deliveries(&bob, 0, 10, 1 << 20).unwrap();
        assert_eq!(bobs.len(), 1);
        assert_eq!(
            (bobs[0].id, bobs[0].envelope.as_slice()),
            (7, &b"bob's"[..])
        );
        // The counters still match: acknowledging everything empties the inbox.
        store
            .acknowledge(&alice, &(1..=1200).collect::<Vec<u64>>())
            .await
            .unwrap();
        assert!(store
            .pending_deliveries(&alice, 0, 10, 1 << 20)
            .unwrap()
            .is_empty());
        assert_eq!(store.inbox_bytes().unwrap(), 5, "bob's delivery is left");
    }

    #[test]
    fn a_corrupt_inline_delivery_fails_the_open_with_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = open_untimed(dir.path()).unwrap();
            db.open_tree(INLINE_TREE)
                .unwrap()
                .insert(key("alice", 1), &[1u8, 2, 3][..])
                .unwrap();
            db.flush().unwrap();
        }
        let opened = SledStore::open(dir.path(), FlushPolicy::GroupCommit);
        assert!(matches!(opened, Err(StoreError::Corrupt(_))));
    }
}
