//! Returning disk space: sled never shrinks its files after removals, so compaction copies
//! the live data into a fresh database and swaps it in.
//!
//! The swap is crash-safe by directory renames: the copy is built in `db.compacting`, renamed
//! to `db.compacted` once complete and flushed, then `db` becomes `db.old` and `db.compacted`
//! becomes `db`. [`recover`] finishes or discards whatever step a crash interrupted, before
//! the database is opened.
//!
//! The blobs' chunk files (`db/chunks`, see [`super::chunk_files`]) and the inbox envelopes
//! (`db/envelopes`, see [`super::envelope_log`]) are not sled's and are not copied: the swap
//! moves each directory into `db.compacted` by one rename just before `db` is renamed away. Until `db.compacted` exists the chunks never leave `db`; once it exists
//! the swap only goes forward, so a crash at any step leaves them in the directory that
//! becomes `db`.

use std::path::{Path, PathBuf};

use super::chunk_files::{chunks_dir, sync_dir};
use super::envelope_log::envelopes_dir;
use super::keys::key_suffix_u64;
use super::StoreError;
use crate::limits::LimitsConfig;
use crate::metrics::disk_usage;

/// Items copied per batch.
const COPY_BATCH: usize = 1000;

/// The outcome of a compaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Compacted {
    /// Bytes of database files before (the documents' chunk files included).
    pub before_bytes: u64,
    /// Bytes of database files after (the documents' chunk files included, unchanged).
    pub after_bytes: u64,
    /// Bytes of keys and values copied (the live data; chunk files are moved, not copied).
    pub live_bytes: u64,
}

fn sibling(db_dir: &Path, suffix: &str) -> PathBuf {
    let mut name = db_dir.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db_dir.with_file_name(name)
}

/// Opens a database without sled's background flush timer: compaction flushes explicitly
/// (and tests that write a database by hand reopen it at once, with no timer thread holding
/// its lock).
pub(super) fn open(dir: &Path) -> Result<sled::Db, StoreError> {
    Ok(sled::Config::new().path(dir).flush_every_ms(None).open()?)
}

/// Makes directory renames in `db_dir`'s parent durable.
fn sync_parent(db_dir: &Path) -> Result<(), StoreError> {
    if let Some(parent) = db_dir.parent() {
        let parent = if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        };
        std::fs::File::open(parent)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| StoreError::Database(e.into()))?;
    }
    Ok(())
}

fn io(error: std::io::Error) -> StoreError {
    StoreError::Database(error.into())
}

/// The directories of files beside sled's in a database directory: the blobs' chunk files
/// and the inbox envelopes.
fn side_dirs(db_dir: &Path) -> [PathBuf; 2] {
    [chunks_dir(db_dir), envelopes_dir(db_dir)]
}

/// Moves the chunk files and the envelope log of `db_dir` into the finished copy `compacted`
/// (those still in `db_dir`), durably.
fn carry_chunks(db_dir: &Path, compacted: &Path) -> Result<(), StoreError> {
    for (from, to) in side_dirs(db_dir).into_iter().zip(side_dirs(compacted)) {
        if !from.exists() {
            continue;
        }
        // Fails (and leaves both alone) if the copy somehow has such files of its own.
        std::fs::rename(&from, to).map_err(io)?;
        sync_dir(compacted)?;
        sync_dir(db_dir)?;
    }
    Ok(())
}

/// Bytes of sled's files in `db_dir`: the database's size without the chunk files and the
/// envelope log, which compaction neither copies nor shrinks.
fn sled_usage(db_dir: &Path) -> u64 {
    side_dirs(db_dir)
        .iter()
        .fold(disk_usage(db_dir), |left, side| {
            left.saturating_sub(disk_usage(side))
        })
}

/// Completes or discards a compaction a crash interrupted.
pub(crate) fn recover(db_dir: &Path) -> Result<(), StoreError> {
    let compacting = sibling(db_dir, ".compacting");
    let compacted = sibling(db_dir, ".compacted");
    let old = sibling(db_dir, ".old");
    if compacting.exists() {
        std::fs::remove_dir_all(&compacting).map_err(io)?;
    }
    if compacted.exists() {
        if db_dir.exists() {
            carry_chunks(db_dir, &compacted)?;
            std::fs::rename(db_dir, &old).map_err(io)?;
        }
        std::fs::rename(&compacted, db_dir).map_err(io)?;
        sync_parent(db_dir)?;
    }
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io)?;
    }
    Ok(())
}

/// Copies every tree of `from` into `to`; returns the bytes of keys and values copied.
fn copy(from: &sled::Db, to: &sled::Db) -> Result<u64, StoreError> {
    let mut live = 0u64;
    for name in from.tree_names() {
        let source = from.open_tree(&name)?;
        let target = to.open_tree(&name)?;
        let mut batch = sled::Batch::default();
        let mut pending = 0usize;
        for item in source.iter() {
            let (key, value) = item?;
            live = live.saturating_add(u64::try_from(key.len() + value.len()).unwrap_or(0));
            batch.insert(key, value);
            pending += 1;
            if pending >= COPY_BATCH {
                target.apply_batch(std::mem::take(&mut batch))?;
                pending = 0;
            }
        }
        target.apply_batch(batch)?;
    }
    // KeyPackage keys end in ids from sled's generator, which the copy does not carry over;
    // advance the new generator past them so that new KeyPackages never reuse a key.
    let mut max_id = None;
    for key in from.open_tree("key_packages")?.iter().keys() {
        let id = key_suffix_u64(&key?, "key package key")?;
        max_id = max_id.max(Some(id));
    }
    if let Some(max_id) = max_id {
        while to.generate_id()? <= max_id {}
    }
    Ok(live)
}

/// Bytes of keys and values in every tree of `db`.
fn live_bytes(db: &sled::Db) -> Result<u64, StoreError> {
    let mut live = 0u64;
    for name in db.tree_names() {
        for item in db.open_tree(&name)?.iter() {
            let (key, value) = item?;
            live = live.saturating_add(u64::try_from(key.len() + value.len()).unwrap_or(0));
        }
    }
    Ok(live)
}

/// Compacts the database in `db_dir`, which no process may have open.
pub(crate) fn compact_dir(db_dir: &Path) -> Result<Compacted, StoreError> {
    recover(db_dir)?;
    // Compacting where there is no database would only create an empty one.
    if !db_dir.exists() {
        return Err(io(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            format!("no relay database in {}", db_dir.display()),
        )));
    }
    let before_bytes = disk_usage(db_dir);
    let compacting = sibling(db_dir, ".compacting");
    let compacted = sibling(db_dir, ".compacted");
    let live_bytes = {
        let from = open(db_dir)?;
        let to = open(&compacting)?;
        let live = copy(&from, &to)?;
        to.flush()?;
        live
    };
    std::fs::rename(&compacting, &compacted).map_err(io)?;
    sync_parent(db_dir)?;
    recover(db_dir)?;
    Ok(Compacted {
        before_bytes,
        after_bytes: disk_usage(db_dir),
        live_bytes,
    })
}

/// Run before opening the database: finishes an interrupted compaction, then compacts if
/// sled's files (not the chunk files) exceed `limits.compact_on_open_ratio` times the live
/// data (and `limits.compact_on_open_min_bytes`).
pub(crate) fn prepare(
    db_dir: &Path,
    limits: &LimitsConfig,
) -> Result<Option<Compacted>, StoreError> {
    recover(db_dir)?;
    if limits.compact_on_open_ratio == 0 || !db_dir.exists() {
        return Ok(None);
    }
    let on_disk = sled_usage(db_dir);
    if on_disk < limits.compact_on_open_min_bytes {
        return Ok(None);
    }
    let live = live_bytes(&open(db_dir)?)?;
    if on_disk <= live.saturating_mul(u64::from(limits.compact_on_open_ratio)) {
        return Ok(None);
    }
    let compacted = compact_dir(db_dir)?;
    tracing::info!(
        before_bytes = compacted.before_bytes,
        after_bytes = compacted.after_bytes,
        "database compacted"
    );
    Ok(Some(compacted))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_swap_is_completed() {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = dir.path().join("db");
        {
            let db = open(&sibling(&db_dir, ".compacted")).unwrap();
            db.insert(b"k", b"new").unwrap();
            db.flush().unwrap();
        }
        {
            let db = open(&sibling(&db_dir, ".compacting")).unwrap();
            db.insert(b"k", b"partial").unwrap();
            db.flush().unwrap();
        }
        // The crash hit after `db` was renamed away and before the copy was renamed in.
        recover(&db_dir).unwrap();
        let db = open(&db_dir).unwrap();
        assert_eq!(db.get(b"k").unwrap().unwrap(), b"new");
        assert!(!sibling(&db_dir, ".compacting").exists());
        assert!(!sibling(&db_dir, ".compacted").exists());
    }

    #[test]
    fn the_chunk_files_follow_the_swap_at_every_step() {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = dir.path().join("db");
        let compacted = sibling(&db_dir, ".compacted");
        let chunk = |db: &Path| chunks_dir(db).join("ab");
        for crashed_after_carrying in [false, true] {
            open(&db_dir).unwrap().flush().unwrap();
            std::fs::create_dir_all(chunks_dir(&db_dir)).unwrap();
            std::fs::write(chunk(&db_dir), b"chunks").unwrap();
            open(&compacted).unwrap().flush().unwrap();
            if crashed_after_carrying {
                carry_chunks(&db_dir, &compacted).unwrap();
                assert!(chunk(&compacted).exists());
            }
            // Not moved by a copy in progress...
            open(&sibling(&db_dir, ".compacting")).unwrap();
            recover(&db_dir).unwrap();
            // ...and moved with the copy that becomes `db`.
            assert_eq!(std::fs::read(chunk(&db_dir)).unwrap(), b"chunks");
            assert!(!compacted.exists());
            assert!(!sibling(&db_dir, ".old").exists());
            assert!(sled_usage(&db_dir) + 6 <= disk_usage(&db_dir));
            std::fs::remove_dir_all(&db_dir).unwrap();
        }
    }

    #[test]
    fn compaction_keeps_data_and_id_order() {
        let dir = tempfile::tempdir().unwrap();
        let db_dir = dir.path().join("db");
        let last_id = {
            let db = open(&db_dir).unwrap();
            let tree = db.open_tree("key_packages").unwrap();
            let mut last = 0;
            for _ in 0..10 {
                last = db.generate_id().unwrap();
                tree.insert(last.to_be_bytes(), &[7u8; 100][..]).unwrap();
            }
            db.open_tree("inbox").unwrap().insert(b"x", b"y").unwrap();
            db.flush().unwrap();
            last
        };
        let compacted = compact_dir(&db_dir).unwrap();
        assert!(compacted.live_bytes >= 10 * 108);
        let db = open(&db_dir).unwrap();
        assert_eq!(db.open_tree("key_packages").unwrap().len(), 10);
        assert_eq!(
            db.open_tree("inbox").unwrap().get(b"x").unwrap().unwrap(),
            b"y"
        );
        assert!(db.generate_id().unwrap() > last_id);
    }
}
