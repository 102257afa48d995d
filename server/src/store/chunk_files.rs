//! Chunk files: each blob's sealed chunks in one plain file, outside sled.
//!
//! sled keeps the values it stores in memory, so a relay that kept chunks in a tree grew by
//! the size of every document moving through it. A file per blob costs the relay a buffer
//! per chunk in flight instead; the kernel's page cache, which it gives back under pressure,
//! holds the rest.
//!
//! Layout: `<db>/chunks/<blob id as 64 lowercase hex digits>`, where `<db>` is the directory
//! sled uses (`<data>/db`). Every chunk but the last has the same sealed length, so chunk `i`
//! starts at `i * (CHUNK_LEN + CHUNK_OVERHEAD)` (see `BlobMeta::chunk_offset`); a resumed
//! upload overwrites from the stored count on.
//!
//! Why inside the database directory: whatever opens the database (the relay, the tests'
//! `SledStore::open(tempdir)`, the offline commands) owns exactly one directory, and everything
//! the store creates stays in it; a backup or snapshot of `db/` holds records and chunks
//! together. sled ignores entries it does not know (it scans only `blobs/` and `snap.*`, so
//! the name is not `blobs`). Compaction rebuilds only sled's files: it moves `chunks/` into
//! the finished copy by one rename, inside the crash-safe swap (see `compact::recover`), so
//! the chunks are never copied and never lost.
//!
//! Crash safety: a file is created (and its directory entry synced) before any chunk is
//! written to it, and its data is synced before the count that covers it is written to sled
//! (`SledStore::commit_blob`). A file without a record (a crash between the two deletions of an
//! expiry, or before a new record reached the disk) is removed when the store opens.

use std::fs::{File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use super::StoreError;

/// Name of the chunk directory inside the database directory.
pub(super) const CHUNKS_DIR: &str = "chunks";

/// The chunk directory of the database in `db_dir`.
pub(super) fn chunks_dir(db_dir: &Path) -> PathBuf {
    db_dir.join(CHUNKS_DIR)
}

fn io(error: std::io::Error) -> StoreError {
    StoreError::Database(error.into())
}

/// Makes the entries of directory `dir` (files created, removed or renamed) durable.
pub(super) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io)
}

/// The chunk files of one database.
pub(super) struct ChunkFiles {
    dir: PathBuf,
}

impl ChunkFiles {
    /// The chunk files of the database in `db_dir`, creating their directory if needed.
    pub(super) fn open(db_dir: &Path) -> Result<ChunkFiles, StoreError> {
        let dir = chunks_dir(db_dir);
        if !dir.exists() {
            std::fs::create_dir_all(&dir).map_err(io)?;
            sync_dir(db_dir)?;
        }
        Ok(ChunkFiles { dir })
    }

    fn path(&self, blob_id: &[u8; 32]) -> PathBuf {
        self.dir.join(hex::encode(blob_id))
    }

    /// Creates the (empty) file of `blob_id` and makes its entry durable; an existing file is
    /// kept as it is.
    pub(super) fn create(&self, blob_id: &[u8; 32]) -> Result<(), StoreError> {
        OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(self.path(blob_id))
            .map_err(io)?;
        sync_dir(&self.dir)
    }

    /// Opens the file of `blob_id` for writing; `None` if it is gone (the blob expired).
    fn open_existing(&self, blob_id: &[u8; 32], write: bool) -> Result<Option<File>, StoreError> {
        match OpenOptions::new()
            .read(!write)
            .write(write)
            .open(self.path(blob_id))
        {
            Ok(file) => Ok(Some(file)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io(e)),
        }
    }

    /// Writes `data` at `offset` of the file of `blob_id`, then, if `sync`, makes the file's
    /// data durable. False if the file is gone.
    pub(super) fn write_at(
        &self,
        blob_id: &[u8; 32],
        offset: u64,
        data: &[u8],
        sync: bool,
    ) -> Result<bool, StoreError> {
        let Some(file) = self.open_existing(blob_id, true)? else {
            return Ok(false);
        };
        file.write_all_at(data, offset).map_err(io)?;
        if sync {
            file.sync_data().map_err(io)?;
        }
        Ok(true)
    }

    /// Makes the data written to the file of `blob_id` durable. False if the file is gone.
    pub(super) fn sync(&self, blob_id: &[u8; 32]) -> Result<bool, StoreError> {
        let Some(file) = self.open_existing(blob_id, true)? else {
            return Ok(false);
        };
        file.sync_data().map_err(io)?;
        Ok(true)
    }

    /// The `len` bytes at `offset` of the file of `blob_id`; `None` if the file is gone.
    /// A file too short for them is corrupt: its record counts chunks it does not hold.
    pub(super) fn read_at(
        &self,
        blob_id: &[u8; 32],
        offset: u64,
        len: usize,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(file) = self.open_existing(blob_id, false)? else {
            return Ok(None);
        };
        let mut buffer = vec![0u8; len];
        match file.read_exact_at(&mut buffer, offset) {
            Ok(()) => Ok(Some(buffer)),
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => {
                Err(StoreError::Corrupt("blob chunk file"))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Whether the file of `blob_id` exists.
    pub(super) fn exists(&self, blob_id: &[u8; 32]) -> bool {
        self.path(blob_id).exists()
    }

    /// Deletes the file of `blob_id`, if any.
    pub(super) fn remove(&self, blob_id: &[u8; 32]) -> Result<(), StoreError> {
        match std::fs::remove_file(self.path(blob_id)) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(io(e)),
            _ => Ok(()),
        }
    }

    /// The blob ids that have a file. Entries not named like a chunk file are left out (and
    /// left alone): the relay never makes them.
    pub(super) fn ids(&self) -> Result<Vec<[u8; 32]>, StoreError> {
        let mut ids = Vec::new();
        for entry in std::fs::read_dir(&self.dir).map_err(io)? {
            let name = entry.map_err(io)?.file_name();
            let mut id = [0u8; 32];
            let named = name
                .to_str()
                .is_some_and(|hex| hex::decode_to_slice(hex, &mut id).is_ok());
            if named {
                ids.push(id);
            }
        }
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_written_and_read_at_their_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let files = ChunkFiles::open(dir.path()).unwrap();
        let id = [7u8; 32];
        // No file yet: nothing to write to or read.
        assert!(!files.write_at(&id, 0, b"abc", false).unwrap());
        assert_eq!(files.read_at(&id, 0, 3).unwrap(), None);

        files.create(&id).unwrap();
        assert!(files.write_at(&id, 10, b"second", true).unwrap());
        assert!(files.write_at(&id, 0, b"first", false).unwrap());
        assert!(files.sync(&id).unwrap());
        assert_eq!(files.read_at(&id, 0, 5).unwrap().unwrap(), b"first");
        assert_eq!(files.read_at(&id, 10, 6).unwrap().unwrap(), b"second");
        // Creating again keeps what is there.
        files.create(&id).unwrap();
        assert_eq!(files.read_at(&id, 10, 6).unwrap().unwrap(), b"second");
        // Past the end: corrupt, not a short chunk.
        assert!(matches!(
            files.read_at(&id, 12, 6),
            Err(StoreError::Corrupt(_))
        ));
        assert_eq!(files.ids().unwrap(), vec![id]);

        files.remove(&id).unwrap();
        files.remove(&id).unwrap();
        assert!(!files.exists(&id));
        assert_eq!(files.read_at(&id, 0, 5).unwrap(), None);
        assert!(!files.sync(&id).unwrap());
    }

    #[test]
    fn only_chunk_file_names_count_as_blobs() {
        let dir = tempfile::tempdir().unwrap();
        let files = ChunkFiles::open(dir.path()).unwrap();
        std::fs::write(chunks_dir(dir.path()).join("notes.txt"), b"x").unwrap();
        std::fs::write(chunks_dir(dir.path()).join("ab"), b"x").unwrap();
        files.create(&[1; 32]).unwrap();
        assert_eq!(files.ids().unwrap(), vec![[1; 32]]);
    }
}
