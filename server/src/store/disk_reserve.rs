//! Keeps the data disk from filling up: writes that add data are refused while the file
//! system holding the database has less free space than a reserve.
//!
//! sled 0.34 does not survive a full disk: after a write fails with ENOSPC, a restart can
//! drop writes that were flushed and acknowledged before it (seen in server/tests/faults.rs
//! without this reserve). So the relay stops adding data while there is still room, keeping
//! the room for acknowledgements, deletions and sled's own bookkeeping.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::StoreError;

/// The free-space floor of one database directory.
pub(super) struct DiskReserve {
    dir: PathBuf,
    /// Bytes that must stay free; 0 disables the check. Atomic so that a test can take the
    /// disk away from a running store and give it back.
    min_free: AtomicU64,
    /// Whether the last check found the disk below the reserve, so that the operator is told
    /// once when it happens and once when it ends, not on every refused call.
    short: AtomicBool,
}

impl DiskReserve {
    /// A reserve of `min_free` bytes on the file system holding `dir`.
    pub(super) fn new(dir: PathBuf, min_free: u64) -> DiskReserve {
        DiskReserve {
            dir,
            min_free: AtomicU64::new(min_free),
            short: AtomicBool::new(false),
        }
    }

    /// The same directory with another reserve.
    pub(super) fn with_min_free(&self, min_free: u64) -> DiskReserve {
        DiskReserve::new(self.dir.clone(), min_free)
    }

    /// Changes the reserve of a store in use (a test's way to make its disk full).
    #[cfg(test)]
    pub(super) fn set_min_free(&self, min_free: u64) {
        self.min_free.store(min_free, Ordering::Relaxed);
    }

    /// Succeeds when a write that adds data may go ahead. A file system that cannot be asked
    /// counts as full: refusing a write is recoverable, a full disk under sled is not.
    pub(super) fn admit(&self) -> Result<(), StoreError> {
        let min_free = self.min_free.load(Ordering::Relaxed);
        if min_free == 0 {
            return Ok(());
        }
        let free = rustix::fs::statvfs(&self.dir)
            .map(|s| s.f_bavail.saturating_mul(s.f_frsize))
            .unwrap_or(0);
        let short = free < min_free;
        if self.short.swap(short, Ordering::Relaxed) != short {
            if short {
                tracing::error!(
                    free_bytes = free,
                    reserve_bytes = min_free,
                    "data disk is below its free-space reserve: refusing new data until space is freed"
                );
            } else {
                tracing::warn!(
                    free_bytes = free,
                    "data disk is above its reserve again: accepting new data"
                );
            }
        }
        if short {
            Err(StoreError::DiskReserve)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reserve_larger_than_any_disk_refuses_and_zero_admits() {
        let dir = tempfile::tempdir().unwrap();
        let huge = DiskReserve::new(dir.path().to_owned(), u64::MAX);
        assert!(matches!(huge.admit(), Err(StoreError::DiskReserve)));
        assert!(huge.short.load(Ordering::Relaxed));
        let off = DiskReserve::new(dir.path().to_owned(), 0);
        assert!(off.admit().is_ok());
        let small = DiskReserve::new(dir.path().to_owned(), 1);
        assert!(small.admit().is_ok());
    }

    #[test]
    fn a_directory_that_cannot_be_asked_counts_as_full() {
        let dir = tempfile::tempdir().unwrap();
        let gone = DiskReserve::new(dir.path().join("missing"), 1);
        assert!(matches!(gone.admit(), Err(StoreError::DiskReserve)));
    }
}
