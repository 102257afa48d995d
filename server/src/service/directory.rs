//! Directory service: handles, signed records and KeyPackages.

use std::sync::Arc;

use parley_crypto::auth::{body, OwnerMethod};
use parley_crypto::directory::SignedRecord;
use parley_crypto::rotation::{Rotation, MAX_CHAIN_LEN, MAX_ROTATION_LEN};
use parley_proto::v1::directory_server::Directory;
use parley_proto::v1::{
    ChallengeRequest, ChallengeResponse, ClaimKeyPackageRequest, ClaimKeyPackageResponse,
    LookupRequest, LookupResponse, PublishKeyPackagesRequest, PublishKeyPackagesResponse,
    RegisterRequest, RegisterResponse, RotateRequest, RotateResponse,
};
use tonic::{Request, Response, Status};

use super::challenges::CHALLENGE_TTL_MS;
use super::owner_auth::OwnerProof;
use super::{status, RelayState};
use crate::limits::{
    self, MAX_KEY_PACKAGES_HELD, MAX_KEY_PACKAGES_PER_PUBLISH, MAX_KEY_PACKAGE_LEN, MAX_RECORD_LEN,
};
use crate::metrics::Rejection;
use crate::store::{Published, Registration, Rotated, RotationWrite, Upload};

/// How far ahead of the relay's clock a record may be dated: owners' clocks drift, but a
/// record from next year would outrank every honest rotation made before then.
const MAX_RECORD_AHEAD_MS: u64 = 24 * 60 * 60 * 1000;

/// Implements `parley.v1.Directory`.
pub(crate) struct DirectoryService {
    state: Arc<RelayState>,
}

impl DirectoryService {
    pub(crate) fn new(state: Arc<RelayState>) -> Self {
        DirectoryService { state }
    }

    /// Refuses a record dated more than a day past the relay's clock.
    fn not_ahead(&self, field: &str, created_at_ms: u64) -> Result<(), Status> {
        if created_at_ms
            > self
                .state
                .clock
                .now_ms()
                .saturating_add(MAX_RECORD_AHEAD_MS)
        {
            return Err(Status::invalid_argument(format!(
                "{field}: dated more than a day ahead of the relay's clock; check this computer's clock"
            )));
        }
        Ok(())
    }
}

#[tonic::async_trait]
impl Directory for DirectoryService {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        let request = request.into_inner();
        limits::sized("record", &request.record, 1, MAX_RECORD_LEN)?;
        let record = SignedRecord::decode_and_verify(&request.record)
            .map_err(|error| Status::invalid_argument(format!("record: {error}")))?;
        self.not_ahead("record", record.record().created_at_ms)?;
        let handle = &record.record().handle;
        match self
            .state
            .store
            .register(handle, &request.record)
            .await
            .map_err(status::storage)?
        {
            Registration::Created => {
                tracing::info!("handle registered");
                Ok(Response::new(RegisterResponse {}))
            }
            Registration::Taken => Err(Status::already_exists("handle is already taken")),
        }
    }

    async fn lookup(
        &self,
        request: Request<LookupRequest>,
    ) -> Result<Response<LookupResponse>, Status> {
        let handle = limits::handle("handle", &request.get_ref().handle)?;
        let record = self
            .state
            .store
            .lookup(&handle)
            .await
            .map_err(status::storage)?
            .ok_or_else(|| Status::not_found("handle is not registered"))?;
        let rotations = self
            .state
            .store
            .rotations(&handle)
            .await
            .map_err(status::storage)?;
        Ok(Response::new(LookupResponse { record, rotations }))
    }

    async fn rotate(
        &self,
        request: Request<RotateRequest>,
    ) -> Result<Response<RotateResponse>, Status> {
        let request = request.into_inner();
        limits::sized("rotation", &request.rotation, 1, MAX_ROTATION_LEN)?;
        // The old key's signature is the whole authorisation: only the holder of the record
        // held now can replace it, and a replayed rotation no longer matches what is held.
        let rotation = Rotation::decode_and_verify(&request.rotation)
            .map_err(|error| Status::invalid_argument(format!("rotation: {error}")))?;
        let new = rotation.new_record().record();
        self.not_ahead("rotation", new.created_at_ms)?;
        let write = RotationWrite {
            old_record: rotation.old().as_bytes(),
            new_record: rotation.new_record().as_bytes(),
            new_version: new.record_version,
            rotation: rotation.as_bytes(),
        };
        match self
            .state
            .store
            .rotate(&new.handle, write, MAX_CHAIN_LEN)
            .await
            .map_err(status::storage)?
        {
            Rotated::Done => {
                tracing::info!("handle rotated its keys");
                Ok(Response::new(RotateResponse {}))
            }
            Rotated::Unknown => Err(Status::not_found("handle is not registered")),
            Rotated::Stale => Err(Status::failed_precondition(
                "rotation: the handle holds another record than the one this rotation replaces",
            )),
        }
    }

    async fn challenge(
        &self,
        request: Request<ChallengeRequest>,
    ) -> Result<Response<ChallengeResponse>, Status> {
        let source = limits::source_of(request.remote_addr());
        let handle = limits::handle("handle", &request.get_ref().handle)?;
        let challenge = self
            .state
            .challenges
            .issue(source, &handle)
            .map_err(|exhausted| {
                self.state.metrics.rejected(Rejection::Challenges);
                Status::resource_exhausted(exhausted.to_string())
            })?;
        // Other nodes may be asked to spend it.
        if self.state.store.shared() {
            let expires_at_ms = self.state.clock.now_ms().saturating_add(CHALLENGE_TTL_MS);
            self.state
                .store
                .record_challenge(&challenge, &handle, expires_at_ms)
                .await
                .map_err(status::storage)?;
        }
        Ok(Response::new(ChallengeResponse {
            challenge: challenge.to_vec(),
        }))
    }

    async fn publish_key_packages(
        &self,
        request: Request<PublishKeyPackagesRequest>,
    ) -> Result<Response<PublishKeyPackagesResponse>, Status> {
        let request = request.into_inner();
        let handle = limits::handle("handle", &request.handle)?;
        limits::count(
            "key_packages",
            request.key_packages.len(),
            0,
            MAX_KEY_PACKAGES_PER_PUBLISH,
        )?;
        // Exactly a bucket each, like every ciphertext the relay keeps: the relay reads
        // nothing inside a KeyPackage, and a length of its own would tell one user's apart.
        for (i, key_package) in request.key_packages.iter().enumerate() {
            limits::padded(
                &format!("key_packages[{i}]"),
                key_package,
                MAX_KEY_PACKAGE_LEN,
            )?;
        }
        // Empty means "keep the last-resort KeyPackage held now".
        if !request.last_resort.is_empty() {
            limits::padded("last_resort", &request.last_resort, MAX_KEY_PACKAGE_LEN)?;
        }
        let proof = OwnerProof::parse(request.auth.as_ref())?;

        let digest = if request.replace {
            body::publish_key_packages_replacing(&request.key_packages, &request.last_resort)
        } else {
            body::publish_key_packages(&request.key_packages, &request.last_resort)
        };
        self.state
            .verify_owner(OwnerMethod::PublishKeyPackages, &handle, &proof, &digest)
            .await?;

        let last_resort =
            (!request.last_resort.is_empty()).then_some(request.last_resort.as_slice());
        let published = self
            .state
            .store
            .publish_key_packages(
                &handle,
                Upload {
                    key_packages: &request.key_packages,
                    last_resort,
                    replace: request.replace,
                },
                MAX_KEY_PACKAGES_HELD,
            )
            .await
            .map_err(status::storage)?;
        match published {
            Published::Held(available) => {
                Ok(Response::new(PublishKeyPackagesResponse { available }))
            }
            Published::TooMany => {
                self.state.metrics.rejected(Rejection::KeyPackagesHeld);
                Err(Status::resource_exhausted(format!(
                    "key_packages: a handle may hold at most {MAX_KEY_PACKAGES_HELD} KeyPackages"
                )))
            }
        }
    }

    async fn claim_key_package(
        &self,
        request: Request<ClaimKeyPackageRequest>,
    ) -> Result<Response<ClaimKeyPackageResponse>, Status> {
        let handle = limits::handle("handle", &request.get_ref().handle)?;
        let source = limits::source_of(request.remote_addr());
        // A source's own share first: a stranger cannot spend the handle's whole budget.
        if !self.state.claims_by_source.check(&(source, handle.clone())) {
            self.state.metrics.rejected(Rejection::ClaimRate);
            return Err(Status::resource_exhausted(
                "too many KeyPackage claims for this handle from this address; retry later",
            ));
        }
        // Past the handle's budget, the reusable last-resort KeyPackage: one-time ones are
        // not drained faster than the budget, and adders are not left with nothing.
        let claimed = if self.state.claims.check(&handle) {
            self.state
                .store
                .claim_key_package(&handle)
                .await
                .map_err(status::storage)?
                .ok_or_else(|| Status::not_found("no KeyPackage available for this handle"))?
        } else {
            self.state.metrics.rejected(Rejection::ClaimRate);
            self.state
                .store
                .claim_last_resort(&handle)
                .await
                .map_err(status::storage)?
                .ok_or_else(|| {
                    Status::resource_exhausted(
                        "too many KeyPackage claims for this handle; retry later",
                    )
                })?
        };
        Ok(Response::new(ClaimKeyPackageResponse {
            key_package: claimed.key_package,
            last_resort: claimed.last_resort,
        }))
    }
}
