//! Freeing a handle (`parley-relay handle release`): the operator's answer to a lost key.
//!
//! The directory record goes (with the rotations that led to it), and with it what only its key could use: the handle's
//! KeyPackages (one-time and last resort) and the deliveries waiting in its inbox, which are
//! sealed to the old inbox key. Group logs are untouched (the relay cannot tell whose they
//! are). Whoever registers the handle next holds a new key, which every client that pinned
//! the old one shows as CHANGED.

use parley_crypto::handle::Handle;

use super::inbox::decode_delivery;
use super::keys::handle_prefix;
use super::{SledStore, StoreError};

/// What releasing a handle removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Released {
    /// Whether the handle was registered.
    pub record: bool,
    /// KeyPackages removed, the last-resort one included.
    pub key_packages: u64,
    /// Inbox deliveries removed.
    pub deliveries: u64,
}

impl SledStore {
    /// Removes `handle`'s record, KeyPackages and inbox, then flushes. Offline use only: the
    /// in-memory inbox counters of a running relay would not see the removal.
    pub(crate) fn release_handle(&self, handle: &Handle) -> Result<Released, StoreError> {
        let prefix = handle_prefix(handle);
        let record = self.directory.remove(handle.as_str().as_bytes())?.is_some();
        let mut key_packages = remove_prefix(&self.key_packages, &prefix)?;
        if self
            .last_resort
            .remove(handle.as_str().as_bytes())?
            .is_some()
        {
            key_packages += 1;
        }
        remove_prefix(&self.rotations, &prefix)?;
        let mut locations = Vec::new();
        for item in self.deliveries.scan_prefix(&prefix) {
            let (key, value) = item?;
            self.deliveries.remove(key)?;
            locations.push(decode_delivery(&value)?.1);
        }
        let deliveries = u64::try_from(locations.len()).unwrap_or(u64::MAX);
        self.inbox_meta.remove(&prefix)?;
        self.db.flush()?;
        self.envelopes.release(&locations);
        Ok(Released {
            record,
            key_packages,
            deliveries,
        })
    }
}

/// Removes every key of `tree` under `prefix`, returning how many. A handle prefix starts
/// with the handle's length, so one handle's range never covers another's.
fn remove_prefix(tree: &sled::Tree, prefix: &[u8]) -> Result<u64, StoreError> {
    let mut removed = 0u64;
    for item in tree.scan_prefix(prefix).keys() {
        tree.remove(item?)?;
        removed += 1;
    }
    Ok(removed)
}
