//! Group commit: concurrent writers share flushes instead of each paying for one.
//!
//! Each writer takes a ticket after its write reached sled's memory. Whoever holds the flush
//! lock flushes everything ticketed so far and records the highest ticket covered; writers
//! queued behind it find their ticket already covered and return at once.

use std::sync::atomic::{AtomicU64, Ordering};

use super::StoreError;

/// Serialises flushes of one database and lets writers share them.
pub(super) struct Flusher {
    db: sled::Db,
    /// Tickets handed out: writes that are in memory and must be flushed.
    written: AtomicU64,
    /// Highest ticket known to be on disk.
    flushed: AtomicU64,
    lock: tokio::sync::Mutex<()>,
}

impl Flusher {
    pub(super) fn new(db: sled::Db) -> Self {
        Flusher {
            db,
            written: AtomicU64::new(0),
            flushed: AtomicU64::new(0),
            lock: tokio::sync::Mutex::new(()),
        }
    }

    /// Returns once every write completed before this call is durable.
    pub(super) async fn persist(&self) -> Result<(), StoreError> {
        let ticket = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        let _guard = self.lock.lock().await;
        if self.flushed.load(Ordering::SeqCst) >= ticket {
            return Ok(());
        }
        // Every ticket up to `target` belongs to a write that finished before its ticket was
        // taken, so the flush below covers all of them.
        let target = self.written.load(Ordering::SeqCst);
        let db = self.db.clone();
        // sled's flush_async hangs under concurrent callers; a blocking flush does not.
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|_| StoreError::FlushTask)??;
        self.flushed.fetch_max(target, Ordering::SeqCst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writers_all_return_after_a_flush() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let flusher = std::sync::Arc::new(Flusher::new(db.clone()));
        let mut tasks = Vec::new();
        for i in 0u32..50 {
            let db = db.clone();
            let flusher = flusher.clone();
            tasks.push(tokio::spawn(async move {
                db.insert(i.to_be_bytes(), &[1u8][..]).unwrap();
                flusher.persist().await.unwrap();
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(flusher.flushed.load(Ordering::SeqCst), 50);
    }
}
