//! sled's I/O threads, as vendored (vendor/README.md): a log write wakes one of them, not all,
//! and a flush writes the log on the flushing thread.
//!
//! sled 0.34.7 keeps seven idle I/O threads. It woke every one of them for each write of its
//! log buffer (six went back to sleep, a context switch each), and a flush handed its write
//! to one of them and slept until it was done: two more switches for every flush the relay's
//! group commit or a client's store made. Counted here from the kernel's own figures for the
//! threads sled names `sled-io-*`. An integration test binary is its own process, and the two
//! tests run one after the other (the pool is process-wide), so no other database shares it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Mutex;
use std::time::Duration;

/// sled's thread pool is one per process: the tests take turns.
static POOL: Mutex<()> = Mutex::new(());

/// What the kernel counted for sled's I/O threads so far.
#[derive(Debug, Default, Clone, Copy)]
struct IoThreads {
    /// Threads named `sled-io-*`.
    threads: usize,
    /// Times they gave up the CPU (waiting for work, or for the disk).
    switches: u64,
    /// Write system calls they made: about one per log buffer written.
    writes: u64,
}

impl IoThreads {
    fn now() -> IoThreads {
        let mut total = IoThreads::default();
        for task in std::fs::read_dir("/proc/self/task").unwrap() {
            let dir = task.unwrap().path();
            // A thread may end between the listing and the reads: skip it.
            let Ok(name) = std::fs::read_to_string(dir.join("comm")) else {
                continue;
            };
            if !name.starts_with("sled-io") {
                continue;
            }
            let (Ok(status), Ok(io)) = (
                std::fs::read_to_string(dir.join("status")),
                std::fs::read_to_string(dir.join("io")),
            ) else {
                continue;
            };
            total.threads += 1;
            total.switches += field(&status, "voluntary_ctxt_switches:");
            total.writes += field(&io, "syscw:");
        }
        total
    }

    fn since(self, before: IoThreads) -> IoThreads {
        IoThreads {
            threads: self.threads,
            switches: self.switches - before.switches,
            writes: self.writes - before.writes,
        }
    }
}

fn field(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

/// A database with sled's timer off (only the test's own writes and flushes reach the log),
/// its thread pool started and idle.
fn quiet_db(dir: &std::path::Path) -> sled::Db {
    let db = sled::Config::new()
        .path(dir)
        .flush_every_ms(None)
        .open()
        .unwrap();
    // More than one 512 KiB log buffer: sealing a full one starts the pool.
    for i in 0..48u64 {
        db.insert(i.to_be_bytes(), vec![7u8; 16 * 1024]).unwrap();
    }
    db.flush().unwrap();
    // Let every thread of the pool reach its idle wait.
    std::thread::sleep(Duration::from_millis(200));
    let idle = IoThreads::now();
    assert!(
        idle.threads >= 7,
        "sled keeps seven idle I/O threads; found {}",
        idle.threads
    );
    db
}

#[test]
fn a_log_write_wakes_one_io_thread_not_every_idle_one() {
    let _turn = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let db = quiet_db(dir.path());
    let before = IoThreads::now();
    // 24 MiB without a flush: sled seals each full 512 KiB log buffer and hands its write to
    // the pool.
    for i in 0..1536u64 {
        db.insert((1000 + i).to_be_bytes(), vec![(i % 251) as u8; 16 * 1024])
            .unwrap();
    }
    // Writes still in the pool's hands finish.
    std::thread::sleep(Duration::from_millis(300));
    let spent = IoThreads::now().since(before);
    assert!(
        spent.writes >= 40,
        "expected sled's I/O threads to write the full buffers: {spent:?}"
    );
    // Each write: one thread woken, and its waits for the disk. Waking all seven made it eight
    // or more.
    let per_write = spent.switches as f64 / spent.writes as f64;
    eprintln!("sled's I/O threads: {per_write:.2} switches per log write ({spent:?})");
    assert!(
        per_write < 6.0,
        "sled's I/O threads switched {per_write:.1} times per log write ({spent:?})"
    );
}

#[test]
fn a_flush_writes_the_log_on_the_flushing_thread() {
    let _turn = POOL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let db = quiet_db(dir.path());
    const FLUSHES: u64 = 300;
    let before = IoThreads::now();
    for i in 0..FLUSHES {
        db.insert((1000 + i).to_be_bytes(), vec![7u8; 64]).unwrap();
        db.flush().unwrap();
    }
    let spent = IoThreads::now().since(before);
    // The idle threads still wake once a second when their wait times out; a flush no longer
    // wakes any (before: about two switches per flush, seven when every idle thread woke).
    let per_flush = spent.switches as f64 / FLUSHES as f64;
    eprintln!("sled's I/O threads: {per_flush:.2} switches per flush ({spent:?})");
    assert!(
        per_flush < 0.5,
        "sled's I/O threads switched {per_flush:.1} times per flush ({spent:?})"
    );
    assert!(
        spent.writes < FLUSHES / 4,
        "sled's I/O threads wrote the flushed log: {spent:?}"
    );
}
