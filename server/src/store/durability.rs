//! Group commit: concurrent writers share flushes instead of each paying for one.
//!
//! Each writer takes a ticket after its write reached sled's memory and wakes a dedicated
//! flush thread. The thread flushes everything ticketed when the flush starts and then
//! publishes the highest ticket it covered; every writer waiting on a covered ticket wakes at
//! once. Writes that land while a flush runs take tickets above it and ride the next flush,
//! which starts as soon as the current one ends: the disk is never idle while a write waits,
//! and no write returns before a flush that started after the write finished.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use tokio::sync::watch;

use super::StoreError;

/// When a write is flushed to disk before the operation that made it reports success.
///
/// Only [`FlushPolicy::GroupCommit`] keeps the relay's promise that an acknowledged write
/// survives a crash; the other two exist to measure it against and are not offered in the
/// configuration file or on the command line.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FlushPolicy {
    /// Every write waits for a flush that started after it; concurrent writes share one.
    #[default]
    GroupCommit,
    /// Every write runs a flush of its own. Benchmark baseline only.
    PerWrite,
    /// Writes return once in memory; sled flushes in the background every 500 ms and at
    /// shutdown. Loses acknowledged writes on a crash: benchmark baseline only.
    Disabled,
}

/// How far flushing has come, in tickets.
#[derive(Clone, Copy, Debug, Default)]
struct Progress {
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// Every ticket up to this one was in a flush that failed (unless `durable` covers it).
    failed: u64,
}

/// Makes the writes of one database durable according to a [`FlushPolicy`].
pub(super) struct Flusher {
    disk: Arc<Disk>,
    policy: FlushPolicy,
    group: Option<Group>,
}

/// A database and its log file.
struct Disk {
    db: sled::Db,
    /// sled's flush ends in `sync_file_range`, which neither flushes the drive's write cache
    /// nor the file's size; an `fdatasync` of the log after it does both.
    log: File,
}

impl Disk {
    /// Makes every write completed before this call durable.
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.log
            .sync_data()
            .map_err(|e| StoreError::Database(e.into()))
    }
}

/// The state shared by writers and the flush thread under [`FlushPolicy::GroupCommit`].
struct Group {
    /// Tickets handed out: writes that are in memory and must be flushed.
    written: Arc<AtomicU64>,
    progress: watch::Receiver<Progress>,
    /// Wakes the flush thread; dropping it stops the thread.
    wake: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Flusher {
    /// Starts flushing `db`, opened in `dir`, by `policy` (a thread of its own for group
    /// commit).
    pub(super) fn new(db: sled::Db, dir: &Path, policy: FlushPolicy) -> Result<Self, StoreError> {
        // sled 0.34 keeps its log in `<dir>/db`.
        let log = File::open(dir.join("db")).map_err(|e| StoreError::Database(e.into()))?;
        let disk = Arc::new(Disk { db, log });
        let group = match policy {
            FlushPolicy::GroupCommit => Some(Group::start(disk.clone())?),
            FlushPolicy::PerWrite | FlushPolicy::Disabled => None,
        };
        Ok(Flusher {
            disk,
            policy,
            group,
        })
    }

    /// Returns once every write completed before this call is durable (immediately under
    /// [`FlushPolicy::Disabled`]).
    pub(super) async fn persist(&self) -> Result<(), StoreError> {
        match (&self.group, self.policy) {
            (Some(group), _) => group.persist().await,
            (None, FlushPolicy::Disabled) => Ok(()),
            (None, _) => self.flush_now().await,
        }
    }

    /// Flushes everything written so far whatever the policy (used at shutdown).
    pub(super) async fn flush_all(&self) -> Result<(), StoreError> {
        match &self.group {
            Some(group) => group.persist().await,
            None => self.flush_now().await,
        }
    }

    async fn flush_now(&self) -> Result<(), StoreError> {
        let disk = self.disk.clone();
        // sled's flush_async hangs under concurrent callers; a blocking flush does not.
        tokio::task::spawn_blocking(move || disk.flush())
            .await
            .map_err(|_| StoreError::FlushTask)?
    }
}

impl Group {
    fn start(disk: Arc<Disk>) -> Result<Group, StoreError> {
        let written = Arc::new(AtomicU64::new(0));
        let (publish, progress) = watch::channel(Progress::default());
        let (wake, woken) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("parley-flush".into())
            .spawn({
                let written = written.clone();
                move || flush_loop(&disk, &written, &publish, &woken)
            })
            .map_err(|_| StoreError::FlushTask)?;
        Ok(Group {
            written,
            progress,
            wake: Some(wake),
            thread: Some(thread),
        })
    }

    async fn persist(&self) -> Result<(), StoreError> {
        let ticket = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        let wake = self.wake.as_ref().ok_or(StoreError::FlushTask)?;
        wake.send(()).map_err(|_| StoreError::FlushTask)?;
        let mut progress = self.progress.clone();
        let reached = progress
            .wait_for(|p| p.durable >= ticket || p.failed >= ticket)
            .await
            .map_err(|_| StoreError::FlushTask)?;
        if reached.durable >= ticket {
            Ok(())
        } else {
            Err(StoreError::FlushFailed)
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Closing the channel ends the thread; joining it releases its handle on the database
        // before the caller may reopen the same directory.
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The flush thread: flushes whenever tickets are waiting, until every writer handle is gone.
fn flush_loop(
    disk: &Disk,
    written: &AtomicU64,
    publish: &watch::Sender<Progress>,
    woken: &mpsc::Receiver<()>,
) {
    let mut durable = 0u64;
    while woken.recv().is_ok() {
        // One flush answers every wake-up sent so far.
        while woken.try_recv().is_ok() {}
        // Every ticket up to `target` belongs to a write that finished before its ticket was
        // taken, hence before the flush below starts, which therefore covers all of them.
        let target = written.load(Ordering::SeqCst);
        if target <= durable {
            continue;
        }
        match disk.flush() {
            Ok(_) => {
                durable = target;
                publish.send_modify(|p| p.durable = target);
            }
            Err(error) => {
                tracing::error!(%error, "flushing the database failed");
                publish.send_modify(|p| p.failed = target);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn open(dir: &std::path::Path) -> sled::Db {
        sled::Config::new().path(dir).open().unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_writers_share_flushes_and_all_return_durable() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let flusher =
            Arc::new(Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit).unwrap());
        let mut tasks = Vec::new();
        for i in 0u32..200 {
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
        let group = flusher.group.as_ref().unwrap();
        assert_eq!(group.written.load(Ordering::SeqCst), 200);
        assert_eq!(group.progress.borrow().durable, 200);
    }

    #[tokio::test]
    async fn a_write_after_a_flush_started_waits_for_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let flusher = Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit).unwrap();
        let group = flusher.group.as_ref().unwrap();
        db.insert(b"a", &b"1"[..]).unwrap();
        flusher.persist().await.unwrap();
        assert_eq!(group.progress.borrow().durable, 1);
        // The second write's ticket is above everything flushed so far, so it cannot be
        // answered by the first flush.
        db.insert(b"b", &b"2"[..]).unwrap();
        flusher.persist().await.unwrap();
        assert_eq!(group.progress.borrow().durable, 2);
    }

    #[tokio::test]
    async fn dropping_the_flusher_releases_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let flusher = Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit).unwrap();
        db.insert(b"k", &b"v"[..]).unwrap();
        flusher.flush_all().await.unwrap();
        drop(flusher);
        drop(db);
        let reopened = open(dir.path());
        assert_eq!(reopened.get(b"k").unwrap().unwrap(), &b"v"[..]);
    }

    #[tokio::test]
    async fn other_policies_persist_without_a_thread() {
        for policy in [FlushPolicy::PerWrite, FlushPolicy::Disabled] {
            let dir = tempfile::tempdir().unwrap();
            let db = open(dir.path());
            let flusher = Flusher::new(db.clone(), dir.path(), policy).unwrap();
            assert!(flusher.group.is_none());
            db.insert(b"k", &b"v"[..]).unwrap();
            flusher.persist().await.unwrap();
            flusher.flush_all().await.unwrap();
        }
    }
}
