//! The OpenMLS provider: RustCrypto for cryptography and an in-memory key/value map for
//! state, with change tracking so the caller can persist exactly what an operation wrote, in
//! the same atomic batch as its own records.

use std::collections::HashMap;
use std::sync::PoisonError;

use openmls_rust_crypto::{MemoryStorage, RustCrypto};
use openmls_traits::OpenMlsProvider;
use zeroize::Zeroize;

/// Key/value pairs as OpenMLS stores them.
type Map = HashMap<Vec<u8>, Vec<u8>>;

/// OpenMLS provider over an in-memory map whose writes can be taken or rolled back.
pub(crate) struct Provider {
    crypto: RustCrypto,
    storage: MemoryStorage,
    /// The map as of the last `take_changes`/`discard_changes`, i.e. what the caller has.
    committed: Map,
}

impl Provider {
    /// A provider whose state is `pairs` (what the caller persisted earlier).
    pub(crate) fn new(pairs: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> Self {
        let committed: Map = pairs.into_iter().collect();
        let storage = MemoryStorage::default();
        *storage
            .values
            .write()
            .unwrap_or_else(PoisonError::into_inner) = committed.clone();
        Provider {
            crypto: RustCrypto::default(),
            storage,
            committed,
        }
    }

    /// Writes (`Some`) and deletes (`None`) since the last call, in key order so that the
    /// same state change always yields the same batch.
    pub(crate) fn take_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        let current = self
            .storage
            .values
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut changes: Vec<(Vec<u8>, Option<Vec<u8>>)> = current
            .iter()
            .filter(|(k, v)| self.committed.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .chain(
                self.committed
                    .keys()
                    .filter(|k| !current.contains_key(*k))
                    .map(|k| (k.clone(), None)),
            )
            .collect();
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        wipe(std::mem::replace(&mut self.committed, current));
        changes
    }

    /// Restores the map as of the last `take_changes`/`discard_changes`.
    pub(crate) fn discard_changes(&mut self) {
        let mut values = self
            .storage
            .values
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        wipe(std::mem::replace(&mut *values, self.committed.clone()));
    }
}

/// Values hold group secrets; copies this module makes are wiped when dropped.
fn wipe(mut map: Map) {
    map.values_mut().for_each(Zeroize::zeroize);
}

impl Drop for Provider {
    fn drop(&mut self) {
        wipe(std::mem::take(&mut self.committed));
        let mut values = self
            .storage
            .values
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        wipe(std::mem::take(&mut *values));
    }
}

impl OpenMlsProvider for Provider {
    type CryptoProvider = RustCrypto;
    type RandProvider = RustCrypto;
    type StorageProvider = MemoryStorage;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn put(p: &Provider, k: &[u8], v: &[u8]) {
        p.storage
            .values
            .write()
            .unwrap()
            .insert(k.to_vec(), v.to_vec());
    }

    fn del(p: &Provider, k: &[u8]) {
        p.storage.values.write().unwrap().remove(k);
    }

    fn get(p: &Provider, k: &[u8]) -> Option<Vec<u8>> {
        p.storage.values.read().unwrap().get(k).cloned()
    }

    #[test]
    fn changes_are_writes_and_deletes_since_last_take() {
        let mut p = Provider::new([
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
        ]);
        assert!(p.take_changes().is_empty());
        put(&p, b"a", b"9");
        put(&p, b"c", b"3");
        del(&p, b"b");
        put(&p, b"b2", b"x");
        del(&p, b"b2"); // written and deleted in between: no change at all
        assert_eq!(
            p.take_changes(),
            vec![
                (b"a".to_vec(), Some(b"9".to_vec())),
                (b"b".to_vec(), None),
                (b"c".to_vec(), Some(b"3".to_vec())),
            ]
        );
        assert!(p.take_changes().is_empty());
    }

    #[test]
    fn discard_restores_last_taken_state() {
        let mut p = Provider::new([(b"a".to_vec(), b"1".to_vec())]);
        put(&p, b"a", b"2");
        let _ = p.take_changes();
        put(&p, b"a", b"3");
        put(&p, b"z", b"4");
        p.discard_changes();
        assert_eq!(get(&p, b"a"), Some(b"2".to_vec()));
        assert_eq!(get(&p, b"z"), None);
        assert!(p.take_changes().is_empty());
    }
}
