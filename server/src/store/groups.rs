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

use sled::transaction::{ConflictableTransactionError, TransactionalTree};
use sled::Transactional;

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

    fn load(
        tree: &TransactionalTree,
        id: &[u8; 32],
    ) -> Result<Option<GroupMeta>, ConflictableTransactionError<StoreError>> {
        match tree.get(id)? {
            None => Ok(None),
            Some(bytes) => GroupMeta::decode(&bytes)
                .map(Some)
                .map_err(ConflictableTransactionError::Abort),
        }
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
        let outcome = (&self.group_meta, &self.group_keys).transaction(|(metas, keys)| {
            if GroupMeta::load(metas, group_id)?.is_some() {
                return Ok(Created::Exists);
            }
            metas.insert(&group_id[..], &meta.encode()[..])?;
            keys.insert(with_u64(group_id, 0), &key.encode()[..])?;
            Ok(Created::Created)
        })?;
        if outcome == Created::Created {
            self.persist().await?;
        }
        Ok(outcome)
    }

    /// The group's current position, if it exists.
    pub(crate) fn group_meta(&self, group_id: &[u8; 32]) -> Result<Option<GroupMeta>, StoreError> {
        self.group_meta
            .get(group_id)?
            .map(|bytes| GroupMeta::decode(&bytes))
            .transpose()
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
    /// the group moves to `epoch + 1` whose access key is `next_key`, in the same transaction.
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
        let mut value = Vec::with_capacity(17 + message.len());
        value.extend_from_slice(&epoch.to_be_bytes());
        let commit = if next_key.is_some() { FLAG_COMMIT } else { 0 };
        value.push(FLAG_TIMED | commit);
        value.extend_from_slice(&stored_at_ms.to_be_bytes());
        value.extend_from_slice(message);
        let value = sled::IVec::from(value);
        let trees = (&self.group_meta, &self.group_entries, &self.group_keys);
        let outcome = trees.transaction(|(metas, entries, keys)| {
            let Some(meta) = GroupMeta::load(metas, group_id)? else {
                return Ok(Appended::NoGroup);
            };
            if meta.epoch != epoch {
                return Ok(Appended::EpochMoved {
                    current: meta.epoch,
                });
            }
            let seq = meta.next_seq;
            entries.insert(with_u64(group_id, seq), value.clone())?;
            let mut next = GroupMeta {
                epoch,
                next_seq: seq + 1,
                bytes: meta.bytes.saturating_add(size),
                ttl_secs: meta.ttl_secs,
            };
            if let Some(next_key) = next_key {
                next.epoch = epoch + 1;
                let key = EpochKey {
                    key: *next_key,
                    first_seq: seq + 1,
                };
                keys.insert(with_u64(group_id, epoch + 1), &key.encode()[..])?;
            }
            metas.insert(&group_id[..], &next.encode()[..])?;
            Ok(Appended::At(seq))
        })?;
        if matches!(outcome, Appended::At(_)) {
            self.metrics.stored_add(Kind::Group, size);
            self.persist().await?;
        }
        Ok(outcome)
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
        let outcome = self.group_meta.transaction(|metas| {
            let Some(meta) = GroupMeta::load(metas, group_id)? else {
                return Ok(TtlSet::NoGroup);
            };
            if meta.epoch != epoch {
                return Ok(TtlSet::EpochMoved);
            }
            metas.insert(&group_id[..], &GroupMeta { ttl_secs, ..meta }.encode()[..])?;
            Ok(TtlSet::Set)
        })?;
        if outcome == TtlSet::Set {
            self.persist().await?;
        }
        Ok(outcome)
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

    /// Removes entries of one group and updates its byte count in one transaction; returns
    /// how many existed.
    fn remove_entries(&self, group_id: &[u8], keys: &[sled::IVec]) -> Result<u64, StoreError> {
        let (removed, bytes) =
            (&self.group_meta, &self.group_entries).transaction(|(metas, entries)| {
                let mut removed = 0u64;
                let mut bytes = 0u64;
                for key in keys {
                    if let Some(value) = entries.remove(key)? {
                        removed += 1;
                        let len = value.len().saturating_sub(ENTRY_HEADER_TIMED);
                        bytes = bytes.saturating_add(u64::try_from(len).unwrap_or(u64::MAX));
                    }
                }
                if let Some(bytes_meta) = metas.get(group_id)? {
                    let mut meta = GroupMeta::decode(&bytes_meta)
                        .map_err(ConflictableTransactionError::Abort)?;
                    meta.bytes = meta.bytes.saturating_sub(bytes);
                    metas.insert(group_id, &meta.encode()[..])?;
                }
                Ok((removed, bytes))
            })?;
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
