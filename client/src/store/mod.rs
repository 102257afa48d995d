//! The client's local store: one sled database in `<home>/store` with ONE tree.
//!
//! Every read and write of client state goes through this module. Values pass through one
//! encode point ([`seal_value`]) and one decode point ([`open_value`]) and keys are built in
//! [`keys`], so encrypting values and hashing keys later is a change to this module only.
//! Writes are grouped in a [`StoreBatch`] that is applied atomically and then flushed, so
//! that one processed message changes MLS state, history and cursor together or not at all.

mod keys;
pub(crate) mod records;

use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

pub(crate) use keys::{Key, Prefix};

/// The name of the one tree the client uses.
const TREE: &[u8] = b"parley";

/// Why the local store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (disk full, permissions, another process holds the lock, ...).
    #[error("the database failed: {0}")]
    Database(#[from] sled::Error),
    /// The home directory could not be created.
    #[error("the home directory could not be created: {0}")]
    Io(#[from] std::io::Error),
    /// A stored record could not be decoded; the store is damaged or from another version.
    #[error("a stored record is damaged ({0})")]
    Corrupt(&'static str),
    /// A background flush task was cancelled.
    #[error("writing to disk was interrupted")]
    Interrupted,
}

/// A record as scanned: the key after the prefix, and the decoded value.
pub(crate) type RawRecord = (Vec<u8>, Zeroizing<Vec<u8>>);

/// The open store.
#[derive(Clone)]
pub(crate) struct Store {
    db: sled::Db,
    tree: sled::Tree,
}

/// A group of writes applied atomically by [`Store::apply`].
#[derive(Default)]
pub(crate) struct StoreBatch {
    batch: sled::Batch,
}

impl StoreBatch {
    /// Writes raw bytes (used for secrets and fixed-size values).
    pub(crate) fn put_raw(&mut self, key: Key<'_>, value: &[u8]) {
        self.batch.insert(key.encode(), seal_value(value));
    }

    /// Writes a serialized record.
    pub(crate) fn put<T: Serialize>(&mut self, key: Key<'_>, value: &T) -> Result<(), StoreError> {
        let bytes = Zeroizing::new(
            serde_json::to_vec(value).map_err(|_| StoreError::Corrupt("unencodable record"))?,
        );
        self.put_raw(key, &bytes);
        Ok(())
    }

    /// Writes a u64 (cursors).
    pub(crate) fn put_u64(&mut self, key: Key<'_>, value: u64) {
        self.put_raw(key, &value.to_be_bytes());
    }

    /// Marks a ciphertext as processed.
    pub(crate) fn mark_seen(&mut self, hash: &[u8; 32]) {
        self.put_raw(Key::Seen(hash), &[]);
    }

    /// Deletes a record.
    pub(crate) fn remove(&mut self, key: Key<'_>) {
        self.batch.remove(key.encode());
    }
}

impl Store {
    /// Opens (creating if needed) the store under `home`.
    pub(crate) fn open(home: &Path) -> Result<Store, StoreError> {
        std::fs::create_dir_all(home)?;
        let db = sled::open(home.join("store"))?;
        let tree = db.open_tree(TREE)?;
        Ok(Store { db, tree })
    }

    /// Reads raw bytes; the buffer is wiped when dropped since it may hold secrets.
    pub(crate) fn get_raw(&self, key: Key<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        Ok(self.tree.get(key.encode())?.map(|v| open_value(&v)))
    }

    /// Reads a serialized record.
    pub(crate) fn get<T: DeserializeOwned>(&self, key: Key<'_>) -> Result<Option<T>, StoreError> {
        self.get_raw(key)?.map(|bytes| decode(&bytes)).transpose()
    }

    /// Reads a u64 (cursors); absent reads as zero.
    pub(crate) fn get_u64(&self, key: Key<'_>) -> Result<u64, StoreError> {
        match self.get_raw(key)? {
            None => Ok(0),
            Some(bytes) => {
                let array: [u8; 8] = bytes
                    .as_slice()
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("cursor"))?;
                Ok(u64::from_be_bytes(array))
            }
        }
    }

    /// Whether a record exists.
    pub(crate) fn contains(&self, key: Key<'_>) -> Result<bool, StoreError> {
        Ok(self.tree.contains_key(key.encode())?)
    }

    /// Whether a ciphertext was already processed.
    pub(crate) fn seen(&self, hash: &[u8; 32]) -> Result<bool, StoreError> {
        self.contains(Key::Seen(hash))
    }

    /// All records of a range, in key order.
    pub(crate) fn scan<T: DeserializeOwned>(
        &self,
        prefix: Prefix<'_>,
    ) -> Result<Vec<T>, StoreError> {
        self.scan_raw(prefix)?
            .into_iter()
            .map(|(_, value)| decode(&value))
            .collect()
    }

    /// All raw records of a range, in key order, with the part of the key after the prefix.
    pub(crate) fn scan_raw(&self, prefix: Prefix<'_>) -> Result<Vec<RawRecord>, StoreError> {
        let start = prefix.encode();
        self.tree
            .scan_prefix(&start)
            .map(|item| {
                let (key, value) = item?;
                Ok((key[start.len()..].to_vec(), open_value(&value)))
            })
            .collect()
    }

    /// The index after the last record of a range whose keys end in a u64 (history, alerts).
    pub(crate) fn next_index(&self, prefix: Prefix<'_>) -> Result<u64, StoreError> {
        let start = prefix.encode();
        match self.tree.scan_prefix(&start).next_back() {
            None => Ok(0),
            Some(item) => {
                let (key, _) = item?;
                let array: [u8; 8] = key[start.len()..]
                    .try_into()
                    .map_err(|_| StoreError::Corrupt("index key"))?;
                Ok(u64::from_be_bytes(array).saturating_add(1))
            }
        }
    }

    /// Applies a batch atomically, then waits until it is on disk.
    pub(crate) async fn apply(&self, batch: StoreBatch) -> Result<(), StoreError> {
        self.tree.apply_batch(batch.batch)?;
        // sled's flush_async was seen to hang under concurrency; a blocking flush is reliable.
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|_| StoreError::Interrupted)??;
        Ok(())
    }
}

/// The one point where values are encoded for disk.
fn seal_value(value: &[u8]) -> Vec<u8> {
    value.to_vec()
}

/// The one point where values read from disk are decoded.
fn open_value(stored: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(stored.to_vec())
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|_| StoreError::Corrupt("undecodable record"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn batches_apply_atomically_and_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let gid = [1u8; 32];
        {
            let store = Store::open(dir.path()).unwrap();
            let mut batch = StoreBatch::default();
            batch.put_u64(Key::Cursor(&gid), 42);
            batch.put(Key::History(&gid, 0), &"first").unwrap();
            batch.put(Key::History(&gid, 1), &"second").unwrap();
            batch.mark_seen(&[9u8; 32]);
            store.apply(batch).await.unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.get_u64(Key::Cursor(&gid)).unwrap(), 42);
        assert!(store.seen(&[9u8; 32]).unwrap());
        assert!(!store.seen(&[8u8; 32]).unwrap());
        let history: Vec<String> = store.scan(Prefix::History(&gid)).unwrap();
        assert_eq!(history, ["first", "second"]);
        assert_eq!(store.next_index(Prefix::History(&gid)).unwrap(), 2);
        assert_eq!(store.next_index(Prefix::History(&[2u8; 32])).unwrap(), 0);
    }
}
