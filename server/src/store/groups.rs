//! Group logs: an append-only sequence of entries per group, moved from epoch to epoch by
//! compare-and-swap commits.
//!
//! Layout: `group_meta`: `group_id` -> `u64 epoch | u64 next_seq | u64 bytes | u64
//! ttl_secs` (bytes of the messages held, missing, so 0, in databases written before
//! retention; the members' agreed retention, missing or 0 when they set none);
//! `group_keys`: `group_id | u64 epoch` -> `access_key[32] | u64 first_seq` (immutable once
//! written); `group_entries`: `group_id | u64 seq` -> `u64 epoch | u8 flags | u64 stored_at_ms |
//! message`, where flag bit 0 marks a commit and bit 1 the presence of `stored_at_ms` (entries
//! written before retention lack it, and are never expired). Entries of one epoch are
//! contiguous, from the epoch's `first_seq` to its commit; the retention sweeper deletes the
//! oldest entries of a log first, so a log always holds a suffix of what was appended.
//!
//! A post writes its entry, then (a commit) the next epoch's key, then the group's position,
//! without a sled transaction: a transaction takes sled's global write lock, which every
//! flush blocks, and makes sled write its log buffer out twice. The group's lock (see
//! [`super::counter_locks`]) orders a group's writers instead and holds its position, which
//! is the authority once loaded: readers of the position wait for a post under way, so a
//! reader that saw an entry also sees a position past it. A crash between the writes leaves
//! an entry at or after the stored `next_seq`, perhaps with a key of an epoch after the
//! stored one: nothing any caller was told of (the post answers after all three are
//! flushed). Opening the store removes such leftovers before anything reads them, and so
//! does loading a group's position after a failed write. Creation (two records) and the
//! sweeper's removals (entries and the byte count) stay transactions, under the group's
//! lock: they are rare, and a leftover of theirs could not be told from real data.

use sled::transaction::ConflictableTransactionError;
use sled::Transactional;

use super::counter_locks::lock;
use super::keys::{key_suffix_u64, read_u64, with_u64};
use super::{SledStore, StoreError};
use crate::metrics::Kind;

/// Entry flag: the entry is a commit.
const FLAG_COMMIT: u8 = 1;
/// Entry flag: the entry records when it was stored.
const FLAG_TIMED: u8 = 2;

/// A group's position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct GroupMeta {
    /// The epoch the group is in.
    pub(crate) epoch: u64,
    /// The sequence number the next entry will get.
    pub(crate) next_seq: u64,
    /// Bytes of the messages held.
    bytes: u64,
    /// The members' agreed retention in seconds (0: none).
    ttl_secs: u64,
}

/// The public access key of one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct EpochKey {
    /// Ed25519 public key.
    pub(crate) key: [u8; 32],
    /// Sequence number of the epoch's first entry.
    pub(crate) first_seq: u64,
}

/// Outcome of creating a group.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Created {
    /// Stored durably at epoch 0.
    Created,
    /// The id is taken; nothing was written.
    Exists,
}

/// Outcome of appending an entry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Appended {
    /// Stored durably at this sequence number.
    At(u64),
    /// The group is no longer at the expected epoch; nothing was written.
    EpochMoved {
        /// The group's epoch now.
        current: u64,
    },
    /// No such group.
    NoGroup,
}

/// Outcome of setting a group's retention.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TtlSet {
    /// Stored durably.
    Set,
    /// The group is no longer at the epoch whose key asked; nothing was written.
    EpochMoved,
    /// No such group.
    NoGroup,
}

/// One log entry.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct StoredEntry {
    /// Position in the log.
    pub(crate) seq: u64,
    /// The epoch it was appended in.
    pub(crate) epoch: u64,
    /// True if it moved the group to `epoch + 1`.
    pub(crate) commit: bool,
    /// The message as posted.
    pub(crate) message: Vec<u8>,
}

impl GroupMeta {
    /// A group's position as a backend that does not count its bytes reports it.
    pub(crate) fn at(epoch: u64, next_seq: u64, ttl_secs: u64) -> GroupMeta {
        GroupMeta {
            epoch,
            next_seq,
            bytes: 0,
            ttl_secs,
        }
    }

    fn decode(bytes: &[u8]) -> Result<GroupMeta, StoreError> {
        Ok(GroupMeta {
            epoch: read_u64(bytes, 0, "group meta")?,
            next_seq: read_u64(bytes, 8, "group meta")?,
            bytes: if bytes.len() >= 24 {
                read_u64(bytes, 16, "group meta")?
            } else {
                0
            },
            ttl_secs: if bytes.len() >= 32 {
                read_u64(bytes, 24, "group meta")?
            } else {
                0
            },
        })
    }

    fn encode(self) -> [u8; 32] {
        let mut out = [0u8; 32];
        out[..8].copy_from_slice(&self.epoch.to_be_bytes());
        out[8..16].copy_from_slice(&self.next_seq.to_be_bytes());
        out[16..24].copy_from_slice(&self.bytes.to_be_bytes());
        out[24..].copy_from_slice(&self.ttl_secs.to_be_bytes());
        out
    }
}

impl EpochKey {
    fn encode(self) -> [u8; 40] {
        let mut out = [0u8; 40];
        out[..32].copy_from_slice(&self.key);
        out[32..].copy_from_slice(&self.first_seq.to_be_bytes());
        out
    }

    fn decode(bytes: &[u8]) -> Result<EpochKey, StoreError> {
        let key = bytes
            .get(..32)
            .and_then(|k| <[u8; 32]>::try_from(k).ok())
            .ok_or(StoreError::Corrupt("group access key"))?;
        Ok(EpochKey {
            key,
            first_seq: read_u64(bytes, 32, "group access key")?,
        })
    }
}

impl SledStore {
    /// Creates a group log at epoch 0 with its access key.
    pub(crate) async fn create_group(
        &self,
        group_id: &[u8; 32],
        access_key: &[u8; 32],
    ) -> Result<Created, StoreError> {
        self.admit_new_data()?;
        let meta = GroupMeta {
            epoch: 0,
            next_seq: 0,
            bytes: 0,
            ttl_secs: 0,
        };
        let key = EpochKey {
            key: *access_key,
            first_seq: 0,
        };
        let outcome = {
            let slot = self.group_locks.get(group_id);
            let mut guard = lock(&slot);
            if self.loaded_group(&mut guard, group_id)?.is_some() {
                Created::Exists
            } else {
                (&self.group_meta, &self.group_keys).transaction(|(metas, keys)| {
                    metas.insert(&group_id[..], &meta.encode()[..])?;
                    keys.insert(with_u64(group_id, 0), &key.encode()[..])?;
                    Ok::<_, ConflictableTransactionError<StoreError>>(())
                })?;
                *guard = Some(Some(meta));
                Created::Created
            }
        };
        if outcome == Created::Created {
            self.persist().await?;
        }
        Ok(outcome)
    }

    /// The group's current position, if it exists.
    pub(crate) fn group_meta(&self, group_id: &[u8; 32]) -> Result<Option<GroupMeta>, StoreError> {
        // Without a lock no writer touched the group since the store opened, so the stored
        // position is whole; with one, a post under way may have written its entry already.
        match self.group_locks.existing(group_id) {
            Some(slot) => self.loaded_group(&mut lock(&slot), group_id),
            None => self.stored_group_meta(group_id),
        }
    }

    /// The public access key of `epoch`, if the group has reached that epoch.
    pub(crate) fn epoch_key(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
    ) -> Result<Option<EpochKey>, StoreError> {
        self.group_keys
            .get(with_u64(group_id, epoch))?
            .map(|bytes| EpochKey::decode(&bytes))
            .transpose()
    }

    /// Appends `message` if the group is at `epoch`. With `next_key`, the entry is a commit:
    /// the group moves to `epoch + 1` whose access key is `next_key`.
    pub(crate) async fn append(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        message: &[u8],
        next_key: Option<&[u8; 32]>,
        stored_at_ms: u64,
    ) -> Result<Appended, StoreError> {
        self.admit_new_data()?;
        let size = u64::try_from(message.len()).unwrap_or(u64::MAX);
        let mut value = Vec::with_capacity(ENTRY_HEADER_TIMED + message.len());
        value.extend_from_slice(&epoch.to_be_bytes());
        let commit = if next_key.is_some() { FLAG_COMMIT } else { 0 };
        value.push(FLAG_TIMED | commit);
        value.extend_from_slice(&stored_at_ms.to_be_bytes());
        value.extend_from_slice(message);
        let outcome = {
            let slot = self.group_locks.get(group_id);
            let mut guard = lock(&slot);
            let Some(meta) = self.loaded_group(&mut guard, group_id)? else {
                return Ok(Appended::NoGroup);
            };
            if meta.epoch != epoch {
                return Ok(Appended::EpochMoved {
                    current: meta.epoch,
                });
            }
            let seq = meta.next_seq;
            let mut next = GroupMeta {
                epoch,
                next_seq: seq + 1,
                bytes: meta.bytes.saturating_add(size),
                ttl_secs: meta.ttl_secs,
            };
            let next_key = next_key.map(|key| EpochKey {
                key: *key,
                first_seq: seq + 1,
            });
            if next_key.is_some() {
                next.epoch = epoch + 1;
            }
            match self.write_entry(group_id, seq, value, next_key, next) {
                Ok(()) => *guard = Some(Some(next)),
                Err(error) => {
                    // What reached the tree is repaired when the position is loaded again.
                    *guard = None;
                    return Err(error);
                }
            }
            Appended::At(seq)
        };
        self.metrics.stored_add(Kind::Group, size);
        self.persist().await?;
        Ok(outcome)
    }

    /// Writes an entry at `seq`, the key that opens the next epoch if it is a commit, and
    /// the group's position after it, in that order (see the module's documentation).
    fn write_entry(
        &self,
        group_id: &[u8; 32],
        seq: u64,
        value: Vec<u8>,
        next_key: Option<EpochKey>,
        next: GroupMeta,
    ) -> Result<(), StoreError> {
        self.group_entries.insert(with_u64(group_id, seq), value)?;
        if let Some(key) = next_key {
            self.group_keys
                .insert(with_u64(group_id, next.epoch), &key.encode()[..])?;
        }
        self.group_meta.insert(&group_id[..], &next.encode()[..])?;
        Ok(())
    }

    /// The position held in a group's lock, loaded (and its log repaired) on first use.
    fn loaded_group(
        &self,
        slot: &mut Option<Option<GroupMeta>>,
        group_id: &[u8],
    ) -> Result<Option<GroupMeta>, StoreError> {
        if let Some(loaded) = *slot {
            return Ok(loaded);
        }
        let meta = self.stored_group_meta(group_id)?;
        if let Some(meta) = meta {
            self.repair_group_log(group_id, meta)?;
        }
        *slot = Some(meta);
        Ok(meta)
    }

    /// The position as stored.
    fn stored_group_meta(&self, group_id: &[u8]) -> Result<Option<GroupMeta>, StoreError> {
        self.group_meta
            .get(group_id)?
            .map(|bytes| GroupMeta::decode(&bytes))
            .transpose()
    }

    /// Removes, from every group log, what posts cut short by a crash left (see
    /// [`SledStore::repair_group_log`]); called when the store opens, before anything reads.
    pub(super) fn repair_group_logs(&self) -> Result<(), StoreError> {
        let mut removed = 0u64;
        for item in self.group_meta.iter() {
            let (group_id, meta) = item?;
            removed += self.repair_group_log(&group_id, GroupMeta::decode(&meta)?)?;
        }
        if removed > 0 {
            tracing::warn!(
                removed,
                "removed the records of group posts a crash cut short (never acknowledged)"
            );
        }
        Ok(())
    }

    /// Removes the entries at or after the stored `next_seq` and the keys of epochs after
    /// the stored epoch: a post writes them before the position, so a crash (or a failed
    /// write) in between leaves them behind, and no caller was told of them. Returns how many
    /// records went.
    fn repair_group_log(&self, group_id: &[u8], meta: GroupMeta) -> Result<u64, StoreError> {
        let mut leftovers = Vec::new();
        let entries = with_u64(group_id, meta.next_seq)..=with_u64(group_id, u64::MAX);
        for item in self.group_entries.range(entries) {
            leftovers.push((&self.group_entries, item?.0));
        }
        if let Some(after) = meta.epoch.checked_add(1) {
            let keys = with_u64(group_id, after)..=with_u64(group_id, u64::MAX);
            for item in self.group_keys.range(keys) {
                leftovers.push((&self.group_keys, item?.0));
            }
        }
        for (tree, key) in &leftovers {
            tree.remove(key)?;
        }
        Ok(u64::try_from(leftovers.len()).unwrap_or(u64::MAX))
    }

    /// Entries of `epoch` from `from_seq` on (the epoch starting at `first_seq`): at most
    /// `limit`, stopping before `max_bytes` of messages (but always at least one).
    pub(crate) fn read_entries(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        first_seq: u64,
        from_seq: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let start = from_seq.max(first_seq);
        let range = with_u64(group_id, start)..=with_u64(group_id, u64::MAX);
        let mut out = Vec::new();
        let mut bytes = 0usize;
        for item in self.group_entries.range(range) {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item?;
            let entry_epoch = read_u64(&value, 0, "group entry")?;
            if entry_epoch != epoch {
                break;
            }
            let (commit, _, message) = decode_entry(&value)?;
            bytes = bytes.saturating_add(message.len());
            if bytes > max_bytes && !out.is_empty() {
                break;
            }
            out.push(StoredEntry {
                seq: key_suffix_u64(&key, "group entry key")?,
                epoch,
                commit,
                message: message.to_vec(),
            });
        }
        Ok(out)
    }

    /// Sets the members' agreed retention of a group at `epoch` (its current one), in
    /// seconds, 0 for none.
    pub(crate) async fn set_group_ttl(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        ttl_secs: u64,
    ) -> Result<TtlSet, StoreError> {
        {
            let slot = self.group_locks.get(group_id);
            let mut guard = lock(&slot);
            let Some(meta) = self.loaded_group(&mut guard, group_id)? else {
                return Ok(TtlSet::NoGroup);
            };
            if meta.epoch != epoch {
                return Ok(TtlSet::EpochMoved);
            }
            let next = GroupMeta { ttl_secs, ..meta };
            // One record: written whole or not at all.
            if let Err(error) = self.group_meta.insert(&group_id[..], &next.encode()[..]) {
                *guard = None;
                return Err(error.into());
            }
            *guard = Some(Some(next));
        }
        self.persist().await?;
        Ok(TtlSet::Set)
    }

    /// Deletes, from every group log, the entries stored longer ago than the relay's
    /// retention (`default_ms`, if any) or the group's own, whichever is shorter, at
    /// `now_ms`; returns how many. Not flushed: a crash only brings back entries the next
    /// sweep deletes again.
    pub(crate) fn expire_entries(
        &self,
        now_ms: u64,
        default_ms: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut expired = 0u64;
        for item in self.group_meta.iter() {
            let (group_id, meta) = item?;
            let ttl_ms = GroupMeta::decode(&meta)?.ttl_secs.saturating_mul(1000);
            let kept_ms = match (default_ms, ttl_ms) {
                (None, 0) => continue,
                (Some(default), 0) => default,
                (None, ttl) => ttl,
                (Some(default), ttl) => default.min(ttl),
            };
            let cutoff_ms = now_ms.saturating_sub(kept_ms);
            loop {
                let mut batch = Vec::new();
                let range = with_u64(&group_id, 0)..=with_u64(&group_id, u64::MAX);
                for item in self.group_entries.range(range) {
                    let (key, value) = item?;
                    let (_, stored_at_ms, _) = decode_entry(&value)?;
                    // Untimed entries predate retention and stay; the timed ones after them
                    // are still in append order.
                    let Some(stored_at_ms) = stored_at_ms else {
                        continue;
                    };
                    if stored_at_ms >= cutoff_ms || batch.len() >= EXPIRE_BATCH {
                        break;
                    }
                    batch.push(key);
                }
                if batch.is_empty() {
                    break;
                }
                let full_batch = batch.len() >= EXPIRE_BATCH;
                expired += self.remove_entries(&group_id, &batch)?;
                if !full_batch {
                    break;
                }
            }
        }
        if expired > 0 {
            self.metrics.expired(Kind::Group, expired);
        }
        Ok(expired)
    }

    /// Removes entries of one group and updates its byte count in one transaction, under
    /// the group's lock; returns how many existed.
    fn remove_entries(&self, group_id: &[u8], keys: &[sled::IVec]) -> Result<u64, StoreError> {
        let slot = self.group_locks.get(group_id);
        let mut guard = lock(&slot);
        let removed = (&self.group_meta, &self.group_entries).transaction(|(metas, entries)| {
            let mut removed = 0u64;
            let mut bytes = 0u64;
            for key in keys {
                if let Some(value) = entries.remove(key)? {
                    removed += 1;
                    let len = value.len().saturating_sub(ENTRY_HEADER_TIMED);
                    bytes = bytes.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
                }
            }
            let mut meta = None;
            if let Some(bytes_meta) = metas.get(group_id)? {
                let mut stored =
                    GroupMeta::decode(&bytes_meta).map_err(ConflictableTransactionError::Abort)?;
                stored.bytes = stored.bytes.saturating_sub(bytes);
                metas.insert(group_id, &stored.encode()[..])?;
                meta = Some(stored);
            }
            Ok((removed, bytes, meta))
        });
        let (removed, bytes, meta) = match removed {
            Ok(done) => done,
            Err(error) => {
                *guard = None;
                return Err(error.into());
            }
        };
        // Under the lock the stored position is the held one, but for the bytes removed.
        if guard.is_some() {
            *guard = Some(meta);
        }
        drop(guard);
        self.metrics.stored_sub(Kind::Group, bytes);
        Ok(removed)
    }

    /// Message bytes over all group logs, from their counters.
    pub(super) fn group_bytes(&self) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for item in self.group_meta.iter() {
            let (_, meta) = item?;
            total = total.saturating_add(GroupMeta::decode(&meta)?.bytes);
        }
        Ok(total)
    }
}

/// Entries deleted per transaction by the sweeper.
const EXPIRE_BATCH: usize = 500;
/// Bytes before the message in a timed entry.
const ENTRY_HEADER_TIMED: usize = 17;

/// Splits a stored entry into (commit, stored_at_ms if recorded, message).
fn decode_entry(value: &[u8]) -> Result<(bool, Option<u64>, &[u8]), StoreError> {
    let flags = *value.get(8).ok_or(StoreError::Corrupt("group entry"))?;
    let commit = flags & FLAG_COMMIT != 0;
    if flags & FLAG_TIMED == 0 {
        let message = value.get(9..).ok_or(StoreError::Corrupt("group entry"))?;
        return Ok((commit, None, message));
    }
    let stored_at_ms = read_u64(value, 9, "group entry")?;
    let message = value
        .get(ENTRY_HEADER_TIMED..)
        .ok_or(StoreError::Corrupt("group entry"))?;
    Ok((commit, Some(stored_at_ms), message))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};

    use super::*;
    use crate::store::FlushPolicy;

    const GROUP: [u8; 32] = [7; 32];

    /// An entry as [`SledStore::append`] stores it.
    fn stored_entry(epoch: u64, commit: bool, message: &[u8]) -> Vec<u8> {
        let mut value = epoch.to_be_bytes().to_vec();
        value.push(FLAG_TIMED | if commit { FLAG_COMMIT } else { 0 });
        value.extend_from_slice(&1u64.to_be_bytes());
        value.extend_from_slice(message);
        value
    }

    fn messages(store: &SledStore, epoch: u64) -> Vec<Vec<u8>> {
        let entries = store.read_entries(&GROUP, epoch, 0, 0, 1000, 1 << 20);
        entries.unwrap().into_iter().map(|e| e.message).collect()
    }

    /// Writes what a crash between a commit's writes leaves at `seq` of epoch 0: its entry
    /// and the next epoch's key, not the position.
    fn leave_a_cut_short_commit(store: &SledStore, seq: u64) {
        let entry = stored_entry(0, true, b"cut short");
        store
            .group_entries
            .insert(with_u64(&GROUP, seq), entry)
            .unwrap();
        let key = EpochKey {
            key: [9; 32],
            first_seq: seq + 1,
        };
        store
            .group_keys
            .insert(with_u64(&GROUP, 1), &key.encode()[..])
            .unwrap();
    }

    #[tokio::test]
    async fn what_a_crash_left_of_a_commit_is_gone_after_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
            let created = store.create_group(&GROUP, &[1; 32]).await.unwrap();
            assert_eq!(created, Created::Created);
            let one = store.append(&GROUP, 0, b"one", None, 1).await.unwrap();
            let two = store.append(&GROUP, 0, b"two", None, 2).await.unwrap();
            assert_eq!((one, two), (Appended::At(0), Appended::At(1)));
            leave_a_cut_short_commit(&store, 2);
            store.flush().await.unwrap();
        }
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        assert_eq!(messages(&store, 0), [b"one".to_vec(), b"two".to_vec()]);
        assert_eq!(store.epoch_key(&GROUP, 1).unwrap(), None);
        let meta = store.group_meta(&GROUP).unwrap().unwrap();
        assert_eq!((meta.epoch, meta.next_seq, meta.bytes), (0, 2, 6));
        // The next commit takes the place and the epoch the leftover had.
        let three = store.append(&GROUP, 0, b"three", Some(&[3; 32]), 3);
        assert_eq!(three.await.unwrap(), Appended::At(2));
        let key = store.epoch_key(&GROUP, 1).unwrap().unwrap();
        assert_eq!((key.key, key.first_seq), ([3; 32], 3));
        assert_eq!(store.group_bytes().unwrap(), 11);
    }

    #[tokio::test]
    async fn a_position_loaded_again_after_a_failed_write_repairs_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        store.create_group(&GROUP, &[1; 32]).await.unwrap();
        store.append(&GROUP, 0, b"one", None, 1).await.unwrap();
        // What a write failing after the entry leaves: the leftovers, and no position held.
        leave_a_cut_short_commit(&store, 1);
        *lock(&store.group_locks.get(&GROUP)) = None;
        let meta = store.group_meta(&GROUP).unwrap().unwrap();
        assert_eq!((meta.epoch, meta.next_seq), (0, 1));
        assert_eq!(messages(&store, 0), [b"one".to_vec()]);
        assert_eq!(store.epoch_key(&GROUP, 1).unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_posts_take_consecutive_places_and_one_commit_per_epoch_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::GroupCommit).unwrap();
        store.create_group(&GROUP, &[1; 32]).await.unwrap();
        let posts: Vec<_> = (0u8..200)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.append(&GROUP, 0, &[i; 10], None, 1).await })
            })
            .collect();
        let mut seqs = Vec::new();
        for post in posts {
            match post.await.unwrap().unwrap() {
                Appended::At(seq) => seqs.push(seq),
                other => panic!("post refused: {other:?}"),
            }
        }
        seqs.sort_unstable();
        assert_eq!(seqs, (0..200).collect::<Vec<u64>>());
        let commits: Vec<_> = (0u8..8)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.append(&GROUP, 0, b"c", Some(&[i; 32]), 1).await })
            })
            .collect();
        let mut winners = Vec::new();
        for (i, commit) in commits.into_iter().enumerate() {
            match commit.await.unwrap().unwrap() {
                Appended::At(seq) => winners.push((i, seq)),
                Appended::EpochMoved { current } => assert_eq!(current, 1),
                Appended::NoGroup => panic!("the group vanished"),
            }
        }
        assert_eq!(winners.len(), 1, "commits at one epoch: {winners:?}");
        let (winner, seq) = winners[0];
        assert_eq!(seq, 200);
        let key = store.epoch_key(&GROUP, 1).unwrap().unwrap();
        assert_eq!(
            (key.key, key.first_seq),
            ([u8::try_from(winner).unwrap(); 32], 201)
        );
        let meta = store.group_meta(&GROUP).unwrap().unwrap();
        assert_eq!((meta.epoch, meta.next_seq, meta.bytes), (1, 201, 2001));
        assert_eq!(messages(&store, 0).len(), 201);
    }

    #[test]
    fn a_reader_that_sees_an_entry_sees_a_position_past_it() {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path(), FlushPolicy::Disabled).unwrap();
        runtime
            .block_on(store.create_group(&GROUP, &[1; 32]))
            .unwrap();
        let stop = AtomicBool::new(false);
        let (reads, ahead, posted) = std::thread::scope(|scope| {
            let reader = scope.spawn(|| {
                let (mut reads, mut ahead, mut from) = (0u64, 0u64, 0u64);
                while !stop.load(Ordering::SeqCst) {
                    // As the relay answers a read: the entries first, then the position.
                    let entries = store.read_entries(&GROUP, 0, 0, from, 100, 1 << 20);
                    let meta = store.group_meta(&GROUP).unwrap().unwrap();
                    let entries = entries.unwrap();
                    if entries.iter().any(|entry| entry.seq >= meta.next_seq) {
                        ahead += 1;
                    }
                    reads += 1;
                    from = meta.next_seq;
                }
                (reads, ahead)
            });
            // Not asserted here: a failure would leave the reader looping.
            let posted = runtime.block_on(async {
                let mut posted = 0u64;
                while posted < 3000 {
                    let message = posted.to_be_bytes();
                    let appended = store.append(&GROUP, 0, &message, None, 1).await;
                    if !matches!(appended, Ok(Appended::At(seq)) if seq == posted) {
                        break;
                    }
                    posted += 1;
                }
                posted
            });
            stop.store(true, Ordering::SeqCst);
            let (reads, ahead) = reader.join().unwrap();
            (reads, ahead, posted)
        });
        assert_eq!(posted, 3000);
        assert!(reads > 100, "only {reads} reads raced the posts");
        assert_eq!(
            ahead, 0,
            "{ahead} of {reads} reads saw an entry past the position"
        );
    }
}
