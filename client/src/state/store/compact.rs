//! Compaction of the local store after expiry: sled keeps deleted values in its log files
//! until it happens to reuse their space, so a message the conversation's retention deleted
//! could still be read off the disk (sealed, but under a key a coerced passphrase opens).
//! Copying the live records into a fresh database and swapping it in removes them.
//!
//! Expiry leaves a marker file; the next [`Store::open`](super::Store::open) compacts
//! before opening. The copy is built in `store.compacting`, renamed `store.compacted` once
//! complete and flushed, then `store` becomes `store.old` and `store.compacted` becomes
//! `store`. [`recover`] finishes or discards whatever step a crash interrupted.

use std::fs;
use std::path::{Path, PathBuf};

use crate::api::error::StoreError;

/// The marker: present while deletions wait for a compaction.
const MARKER: &str = "store.compact";

fn sibling(home: &Path, name: &str) -> PathBuf {
    home.join(name)
}

/// Notes that records were deleted and the store should be compacted at its next opening.
pub(crate) fn request(home: &Path) -> Result<(), StoreError> {
    fs::write(sibling(home, MARKER), b"")?;
    Ok(())
}

/// Compacts the store under `home` if deletions asked for it (after finishing any
/// compaction a crash interrupted). Must run before the store is opened.
pub(crate) fn if_requested(home: &Path) -> Result<(), StoreError> {
    recover(home)?;
    let marker = sibling(home, MARKER);
    if !marker.exists() || !sibling(home, "store").exists() {
        return Ok(());
    }
    // A compaction that fails (a full disk, say) must not lock the person out of their
    // store: what it left is settled as after a crash, and it is tried again next time.
    if let Err(e) = compact(home) {
        tracing::warn!(error = %e, "the store could not be compacted; it is tried again later");
        return recover(home);
    }
    fs::remove_file(marker)?;
    Ok(())
}

/// Copies every tree of `home/store` into a fresh database and swaps it in.
fn compact(home: &Path) -> Result<(), StoreError> {
    let live = sibling(home, "store");
    let building = sibling(home, "store.compacting");
    let built = sibling(home, "store.compacted");
    {
        let old = sled::open(&live)?;
        let new = sled::open(&building)?;
        for name in old.tree_names() {
            let from = old.open_tree(&name)?;
            let to = new.open_tree(&name)?;
            for item in from.iter() {
                let (key, value) = item?;
                to.insert(key, value)?;
            }
        }
        new.flush()?;
    }
    fs::rename(&building, &built)?;
    let retired = sibling(home, "store.old");
    fs::rename(&live, &retired)?;
    fs::rename(&built, &live)?;
    fs::remove_dir_all(retired)?;
    Ok(())
}

/// Settles a compaction a crash interrupted: an incomplete copy is dropped, a complete one
/// is swapped in, the replaced database is removed.
pub(crate) fn recover(home: &Path) -> Result<(), StoreError> {
    let live = sibling(home, "store");
    let building = sibling(home, "store.compacting");
    let built = sibling(home, "store.compacted");
    let retired = sibling(home, "store.old");
    if building.exists() {
        fs::remove_dir_all(&building)?;
    }
    if built.exists() {
        if live.exists() {
            if retired.exists() {
                fs::remove_dir_all(&retired)?;
            }
            fs::rename(&live, &retired)?;
        }
        fs::rename(&built, &live)?;
    }
    if retired.exists() && live.exists() {
        fs::remove_dir_all(&retired)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contains(dir: &Path, needle: &[u8]) -> bool {
        fs::read_dir(dir).unwrap().any(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() {
                contains(&path, needle)
            } else {
                let bytes = fs::read(&path).unwrap();
                bytes.windows(needle.len()).any(|w| w == needle)
            }
        })
    }

    #[test]
    fn a_deleted_value_is_gone_from_the_files_after_compaction() {
        let home = tempfile::tempdir().unwrap();
        let deleted = b"a value deleted by expiry, 0123456789abcdef".to_vec();
        let kept = b"a value still live, fedcba9876543210".to_vec();
        {
            let db = sled::open(home.path().join("store")).unwrap();
            let tree = db.open_tree("records").unwrap();
            tree.insert(b"a", deleted.clone()).unwrap();
            tree.insert(b"b", kept.clone()).unwrap();
            db.flush().unwrap();
            tree.remove(b"a").unwrap();
            db.flush().unwrap();
        }
        assert!(
            contains(home.path(), &deleted),
            "sled keeps what it deleted"
        );
        if_requested(home.path()).unwrap();
        assert!(
            contains(home.path(), &deleted),
            "no compaction unless asked"
        );
        request(home.path()).unwrap();
        if_requested(home.path()).unwrap();
        assert!(!contains(home.path(), &deleted));
        assert!(!home.path().join(MARKER).exists());
        let db = sled::open(home.path().join("store")).unwrap();
        let tree = db.open_tree("records").unwrap();
        assert_eq!(tree.get(b"b").unwrap().unwrap().to_vec(), kept);
        assert!(tree.get(b"a").unwrap().is_none());
    }

    #[test]
    fn an_interrupted_compaction_is_finished_or_dropped() {
        let home = tempfile::tempdir().unwrap();
        let make = |name: &str, value: &[u8]| {
            let db = sled::open(home.path().join(name)).unwrap();
            db.insert(b"k", value).unwrap();
            db.flush().unwrap();
        };
        // Crashed while copying: the live store stays.
        make("store", b"live");
        make("store.compacting", b"partial");
        recover(home.path()).unwrap();
        assert!(!home.path().join("store.compacting").exists());
        // Crashed after the copy was complete, before the swap: the copy goes in.
        make("store.compacted", b"copy");
        recover(home.path()).unwrap();
        let db = sled::open(home.path().join("store")).unwrap();
        assert_eq!(db.get(b"k").unwrap().unwrap().to_vec(), b"copy");
        assert!(!home.path().join("store.old").exists());
        assert!(!home.path().join("store.compacted").exists());
    }
}
