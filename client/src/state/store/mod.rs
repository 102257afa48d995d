//! The client's local store: one sled database in `<home>/store` with ONE tree, encrypted.
//!
//! Every read and write of client state goes through this module. Every value is sealed by
//! the [`Vault`] (XChaCha20-Poly1305 under a subkey of the random store key, bound to its
//! record key so values cannot be swapped between records) and every record key is a keyed
//! hash ([`keys`]), so the files hold no handle, name, message or key in the clear. The one
//! thing kept in the clear is the wrapped store key, in its own file ([`key_file`]), which a
//! new store writes just before its first batch.
//!
//! Values of records that hold what someone wrote (history, outbox, held and quarantined
//! deliveries, alerts, pending commits) are padded to a size bucket before sealing
//! ([`parley_crypto::padding`], as the relay pads what it stores), so the files do not give
//! away the length of each message.
//!
//! Writes are grouped in a [`StoreBatch`] that is sealed and applied atomically (through a
//! [`journal`], not sled's batches), so that one processed message changes MLS state,
//! history and cursor together or not at all, on disk and for readers in this process. Most
//! batches are then flushed; what the relay still holds (entries read from a group's log,
//! the record of a sent message) is flushed once per sync instead (`Store::settle`), and
//! the messages pushed to the event stream are not waited for at all (sled's own flush).
//!
//! The conversation list and the pinned contacts, read several times per message, are kept
//! decoded between the batches that change them ([`kept_read`]).

mod compact;
pub(crate) mod journal;
mod kept_read;
mod key_file;
mod keys;
pub(crate) mod mls_record;
pub(crate) mod records;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use parley_crypto::padding;
use parley_crypto::vault::{
    KdfParams, Passphrase, StoreKey, UnwrapError, Vault, WrapError, WrappedKey,
};
use rand::rngs::OsRng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::api::error::{ClientError, StoreError};
use journal::Journal;
use kept_read::KeptRead;
use keys::Slot;
pub(crate) use keys::{Key, Prefix};

/// Set in the id length of a sealed record whose value is a padded frame. Records written
/// before padding existed lack it and are read as they are.
const PADDED_FLAG: u32 = 1 << 31;

/// The name of the one tree the client uses.
const TREE: &[u8] = b"parley";

/// Why a store could not be opened.
pub(crate) enum OpenFailure {
    /// The passphrase does not unwrap the store key; nothing was written.
    WrongPassphrase,
    /// Anything else.
    Store(StoreError),
}

impl From<StoreError> for OpenFailure {
    fn from(error: StoreError) -> Self {
        OpenFailure::Store(error)
    }
}

impl From<OpenFailure> for ClientError {
    fn from(failure: OpenFailure) -> Self {
        match failure {
            OpenFailure::WrongPassphrase => ClientError::WrongPassphrase,
            OpenFailure::Store(e) => ClientError::Store(e),
        }
    }
}

impl From<sled::Error> for OpenFailure {
    fn from(error: sled::Error) -> Self {
        OpenFailure::Store(error.into())
    }
}

/// A record as scanned: the id kept in the record (MLS keys; empty for other kinds), and
/// the decoded value.
pub(crate) type RawRecord = (Vec<u8>, Zeroizing<Vec<u8>>);

/// The open store.
#[derive(Clone)]
pub(crate) struct Store {
    db: sled::Db,
    tree: sled::Tree,
    /// Makes each batch atomic on disk.
    journal: Journal,
    /// Held for writing while a batch is applied and for reading by every read, so that a
    /// read sees a batch whole or not at all (sled's batches gave that; single writes do not).
    visible: Arc<RwLock<()>>,
    /// The conversation list between the batches that change it.
    conversations: Arc<KeptRead<Vec<records::Conversation>>>,
    /// The pinned contacts by handle, between the batches that change them.
    contacts: Arc<KeptRead<BTreeMap<String, records::Contact>>>,
    keys: Arc<Keys>,
    /// Where the key file lives.
    home: PathBuf,
    /// Whether a batch was applied without a flush since the last one began.
    unflushed: Arc<AtomicBool>,
    /// How many times the store waited for the disk, for tests that count them.
    #[cfg(feature = "test-support")]
    flushes: Arc<std::sync::atomic::AtomicU64>,
}

/// The unlocked key material of a store.
struct Keys {
    vault: Vault,
    /// Kept to re-wrap under a new passphrase.
    store_key: StoreKey,
    params: KdfParams,
    /// The wrapped key of a new store, until the first batch writes it: a store is created
    /// only when there is something to keep, so a failed registration leaves no key behind.
    unsaved: Mutex<Option<Vec<u8>>>,
}

/// A group of writes, sealed and applied atomically by [`Store::apply`].
#[derive(Default)]
pub(crate) struct StoreBatch {
    ops: Vec<(Slot, Option<Zeroizing<Vec<u8>>>)>,
}

impl StoreBatch {
    /// Writes raw bytes (used for secrets and fixed-size values).
    pub(crate) fn put_raw(&mut self, key: Key<'_>, value: &[u8]) {
        self.ops
            .push((key.slot(), Some(Zeroizing::new(value.to_vec()))));
    }

    /// Writes a value of OpenMLS's state (JSON, as OpenMLS encodes it) with its byte arrays
    /// packed ([`mls_record`]); a value packing refuses is kept as it is, which reads back too.
    pub(crate) fn put_mls(&mut self, key: Key<'_>, json: &[u8]) {
        match mls_record::pack(json) {
            Ok(record) => self.ops.push((key.slot(), Some(record))),
            Err(_) => self.put_raw(key, json),
        }
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
        self.ops.push((key.slot(), None));
    }
}

impl Store {
    /// Opens the store under `home` with `passphrase` (creating the directory if needed).
    ///
    /// An existing store is unlocked with the parameters its key file records, before the
    /// database is even opened, so a wrong passphrase writes nothing. A new one gets a fresh
    /// store key wrapped with `params`; the key file is written just before the first batch.
    /// Blocking: runs Argon2id.
    pub(crate) fn open(
        home: &Path,
        passphrase: &Passphrase,
        params: KdfParams,
    ) -> Result<Store, OpenFailure> {
        let keys = match key_file::read(home).map_err(StoreError::from)? {
            Some(record) => Some(unlock(&record, passphrase)?),
            None => None,
        };
        make_private_dir(home).map_err(StoreError::from)?;
        compact::if_requested(home)?;
        make_private_dir(&home.join("store")).map_err(StoreError::from)?;
        let db = sled::open(home.join("store"))?;
        let tree = db.open_tree(TREE)?;
        let journal = Journal::open(&db)?;
        if journal.recover(&tree)? {
            db.flush()?;
        }
        let keys = match keys {
            Some(keys) => keys,
            // Records without a key file: a plaintext store, or its key file was lost. A new
            // key would make them unreadable, so refuse rather than start over on top.
            None if !tree.is_empty() => {
                return Err(StoreError::Corrupt("the store has no key file").into())
            }
            None => create(passphrase, params)?,
        };
        Ok(Store {
            db,
            tree,
            journal,
            visible: Arc::default(),
            conversations: Arc::default(),
            contacts: Arc::default(),
            keys: Arc::new(keys),
            home: home.to_path_buf(),
            unflushed: Arc::new(AtomicBool::new(false)),
            #[cfg(feature = "test-support")]
            flushes: Arc::default(),
        })
    }

    /// Notes that records were deleted for good (expiry): the next opening compacts the
    /// database so that their old copies leave the disk. A failure only delays that.
    pub(crate) fn note_deletions(&self) {
        if let Err(e) = compact::request(&self.home) {
            tracing::warn!(error = %e, "could not ask for the store to be compacted");
        }
    }

    /// Wraps the store key under `new` (same KDF parameters) and replaces the key file in
    /// one atomic step. Blocking: runs Argon2id.
    pub(crate) fn rewrap(&self, new: &Passphrase) -> Result<(), StoreError> {
        let wrapped = WrappedKey::wrap(&mut OsRng, new, self.keys.params, &self.keys.store_key)
            .map_err(wrap_error)?
            .encode();
        {
            let mut unsaved = self.unsaved();
            if unsaved.is_some() {
                // Nothing on disk yet: the first batch will write the new wrap.
                *unsaved = Some(wrapped);
                return Ok(());
            }
            key_file::write(&self.home, &wrapped)?;
        }
        Ok(())
    }

    /// Whether `passphrase` unlocks this store (for confirming it before a sensitive change
    /// in a process that stays unlocked). Blocking: runs Argon2id.
    pub(crate) fn check_passphrase(&self, passphrase: &Passphrase) -> Result<(), OpenFailure> {
        let record = match self.unsaved().clone() {
            Some(record) => record,
            None => key_file::read(&self.home)
                .map_err(StoreError::from)?
                .ok_or(StoreError::Corrupt("the key file is missing"))?,
        };
        unlock(&record, passphrase).map(|_| ())
    }

    /// Reads raw bytes; the buffer is wiped when dropped since it may hold secrets.
    pub(crate) fn get_raw(&self, key: Key<'_>) -> Result<Option<Zeroizing<Vec<u8>>>, StoreError> {
        let tree_key = key.encode(&self.keys.vault);
        let _whole = self.read_whole();
        match self.tree.get(&tree_key)? {
            None => Ok(None),
            Some(sealed) => Ok(Some(self.open_value(&tree_key, &sealed)?.1)),
        }
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
        let tree_key = key.encode(&self.keys.vault);
        let _whole = self.read_whole();
        Ok(self.tree.contains_key(tree_key)?)
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
        let _whole = self.read_whole();
        self.scan_held(prefix)
    }

    /// [`Store::scan`] for a caller that holds the read lock already.
    fn scan_held<T: DeserializeOwned>(&self, prefix: Prefix<'_>) -> Result<Vec<T>, StoreError> {
        self.scan_raw_held(prefix)?
            .into_iter()
            .map(|(_, value)| decode(&value))
            .collect()
    }

    /// All raw records of a range, in key order, with the id each one keeps (MLS keys).
    pub(crate) fn scan_raw(&self, prefix: Prefix<'_>) -> Result<Vec<RawRecord>, StoreError> {
        let _whole = self.read_whole();
        self.scan_raw_held(prefix)
    }

    /// Every conversation record, in key order: [`Store::scan`] of
    /// [`Prefix::Conversations`], kept decoded until a batch changes one (see
    /// [`kept_read`]).
    pub(crate) fn conversations(&self) -> Result<Vec<records::Conversation>, StoreError> {
        let _whole = self.read_whole();
        let list = self
            .conversations
            .get_or_read(|| self.scan_held(Prefix::Conversations))?;
        Ok(list.as_ref().clone())
    }

    /// The pinned contact of `handle`, if any: [`Store::get`] of [`Key::Contact`], from
    /// every contact read once and kept until a batch changes one (see [`kept_read`]).
    pub(crate) fn contact(&self, handle: &str) -> Result<Option<records::Contact>, StoreError> {
        let _whole = self.read_whole();
        let contacts = self.contacts.get_or_read(|| {
            let all: Vec<records::Contact> = self.scan_held(Prefix::Contacts)?;
            Ok(all.into_iter().map(|c| (c.handle.clone(), c)).collect())
        })?;
        Ok(contacts.get(handle).cloned())
    }

    /// [`Store::scan_raw`] for a caller that holds the read lock already (taking it twice
    /// could wait forever behind a batch waiting for the write lock).
    fn scan_raw_held(&self, prefix: Prefix<'_>) -> Result<Vec<RawRecord>, StoreError> {
        self.tree
            .scan_prefix(prefix.encode(&self.keys.vault))
            .map(|item| {
                let (key, sealed) = item?;
                self.open_value(&key, &sealed)
            })
            .collect()
    }

    /// All records of a range whose keys end in a u64 position (history), with it.
    pub(crate) fn scan_positioned<T: DeserializeOwned>(
        &self,
        prefix: Prefix<'_>,
    ) -> Result<Vec<(u64, T)>, StoreError> {
        let start = prefix.encode(&self.keys.vault);
        let _whole = self.read_whole();
        self.tree
            .scan_prefix(&start)
            .map(|item| {
                let (key, sealed) = item?;
                let position: [u8; 8] = key
                    .get(start.len()..)
                    .and_then(|rest| rest.try_into().ok())
                    .ok_or(StoreError::Corrupt("index key"))?;
                let (_, value) = self.open_value(&key, &sealed)?;
                Ok((u64::from_be_bytes(position), decode(&value)?))
            })
            .collect()
    }

    /// Stages the removal of the oldest records of a range whose keys end in a u64 position
    /// (`key` makes a record's key from it), so that at most `keep` remain once the record at
    /// `newest` is written: for records anyone can cause (alerts, set-aside entries), which
    /// must not grow without bound.
    pub(crate) fn stage_keep_last(
        &self,
        batch: &mut StoreBatch,
        prefix: Prefix<'_>,
        newest: u64,
        keep: u64,
        key: fn(u64) -> Key<'static>,
    ) -> Result<(), StoreError> {
        if let Some(first) = self.first_index(prefix)? {
            for old in first..newest.saturating_add(1).saturating_sub(keep) {
                batch.remove(key(old));
            }
        }
        Ok(())
    }

    /// The index of the first record of a range whose keys end in a u64, if any.
    fn first_index(&self, prefix: Prefix<'_>) -> Result<Option<u64>, StoreError> {
        let start = prefix.encode(&self.keys.vault);
        let _whole = self.read_whole();
        match self.tree.scan_prefix(&start).next() {
            None => Ok(None),
            Some(item) => {
                let (key, _) = item?;
                let array: [u8; 8] = key
                    .get(start.len()..)
                    .and_then(|rest| rest.try_into().ok())
                    .ok_or(StoreError::Corrupt("index key"))?;
                Ok(Some(u64::from_be_bytes(array)))
            }
        }
    }

    /// The index after the last record of a range whose keys end in a u64 (history, alerts).
    pub(crate) fn next_index(&self, prefix: Prefix<'_>) -> Result<u64, StoreError> {
        let start = prefix.encode(&self.keys.vault);
        let _whole = self.read_whole();
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

    /// Seals and applies a batch atomically, then waits until it is on disk.
    pub(crate) async fn apply(&self, batch: StoreBatch) -> Result<(), StoreError> {
        self.apply_unflushed(batch)?;
        self.flush().await
    }

    /// Waits until every batch applied so far is on disk, if one was applied without.
    pub(crate) async fn settle(&self) -> Result<(), StoreError> {
        if self.unflushed.load(Ordering::SeqCst) {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Cleared before the flush begins: whatever was applied before is in it.
        self.unflushed.store(false, Ordering::SeqCst);
        #[cfg(feature = "test-support")]
        self.flushes.fetch_add(1, Ordering::SeqCst);
        // sled's flush_async was seen to hang under concurrency; a blocking flush is reliable.
        let db = self.db.clone();
        tokio::task::spawn_blocking(move || db.flush())
            .await
            .map_err(|_| StoreError::Interrupted)??;
        Ok(())
    }

    /// Seals and applies a batch atomically without waiting for the disk: it is durable
    /// after the next [`Store::apply`] or [`Store::settle`] (sled's log is written in order,
    /// so that flush covers it), sled's own flush within half a second, or the store's
    /// closing. Only for what a crash may lose because the relay still holds it and the next
    /// sync writes it again.
    pub(crate) fn apply_unflushed(&self, batch: StoreBatch) -> Result<(), StoreError> {
        let writes = self.seal_batch(&batch)?;
        {
            // Held across the write so that no record lands before the key of a new store is
            // on disk: a record without its key could never be read again.
            let mut unsaved = self.unsaved();
            if let Some(wrapped) = unsaved.as_ref() {
                key_file::write(&self.home, wrapped)?;
                *unsaved = None;
            }
            let _whole = self.visible.write().unwrap_or_else(PoisonError::into_inner);
            if batch.ops.iter().any(|(slot, _)| slot.is_conversation()) {
                self.conversations.forget();
            }
            if batch.ops.iter().any(|(slot, _)| slot.is_contact()) {
                self.contacts.forget();
            }
            self.journal.apply(&self.tree, &writes)?;
        }
        self.unflushed.store(true, Ordering::SeqCst);
        Ok(())
    }

    /// Seals `batch` and leaves it as a crash would: its journal record written and only its
    /// first `applied` writes done.
    #[cfg(test)]
    pub(crate) fn interrupt_for_tests(
        &self,
        batch: StoreBatch,
        applied: usize,
    ) -> Result<(), StoreError> {
        let writes = self.seal_batch(&batch)?;
        self.journal.interrupt(&self.tree, &writes, applied)
    }

    /// Whether no batch is in the middle of being applied.
    #[cfg(test)]
    pub(crate) fn journal_is_empty_for_tests(&self) -> bool {
        self.journal.is_empty()
    }

    /// How many times the store waited for the disk since it was opened.
    #[cfg(feature = "test-support")]
    pub(crate) fn flushes_for_tests(&self) -> u64 {
        self.flushes.load(Ordering::SeqCst)
    }

    /// The sealed bytes of every history record of a group, as they lie on disk, for tests
    /// that search the disk for them once they expired.
    #[cfg(feature = "test-support")]
    pub(crate) fn sealed_history_for_tests(
        &self,
        gid: &[u8; 32],
    ) -> Result<Vec<Vec<u8>>, StoreError> {
        let start = Prefix::History(gid).encode(&self.keys.vault);
        self.tree
            .scan_prefix(&start)
            .values()
            .map(|v| Ok(v?.to_vec()))
            .collect()
    }

    /// How many MLS records are packed, and how many plain JSON, for tests.
    #[cfg(feature = "test-support")]
    pub(crate) fn mls_record_forms_for_tests(&self) -> Result<(usize, usize), StoreError> {
        let records = self.scan_raw(Prefix::Mls)?;
        let packed = records
            .iter()
            .filter(|(_, record)| record.first() == Some(&mls_record::FORMAT))
            .count();
        Ok((packed, records.len() - packed))
    }

    /// The raw store key, for tests that search the disk for it.
    #[cfg(feature = "test-support")]
    pub(crate) fn store_key_for_tests(&self) -> [u8; 32] {
        self.keys.store_key.expose_for_tests()
    }

    /// Holds off batches while a read runs (see [`Store::visible`]).
    fn read_whole(&self) -> RwLockReadGuard<'_, ()> {
        // The lock guards no data of its own; a batch a panic cut short is finished by the
        // journal at the next opening, so a poisoned lock is as good as any.
        self.visible.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn unsaved(&self) -> std::sync::MutexGuard<'_, Option<Vec<u8>>> {
        // The guarded value is replaced whole, so a panic elsewhere cannot leave it half-made.
        self.keys
            .unsaved
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// A batch's writes as they go to disk: record keys, and sealed values or removals.
    fn seal_batch(&self, batch: &StoreBatch) -> Result<Vec<journal::Write>, StoreError> {
        batch
            .ops
            .iter()
            .map(|(slot, value)| {
                let key = slot.encode(&self.keys.vault);
                let sealed = value
                    .as_ref()
                    .map(|value| self.seal_value(&key, slot, value))
                    .transpose()?;
                Ok((key, sealed))
            })
            .collect()
    }

    /// The one point where values are encoded for disk:
    /// seal(aad = tree key, u32-BE len(id) | id | value), where a padded record sets
    /// [`PADDED_FLAG`] in the length and its value is a padded frame.
    fn seal_value(
        &self,
        tree_key: &[u8],
        slot: &Slot,
        value: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let id = slot.kept_id();
        let mut id_len = u32::try_from(id.len())
            .ok()
            .filter(|len| len & PADDED_FLAG == 0)
            .ok_or(StoreError::Corrupt("record id"))?;
        // A value beyond the largest bucket (a held delivery of 1 MiB, hex-encoded) is kept
        // unpadded: its length tells only that it is that large.
        let padded = slot
            .padded_at_rest()
            .then(|| padding::pad(value, 0).ok().map(Zeroizing::new))
            .flatten();
        if padded.is_some() {
            id_len |= PADDED_FLAG;
        }
        let value = padded.as_deref().map_or(value, Vec::as_slice);
        let mut frame = Zeroizing::new(Vec::with_capacity(4 + id.len() + value.len()));
        frame.extend_from_slice(&id_len.to_be_bytes());
        frame.extend_from_slice(id);
        frame.extend_from_slice(value);
        self.keys
            .vault
            .seal(&mut OsRng, tree_key, &frame)
            .map_err(|_| StoreError::Corrupt("record too long"))
    }

    /// The one point where values read from disk are decoded.
    fn open_value(&self, tree_key: &[u8], stored: &[u8]) -> Result<RawRecord, StoreError> {
        let frame = self
            .keys
            .vault
            .open(tree_key, stored)
            .map_err(|_| StoreError::Corrupt("a record does not authenticate"))?;
        let (len, rest) = frame
            .split_first_chunk::<4>()
            .ok_or(StoreError::Corrupt("record frame"))?;
        let len = u32::from_be_bytes(*len);
        let padded = len & PADDED_FLAG != 0;
        let len =
            usize::try_from(len & !PADDED_FLAG).map_err(|_| StoreError::Corrupt("record frame"))?;
        if rest.len() < len {
            return Err(StoreError::Corrupt("record frame"));
        }
        let (id, value) = rest.split_at(len);
        let value = if padded {
            padding::unpad(value).map_err(|_| StoreError::Corrupt("record padding"))?
        } else {
            value
        };
        Ok((id.to_vec(), Zeroizing::new(value.to_vec())))
    }
}

/// Unlocks an existing store with its recorded parameters.
fn unlock(record: &[u8], passphrase: &Passphrase) -> Result<Keys, OpenFailure> {
    let wrapped = WrappedKey::decode(record)
        .map_err(|_| StoreError::Corrupt("the key record is unreadable"))?;
    let store_key = wrapped.unwrap(passphrase).map_err(|e| match e {
        UnwrapError::WrongPassphrase => OpenFailure::WrongPassphrase,
        _ => StoreError::Corrupt("the key record is unreadable").into(),
    })?;
    Ok(Keys {
        vault: Vault::new(&store_key),
        store_key,
        params: wrapped.params(),
        unsaved: Mutex::new(None),
    })
}

/// Makes the key of a new store; it is written with the first batch.
fn create(passphrase: &Passphrase, params: KdfParams) -> Result<Keys, StoreError> {
    let store_key = StoreKey::generate(&mut OsRng);
    let wrapped = WrappedKey::wrap(&mut OsRng, passphrase, params, &store_key)
        .map_err(wrap_error)?
        .encode();
    Ok(Keys {
        vault: Vault::new(&store_key),
        store_key,
        params,
        unsaved: Mutex::new(Some(wrapped)),
    })
}

fn wrap_error(error: WrapError) -> StoreError {
    match error {
        WrapError::Params(_) => StoreError::KdfParams,
        _ => StoreError::Corrupt("the store key could not be wrapped"),
    }
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|_| StoreError::Corrupt("undecodable record"))
}

#[cfg(test)]
mod tests;

/// Creates `dir` if needed and makes it its owner's alone (0700): the store's files are
/// encrypted, but their number, sizes and times are nobody else's business either.
fn make_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir)?;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode & 0o700))?;
    }
    Ok(())
}
