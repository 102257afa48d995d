//! Group authentication: a fresh, never-seen signature by the access key of one epoch.

use parley_crypto::access::AccessPublicKey;
use parley_crypto::auth::{group_transcript, GroupMethod, NONCE_LEN};
use parley_proto::v1::GroupAuth;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::replay::ReplayError;
use super::RelayState;
use crate::limits::{self, InvalidField, SIGNATURE_LEN};

/// How far a request's timestamp may be from the relay clock (inclusive).
pub(super) const MAX_CLOCK_SKEW_MS: u64 = 300_000;

/// A [`GroupAuth`] whose fields have the right sizes.
pub(super) struct GroupProof {
    timestamp_ms: u64,
    nonce: [u8; NONCE_LEN],
    signature: [u8; SIGNATURE_LEN],
}

impl GroupProof {
    /// Checks the sizes of the auth field named `field`.
    pub(super) fn parse(field: &str, auth: Option<&GroupAuth>) -> Result<GroupProof, InvalidField> {
        let auth = limits::present(field, auth)?;
        Ok(GroupProof {
            timestamp_ms: auth.timestamp_ms,
            nonce: limits::exact(&format!("{field}.nonce"), &auth.nonce)?,
            signature: limits::exact(&format!("{field}.signature"), &auth.signature)?,
        })
    }
}

impl RelayState {
    /// Verifies that the holder of `access_key` (the key of `epoch`) signed this request
    /// recently and that the relay has not accepted the same transcript before.
    pub(super) fn verify_group(
        &self,
        method: GroupMethod,
        group_id: &[u8; 32],
        epoch: u64,
        access_key: &[u8; 32],
        proof: &GroupProof,
        body_digest: &[u8; 32],
    ) -> Result<(), Status> {
        if self.clock.now_ms().abs_diff(proof.timestamp_ms) > MAX_CLOCK_SKEW_MS {
            return Err(Status::unauthenticated(
                "auth.timestamp_ms is more than 300 s away from the relay clock",
            ));
        }
        let key = AccessPublicKey::from_bytes(access_key)
            .map_err(|_| Status::invalid_argument("access key is not a valid Ed25519 key"))?;
        let transcript = group_transcript(
            method,
            group_id,
            epoch,
            proof.timestamp_ms,
            &proof.nonce,
            body_digest,
        );
        key.verify(&transcript, &proof.signature)
            .map_err(|_| Status::permission_denied("auth.signature does not verify"))?;
        // Keyed on the whole transcript, so a replay is refused whatever signature bytes it
        // carries.
        let digest: [u8; 32] = Sha256::digest(&transcript).into();
        self.replay
            .check_and_insert(digest)
            .map_err(|error| match error {
                ReplayError::Replayed => Status::permission_denied("request replayed"),
                _ => Status::resource_exhausted("too many recent group requests, try again later"),
            })
    }
}
