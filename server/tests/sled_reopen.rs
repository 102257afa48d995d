//! A sled database closed by its last handle can be opened again at once, in the same process.
//!
//! sled 0.34.7 wrote the log buffer of the final flush (when the last handle drops) on one of
//! its I/O threads, which held the database's file, and with it the file lock, until it had
//! finished after waking the closing thread: an open right after the drop could fail with
//! "could not acquire lock" (CI's fresh-clone runs failed on it twice in tests that reopen a
//! store). The vendored sled writes that buffer on the closing thread (vendor/README.md).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

/// Close-and-reopen cycles.
const CYCLES: u32 = 1000;

#[test]
fn a_database_reopens_right_after_its_last_handle_drops() {
    let dir = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    for cycle in 0..CYCLES {
        let db = match sled::Config::new().path(dir.path()).open() {
            Ok(db) => db,
            Err(error) => {
                failures.push(format!("cycle {cycle}: {error}"));
                // Let the previous handle's threads finish before the next cycle.
                std::thread::sleep(std::time::Duration::from_millis(50));
                continue;
            }
        };
        // Unflushed writes, so that the drop's flush has a buffer to write.
        for i in 0..8u32 {
            db.insert((cycle * 8 + i).to_be_bytes(), vec![1u8; 512])
                .unwrap();
        }
        drop(db);
    }
    assert!(
        failures.is_empty(),
        "{} of {CYCLES} opens failed, first: {}",
        failures.len(),
        failures[0]
    );
}
