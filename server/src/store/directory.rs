//! Directory records: handle -> signed record bytes, first come first served, replaced only
//! by a rotation the held record's key endorsed (or freed by the operator, see `release`).

use parley_crypto::handle::Handle;
use sled::transaction::{ConflictableTransactionResult, Transactional};

use super::keys::{handle_prefix, with_u64};
use super::{SledStore, StoreError};

/// Outcome of registering a handle.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Registration {
    /// The record is stored durably.
    Created,
    /// Another record already holds the handle; nothing was written.
    Taken,
}

impl SledStore {
    /// Stores `record` for `handle` unless the handle is taken.
    pub(crate) async fn register(
        &self,
        handle: &Handle,
        record: &[u8],
    ) -> Result<Registration, StoreError> {
        self.admit_new_data()?;
        let swapped = self.directory.compare_and_swap(
            handle.as_str().as_bytes(),
            None::<&[u8]>,
            Some(record),
        )?;
        match swapped {
            Ok(()) => {
                self.persist().await?;
                Ok(Registration::Created)
            }
            Err(_) => Ok(Registration::Taken),
        }
    }

    /// The record registered for `handle`, as registered.
    pub(crate) fn lookup(&self, handle: &Handle) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self
            .directory
            .get(handle.as_str().as_bytes())?
            .map(|v| v.to_vec()))
    }
}

/// Outcome of rotating a handle's record.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Rotated {
    /// The new record is held, and the rotation kept for lookups.
    Done,
    /// The handle is not registered.
    Unknown,
    /// The handle holds another record than the rotation replaces (stale, replayed, or of a
    /// handle released and taken again); nothing was written.
    Stale,
}

/// One rotation to store: what it replaces, what replaces it, and its encoding.
pub(crate) struct RotationWrite<'a> {
    /// The record held now, exactly.
    pub(crate) old_record: &'a [u8],
    /// The record to hold instead.
    pub(crate) new_record: &'a [u8],
    /// Its version, which orders the rotations kept.
    pub(crate) new_version: u64,
    /// The encoded rotation, served with lookups.
    pub(crate) rotation: &'a [u8],
}

impl SledStore {
    /// Replaces `handle`'s record if it is still `old_record`, and keeps the rotation in the
    /// same transaction: a crash leaves either both or neither, so the chain a lookup serves
    /// always ends at the record it serves. The handle's KeyPackages, signed by the key that
    /// was replaced, are dropped in it too (one published while the rotation is under way may
    /// survive it; only the owner publishes, and it waits for the answer). Only the last
    /// `keep` rotations are kept.
    pub(crate) async fn rotate(
        &self,
        handle: &Handle,
        write: RotationWrite<'_>,
        keep: usize,
    ) -> Result<Rotated, StoreError> {
        self.admit_new_data()?;
        let name = handle.as_str().as_bytes();
        let prefix = handle_prefix(handle);
        let rotation_key = with_u64(&prefix, write.new_version);
        // KeyPackages published until now are signed by the key being replaced: they go in
        // the same transaction, so no claim hands one out once the new record is served.
        let one_time: Vec<sled::IVec> = self
            .key_packages
            .scan_prefix(&prefix)
            .keys()
            .collect::<Result<_, _>>()?;
        let trees = (
            &self.directory,
            &self.rotations,
            &self.key_packages,
            &self.last_resort,
        );
        let outcome = trees.transaction(|(directory, rotations, key_packages, last_resort)| {
            let outcome: ConflictableTransactionResult<Rotated, StoreError> =
                match directory.get(name)? {
                    None => Ok(Rotated::Unknown),
                    Some(held) if held.as_ref() != write.old_record => Ok(Rotated::Stale),
                    Some(_) => {
                        directory.insert(name, write.new_record)?;
                        rotations.insert(rotation_key.as_slice(), write.rotation)?;
                        for key in &one_time {
                            key_packages.remove(key)?;
                        }
                        last_resort.remove(name)?;
                        Ok(Rotated::Done)
                    }
                };
            outcome
        })?;
        if outcome != Rotated::Done {
            return Ok(outcome);
        }
        let kept: Vec<_> = self
            .rotations
            .scan_prefix(&prefix)
            .keys()
            .collect::<Result<_, _>>()?;
        for old in kept.iter().take(kept.len().saturating_sub(keep)) {
            self.rotations.remove(old)?;
        }
        self.persist().await?;
        Ok(Rotated::Done)
    }

    /// The rotations kept for `handle`, oldest first.
    pub(crate) fn rotations(&self, handle: &Handle) -> Result<Vec<Vec<u8>>, StoreError> {
        self.rotations
            .scan_prefix(handle_prefix(handle))
            .values()
            .map(|v| Ok(v?.to_vec()))
            .collect()
    }
}
