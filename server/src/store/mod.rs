//! The relay's durable state, over sled.
//!
//! Every write method returns only after the write is flushed to disk (see [`durability`]),
//! so an RPC that reports success never loses its effect to a crash.

mod directory;
mod durability;
mod error;
mod groups;
mod inbox;
mod key_packages;
mod keys;

use std::path::Path;
use std::sync::Arc;

pub(crate) use directory::Registration;
pub(crate) use error::StoreError;
pub(crate) use groups::{Appended, Created, EpochKey};
pub(crate) use inbox::{Deposited, StoredDelivery};
pub(crate) use key_packages::Published;

use durability::Flusher;

/// Handle to the relay database; cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    directory: sled::Tree,
    key_packages: sled::Tree,
    last_resort: sled::Tree,
    inbox: sled::Tree,
    inbox_meta: sled::Tree,
    group_meta: sled::Tree,
    group_keys: sled::Tree,
    group_entries: sled::Tree,
    db: sled::Db,
    flusher: Arc<Flusher>,
}

impl Store {
    /// Opens (or creates) the database in `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Store, StoreError> {
        let db = sled::Config::new().path(dir).open()?;
        Ok(Store {
            directory: db.open_tree("directory")?,
            key_packages: db.open_tree("key_packages")?,
            last_resort: db.open_tree("last_resort")?,
            inbox: db.open_tree("inbox")?,
            inbox_meta: db.open_tree("inbox_meta")?,
            group_meta: db.open_tree("group_meta")?,
            group_keys: db.open_tree("group_keys")?,
            group_entries: db.open_tree("group_entries")?,
            flusher: Arc::new(Flusher::new(db.clone())),
            db,
        })
    }

    /// Flushes everything written so far (used at shutdown).
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        self.persist().await
    }

    /// Waits until every write made before this call is on disk.
    async fn persist(&self) -> Result<(), StoreError> {
        self.flusher.persist().await
    }
}
