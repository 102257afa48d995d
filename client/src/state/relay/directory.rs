//! Directory RPCs: registering and looking up handles, and KeyPackages.

use parley_crypto::auth::{body, OwnerMethod};
use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_proto::v1 as proto;

use super::RelayConnection;
use crate::api::error::RelayError;

impl RelayConnection {
    /// Registers a signed directory record. `AlreadyExists` if the handle is taken.
    pub(crate) async fn register(&self, record: &SignedRecord) -> Result<(), RelayError> {
        self.directory()
            .register(proto::RegisterRequest {
                record: record.to_bytes(),
            })
            .await?;
        Ok(())
    }

    /// Returns the raw directory record of a handle; the caller verifies it (the relay's
    /// word is never trusted). `NotFound` if the handle is unknown.
    pub(crate) async fn lookup(&self, handle: &Handle) -> Result<Vec<u8>, RelayError> {
        Ok(self.lookup_with_rotations(handle).await?.0)
    }

    /// Returns the raw directory record of a handle and the raw rotations the relay keeps
    /// for it (oldest first); the caller verifies both.
    pub(crate) async fn lookup_with_rotations(
        &self,
        handle: &Handle,
    ) -> Result<(Vec<u8>, Vec<Vec<u8>>), RelayError> {
        let found = self
            .directory()
            .lookup(proto::LookupRequest {
                handle: handle.as_str().to_owned(),
            })
            .await?
            .into_inner();
        if found.record.is_empty() {
            return Err(RelayError::Protocol(format!(
                "the relay returned an empty directory record for {handle}"
            )));
        }
        Ok((found.record, found.rotations))
    }

    /// Replaces our directory record by a rotation our current key signed.
    /// `FailedPrecondition` if the relay holds another record than the one it replaces.
    pub(crate) async fn rotate(&self, rotation: &[u8]) -> Result<(), RelayError> {
        self.directory()
            .rotate(proto::RotateRequest {
                rotation: rotation.to_vec(),
            })
            .await?;
        Ok(())
    }

    /// Publishes one-time KeyPackages (and optionally a new last-resort one) for the owner's
    /// handle. Returns how many one-time KeyPackages the relay now holds.
    pub(crate) async fn publish_key_packages(
        &self,
        handle: &Handle,
        identity: &IdentitySecretKey,
        kps: &[Vec<u8>],
        last_resort: Option<&[u8]>,
    ) -> Result<u32, RelayError> {
        self.publish(handle, identity, kps, last_resort, false)
            .await
    }

    /// Replaces every KeyPackage of ours the relay holds (one-time and last-resort) with
    /// these: a rotation, before the held ones expire. Returns how many are now held.
    pub(crate) async fn rotate_key_packages(
        &self,
        handle: &Handle,
        identity: &IdentitySecretKey,
        kps: &[Vec<u8>],
        last_resort: &[u8],
    ) -> Result<u32, RelayError> {
        self.publish(handle, identity, kps, Some(last_resort), true)
            .await
    }

    async fn publish(
        &self,
        handle: &Handle,
        identity: &IdentitySecretKey,
        kps: &[Vec<u8>],
        last_resort: Option<&[u8]>,
        replace: bool,
    ) -> Result<u32, RelayError> {
        let last_resort = last_resort.unwrap_or_default();
        let digest = if replace {
            body::publish_key_packages_replacing(kps, last_resort)
        } else {
            body::publish_key_packages(kps, last_resort)
        };
        let auth = self
            .owner_auth(OwnerMethod::PublishKeyPackages, handle, identity, &digest)
            .await?;
        let response = self
            .directory()
            .publish_key_packages(proto::PublishKeyPackagesRequest {
                handle: handle.as_str().to_owned(),
                key_packages: kps.to_vec(),
                last_resort: last_resort.to_vec(),
                auth: Some(auth),
                replace,
            })
            .await?;
        Ok(response.into_inner().available)
    }

    /// Claims one KeyPackage of a handle (each handed out once; the last-resort one when the
    /// batch is exhausted). `NotFound` if the handle has none.
    pub(crate) async fn claim_key_package(&self, handle: &Handle) -> Result<Vec<u8>, RelayError> {
        let key_package = self
            .directory()
            .claim_key_package(proto::ClaimKeyPackageRequest {
                handle: handle.as_str().to_owned(),
            })
            .await?
            .into_inner()
            .key_package;
        if key_package.is_empty() {
            return Err(RelayError::Protocol(format!(
                "the relay returned an empty KeyPackage for {handle}"
            )));
        }
        Ok(key_package)
    }
}
