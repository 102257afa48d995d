//! The OpenMLS provider: RustCrypto for cryptography and an in-memory key/value map for
//! state, with change tracking so the caller can persist exactly what an operation wrote, in
//! the same atomic batch as its own records.

use openmls_rust_crypto::RustCrypto;
use openmls_traits::OpenMlsProvider;

use super::tracked_storage::{Change, TrackedStorage};

/// OpenMLS provider over an in-memory map whose writes can be taken or rolled back.
pub(crate) struct Provider {
    crypto: RustCrypto,
    storage: TrackedStorage,
}

impl Provider {
    /// A provider whose state is `pairs` (what the caller persisted earlier).
    pub(crate) fn new(pairs: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> Self {
        Provider {
            crypto: RustCrypto::default(),
            storage: TrackedStorage::new(pairs),
        }
    }

    /// Writes (`Some`) and deletes (`None`) since the last call, in key order so that the
    /// same state change always yields the same batch.
    pub(crate) fn take_changes(&mut self) -> Vec<Change> {
        self.storage.take_changes()
    }

    /// Restores the map as of the last `take_changes`/`discard_changes`.
    pub(crate) fn discard_changes(&mut self) {
        self.storage.discard_changes();
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = TrackedStorage;

    fn storage(&self) -> &Self::StorageProvider {
        &self.storage
    }

    fn crypto(&self) -> &Self::CryptoProvider {
        &self.crypto
    }

    fn rand(&self) -> &Self::RandProvider {
        &self.crypto
    }
}
