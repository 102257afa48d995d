//! One-time KeyPackages per handle, plus one reusable last-resort KeyPackage.

use parley_crypto::handle::Handle;

use super::keys::{handle_prefix, with_u64};
use super::{SledStore, StoreError};

/// Outcome of publishing KeyPackages.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Published {
    /// Stored durably; this many one-time KeyPackages are now held for the handle.
    Held(u32),
    /// The handle would hold more than the allowed number; nothing was written.
    TooMany,
}

/// What an owner publishes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Upload<'a> {
    /// New one-time KeyPackages.
    pub(crate) key_packages: &'a [Vec<u8>],
    /// A new last-resort KeyPackage, replacing the one held.
    pub(crate) last_resort: Option<&'a [u8]>,
    /// Drop the one-time KeyPackages held before (a rotation before they expire).
    pub(crate) replace: bool,
}

/// A KeyPackage handed out by [`SledStore::claim_key_package`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Claimed {
    /// The KeyPackage as published.
    pub(crate) key_package: Vec<u8>,
    /// True if it is the reusable last-resort KeyPackage.
    pub(crate) last_resort: bool,
}

impl SledStore {
    /// Adds one-time KeyPackages (after dropping those held, with `upload.replace`) and
    /// optionally replaces the last-resort one.
    ///
    /// The cap is checked before writing; concurrent publishes by the same owner may overshoot
    /// it by one batch, which only costs that owner storage.
    pub(crate) async fn publish_key_packages(
        &self,
        handle: &Handle,
        upload: Upload<'_>,
        max_held: usize,
    ) -> Result<Published, StoreError> {
        let Upload {
            key_packages,
            last_resort,
            replace,
        } = upload;
        self.admit_new_data()?;
        let prefix = handle_prefix(handle);
        let mut batch = sled::Batch::default();
        let held = if replace {
            // In the same batch as the new ones: a claim sees the old set or the new one.
            for key in self.key_packages.scan_prefix(&prefix).keys() {
                batch.remove(key?);
            }
            0
        } else {
            self.count_key_packages(&prefix)?
        };
        let total = held.saturating_add(key_packages.len());
        if total > max_held {
            return Ok(Published::TooMany);
        }
        for key_package in key_packages {
            // Ids are increasing, so claims hand out the oldest KeyPackage first.
            let id = self.db.generate_id()?;
            batch.insert(with_u64(&prefix, id), key_package.as_slice());
        }
        self.key_packages.apply_batch(batch)?;
        if let Some(last_resort) = last_resort {
            self.last_resort
                .insert(handle.as_str().as_bytes(), last_resort)?;
        }
        self.persist().await?;
        Ok(Published::Held(u32::try_from(total).unwrap_or(u32::MAX)))
    }

    /// Hands out one KeyPackage: a one-time one (removed, so never handed out again) or, when
    /// none is left, the last-resort one (kept). `None` if the handle has neither.
    pub(crate) async fn claim_key_package(
        &self,
        handle: &Handle,
    ) -> Result<Option<Claimed>, StoreError> {
        let prefix = handle_prefix(handle);
        loop {
            let Some(first) = self.key_packages.scan_prefix(&prefix).keys().next() else {
                break;
            };
            // `remove` returns the value to exactly one caller, so under concurrent claims
            // each KeyPackage goes to one claimant; the others move on to the next one.
            if let Some(key_package) = self.key_packages.remove(first?)? {
                self.persist().await?;
                return Ok(Some(Claimed {
                    key_package: key_package.to_vec(),
                    last_resort: false,
                }));
            }
        }
        self.claim_last_resort(handle)
    }

    /// Hands out the last-resort KeyPackage (kept), whatever one-time ones are held: for a
    /// claim past the handle's claim budget, which must not use up one-time KeyPackages but
    /// must not leave an adder with nothing either. `None` if the handle has none.
    pub(crate) fn claim_last_resort(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError> {
        Ok(self
            .last_resort
            .get(handle.as_str().as_bytes())?
            .map(|kp| Claimed {
                key_package: kp.to_vec(),
                last_resort: true,
            }))
    }

    fn count_key_packages(&self, prefix: &[u8]) -> Result<usize, StoreError> {
        let mut count = 0usize;
        for key in self.key_packages.scan_prefix(prefix).keys() {
            key?;
            count += 1;
        }
        Ok(count)
    }
}
