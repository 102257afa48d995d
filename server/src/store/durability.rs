//! Group commit: concurrent writers share flushes instead of each paying for one.
//!
//! Each writer takes a ticket after its write reached sled's memory and, if it is asleep,
//! wakes a dedicated write thread. That thread has sled write out everything ticketed when it
//! starts (sled's flush: the log buffer written and its range synced) and hands the highest
//! ticket covered to a sync thread, which `fdatasync`s the envelope log's new appends, then
//! sled's log (the file's size and the drive's cache), and publishes the ticket; every writer
//! waiting on a covered ticket wakes at once. The two
//! stages overlap: while one batch is being synced the next is already being written, so a
//! write waits for about one disk operation instead of two. Writes that land while a batch is
//! in flight take tickets above it and ride the next one, and no write returns before a sync
//! that started after sled had written it.

use std::fs::File;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::envelope_log::EnvelopeLog;
use super::flush_waiters::{FlushWaiters, Registered};
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

/// Longest a batch waits to gather more writes before its flush starts.
const GATHER_WINDOW: Duration = Duration::from_millis(1);
/// A batch stops gathering once this many writes are waiting (or as many as the last batch
/// held, if fewer).
const GATHER_TARGET: u64 = 32;
/// How often a gathering batch looks whether enough writes are waiting. Writers do not wake
/// the write thread while it is busy (one wake-up per write cost more CPU than the flushes
/// under load), so a gathering batch looks for them.
const GATHER_POLL: Duration = Duration::from_micros(100);

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
    /// Files whose writes sled's records point at: synced before sled's log.
    envelopes: Option<Arc<EnvelopeLog>>,
}

impl Disk {
    /// Makes every write completed before this call durable.
    fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.sync()
    }

    /// Makes durable what sled has already written out (its flush) before this call.
    fn sync(&self) -> Result<(), StoreError> {
        if let Some(envelopes) = &self.envelopes {
            envelopes.sync()?;
        }
        self.log
            .sync_data()
            .map_err(|e| StoreError::Database(e.into()))
    }
}

/// The state shared by writers and the flush threads under [`FlushPolicy::GroupCommit`].
struct Group {
    /// Tickets handed out: writes that are in memory and must be flushed.
    written: Arc<AtomicU64>,
    /// Set by the write thread just before it sleeps; the writer that clears it wakes it.
    asleep: Arc<AtomicBool>,
    waiters: Arc<FlushWaiters>,
    /// Wakes the write thread; dropping it stops both threads.
    wake: Option<mpsc::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Flusher {
    /// Starts flushing `db`, opened in `dir`, by `policy` (a thread of its own for group
    /// commit); `envelopes`, if any, are made durable with it.
    pub(super) fn new(
        db: sled::Db,
        dir: &Path,
        policy: FlushPolicy,
        envelopes: Option<Arc<EnvelopeLog>>,
    ) -> Result<Self, StoreError> {
        // sled 0.34 keeps its log in `<dir>/db`.
        let log = File::open(dir.join("db")).map_err(|e| StoreError::Database(e.into()))?;
        let disk = Arc::new(Disk { db, log, envelopes });
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
        let asleep = Arc::new(AtomicBool::new(false));
        let waiters = Arc::new(FlushWaiters::default());
        let (wake, woken) = mpsc::channel();
        let (hand_over, written_out) = mpsc::channel();
        let sync = spawn("parley-sync", {
            let (disk, waiters) = (disk.clone(), waiters.clone());
            move || sync_loop(&disk, &waiters, &written_out)
        })?;
        let write = spawn("parley-flush", {
            let (written, waiters) = (written.clone(), waiters.clone());
            let bell = Bell {
                written,
                asleep: asleep.clone(),
                woken,
            };
            move || write_loop(&disk, &bell, &waiters, &hand_over)
        })?;
        Ok(Group {
            written,
            asleep,
            waiters,
            wake: Some(wake),
            // The write thread first: it ends first, which ends the sync thread.
            threads: vec![write, sync],
        })
    }

    async fn persist(&self) -> Result<(), StoreError> {
        let ticket = self.written.fetch_add(1, Ordering::SeqCst) + 1;
        let durable = match self.waiters.register(ticket) {
            Registered::Settled(durable) => durable,
            Registered::Waiting(told) => {
                // The ticket was taken before this check, so a write thread that is not asleep
                // will see it before it sleeps (see `Bell::sleep`).
                if self.asleep.swap(false, Ordering::SeqCst) {
                    let wake = self.wake.as_ref().ok_or(StoreError::FlushTask)?;
                    wake.send(()).map_err(|_| StoreError::FlushTask)?;
                }
                told.await.map_err(|_| StoreError::FlushTask)?
            }
        };
        if durable {
            Ok(())
        } else {
            Err(StoreError::FlushFailed)
        }
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // Closing the channel ends the write thread, whose end closes the sync thread's;
        // joining them releases their handles on the database before the caller may reopen
        // the same directory.
        drop(self.wake.take());
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn spawn(name: &str, body: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, StoreError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(body)
        .map_err(|_| StoreError::FlushTask)
}

/// How writers wake the write thread: only when it sleeps, so a busy write thread is not
/// interrupted by every write.
struct Bell {
    /// Tickets handed out (shared with the writers).
    written: Arc<AtomicU64>,
    /// Shared with the writers: see [`Group::asleep`].
    asleep: Arc<AtomicBool>,
    /// Receives the wake-up of the writer that cleared `asleep`.
    woken: mpsc::Receiver<()>,
}

impl Bell {
    /// Returns once a ticket above `written_out` exists; false once every writer handle is gone.
    fn sleep(&self, written_out: u64) -> bool {
        if self.written.load(Ordering::SeqCst) > written_out {
            return true;
        }
        self.asleep.store(true, Ordering::SeqCst);
        // A writer takes its ticket before it looks at `asleep`: either this load sees the
        // ticket, or the writer sees `asleep` set and rings.
        if self.written.load(Ordering::SeqCst) > written_out {
            if self.asleep.swap(false, Ordering::SeqCst) {
                return true;
            }
            // A writer cleared it first: take its wake-up now, so none is left for later.
            return self.woken.recv().is_ok();
        }
        self.woken.recv().is_ok()
    }

    /// Waits, at most [`GATHER_WINDOW`], until `want` tickets above `written_out` are waiting.
    ///
    /// Only called when the previous batch had company: a lone writer never waits. Under
    /// concurrent load, each batch costs the two cores about the same (thread hand-offs, system
    /// calls, the virtual disk's exits) whatever its size, so a batch gathered for a moment
    /// leaves more of them to the requests themselves.
    fn gather(&self, written_out: u64, want: u64) {
        let until = Instant::now() + GATHER_WINDOW;
        while self.written.load(Ordering::SeqCst) - written_out < want {
            let left = until.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            std::thread::sleep(left.min(GATHER_POLL));
        }
    }
}

/// The write thread: has sled write out every ticketed write, batch after batch, and hands
/// each batch's highest ticket to the sync thread, until every writer handle is gone.
fn write_loop(disk: &Disk, bell: &Bell, waiters: &FlushWaiters, hand_over: &mpsc::Sender<u64>) {
    let mut written_out = 0u64;
    let mut last_batch = 0u64;
    while bell.sleep(written_out) {
        if last_batch > 1 {
            bell.gather(written_out, last_batch.min(GATHER_TARGET));
        }
        // Every ticket up to `target` belongs to a write that finished before its ticket was
        // taken, hence before the flush below starts, which therefore covers all of them.
        let target = bell.written.load(Ordering::SeqCst);
        last_batch = target - written_out;
        match disk.db.flush() {
            Ok(_) => {
                written_out = target;
                if hand_over.send(target).is_err() {
                    waiters.failed(target);
                }
            }
            Err(error) => {
                tracing::error!(%error, "flushing the database failed");
                waiters.failed(target);
                // Not retried at once: the writers were told, and the next write tries again.
                written_out = target;
            }
        }
    }
}

/// The sync thread: makes each batch sled has written durable and publishes it, until the
/// write thread ends.
fn sync_loop(disk: &Disk, waiters: &FlushWaiters, written_out: &mpsc::Receiver<u64>) {
    while let Ok(mut target) = written_out.recv() {
        // One sync covers every batch written out before it starts.
        while let Ok(later) = written_out.try_recv() {
            target = target.max(later);
        }
        match disk.sync() {
            Ok(()) => waiters.durable(target),
            Err(error) => {
                tracing::error!(%error, "syncing the database log failed");
                waiters.failed(target);
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
            Arc::new(Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit, None).unwrap());
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
        assert_eq!(group.waiters.durable_up_to(), 200);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn writers_arriving_as_the_write_thread_falls_asleep_are_never_left_waiting() {
        // Writers that each wait for their own flush before writing again make the write
        // thread fall asleep and wake up thousands of times, at every point of its loop; a
        // wake-up lost between its last look and its sleep would leave a writer hanging.
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let flusher =
            Arc::new(Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit, None).unwrap());
        let writers: Vec<_> = (0u32..4)
            .map(|writer| {
                let (db, flusher) = (db.clone(), flusher.clone());
                tokio::spawn(async move {
                    for i in 0u32..500 {
                        db.insert([writer.to_be_bytes(), i.to_be_bytes()].concat(), &[1u8][..])
                            .unwrap();
                        flusher.persist().await.unwrap();
                    }
                })
            })
            .collect();
        for writer in writers {
            tokio::time::timeout(Duration::from_secs(60), writer)
                .await
                .expect("a writer was left waiting for a flush")
                .unwrap();
        }
        let group = flusher.group.as_ref().unwrap();
        assert_eq!(group.waiters.durable_up_to(), 2000);
    }

    #[tokio::test]
    async fn a_write_after_a_flush_started_waits_for_the_next_one() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let flusher = Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit, None).unwrap();
        let group = flusher.group.as_ref().unwrap();
        db.insert(b"a", &b"1"[..]).unwrap();
        flusher.persist().await.unwrap();
        assert_eq!(group.waiters.durable_up_to(), 1);
        // The second write's ticket is above everything flushed so far, so it cannot be
        // answered by the first flush.
        db.insert(b"b", &b"2"[..]).unwrap();
        flusher.persist().await.unwrap();
        assert_eq!(group.waiters.durable_up_to(), 2);
    }

    #[tokio::test]
    async fn dropping_the_flusher_releases_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = open(dir.path());
        let flusher = Flusher::new(db.clone(), dir.path(), FlushPolicy::GroupCommit, None).unwrap();
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
            let flusher = Flusher::new(db.clone(), dir.path(), policy, None).unwrap();
            assert!(flusher.group.is_none());
            db.insert(b"k", &b"v"[..]).unwrap();
            flusher.persist().await.unwrap();
            flusher.flush_all().await.unwrap();
        }
    }
}
