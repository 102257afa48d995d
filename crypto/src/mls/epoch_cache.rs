//! What is derived once per epoch state and kept: each group's relay access key and its
//! member list.
//!
//! Deriving the access key takes an MLS export and an Ed25519 public key (a base-point
//! multiplication), about what signing the call it authenticates costs, and a client needs
//! it for every call to the group: a profile of a 10-member room put 4% of the clients' time
//! there. The member list parses every leaf's credential and identity key (a point
//! decompression each), and sending checks every member against their pinned key: in a room
//! of a hundred, about a millisecond before each message could leave.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use openmls::prelude::MlsGroup;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::errors::MlsError;
use super::GroupId;

/// One value per group, for the epoch state it was derived in.
pub(crate) struct EpochCache<T>(Mutex<HashMap<GroupId, Derived<T>>>);

impl<T> Default for EpochCache<T> {
    fn default() -> Self {
        EpochCache(Mutex::default())
    }
}

/// A value and the epoch state it belongs to: the epoch's number and its authenticator, which
/// tells two states of the same number apart (a rolled-back merge followed by another
/// commit, or a group rejoined through a Welcome).
struct Derived<T> {
    epoch: u64,
    authenticator: Zeroizing<Vec<u8>>,
    value: Arc<T>,
}

impl<T> EpochCache<T> {
    /// The value of `group`'s current epoch: the one kept when it was derived in this very
    /// epoch state, else `derive`d now and kept.
    pub(crate) fn get_or_derive(
        &self,
        group_id: &GroupId,
        group: &MlsGroup,
        derive: impl FnOnce() -> Result<T, MlsError>,
    ) -> Result<Arc<T>, MlsError> {
        let epoch = group.epoch().as_u64();
        let authenticator = group.epoch_authenticator().as_slice();
        if let Some(kept) = self.lock().get(group_id) {
            if kept.epoch == epoch && bool::from(kept.authenticator.ct_eq(authenticator)) {
                return Ok(kept.value.clone());
            }
        }
        let value = Arc::new(derive()?);
        self.lock().insert(
            *group_id,
            Derived {
                epoch,
                authenticator: Zeroizing::new(authenticator.to_vec()),
                value: value.clone(),
            },
        );
        Ok(value)
    }

    /// Forgets every value (the state they were derived from is being rolled back).
    pub(crate) fn clear(&self) {
        self.lock().clear();
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<GroupId, Derived<T>>> {
        // Held only to look up, insert or clear: a panic elsewhere leaves no half-done entry.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
