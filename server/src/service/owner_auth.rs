//! Owner authentication: a signature by a handle's registered identity key over a
//! single-use relay challenge and a digest of the request.

use parley_crypto::auth::{owner_transcript, OwnerMethod, CHALLENGE_LEN};
use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_proto::v1::OwnerAuth;
use tonic::Status;

use super::{status, RelayState};
use crate::limits::{self, InvalidField, SIGNATURE_LEN};

/// An [`OwnerAuth`] whose fields have the right sizes.
pub(super) struct OwnerProof {
    challenge: [u8; CHALLENGE_LEN],
    signature: [u8; SIGNATURE_LEN],
}

impl OwnerProof {
    /// Checks the sizes of the `auth` field.
    pub(super) fn parse(auth: Option<&OwnerAuth>) -> Result<OwnerProof, InvalidField> {
        let auth = limits::present("auth", auth)?;
        Ok(OwnerProof {
            challenge: limits::exact("auth.challenge", &auth.challenge)?,
            signature: limits::exact("auth.signature", &auth.signature)?,
        })
    }
}

impl RelayState {
    /// Verifies that the owner of `handle` signed this request.
    ///
    /// The challenge is consumed first, so it is spent even when the signature then fails:
    /// a captured challenge can never be tried twice.
    pub(super) async fn verify_owner(
        &self,
        method: OwnerMethod,
        handle: &Handle,
        proof: &OwnerProof,
        body_digest: &[u8; 32],
    ) -> Result<(), Status> {
        // Spent in the store when other nodes share it (one of them may have issued it).
        let spent = if self.store.shared() {
            self.store
                .spend_challenge(&proof.challenge, handle, self.clock.now_ms())
                .await
                .map_err(status::storage)?
        } else {
            self.challenges.consume(&proof.challenge, handle)
        };
        if !spent {
            return Err(Status::unauthenticated(
                "auth.challenge is unknown, expired, already used or for another handle",
            ));
        }
        let record = self
            .store
            .lookup(handle)
            .await
            .map_err(status::storage)?
            .ok_or_else(|| Status::not_found("handle is not registered"))?;
        let record = SignedRecord::decode_and_verify(&record).map_err(|error| {
            tracing::error!(%error, "a stored directory record no longer verifies");
            Status::internal("internal error")
        })?;
        let transcript = owner_transcript(method, handle, &proof.challenge, body_digest);
        record
            .record()
            .identity_key
            .verify(&transcript, &proof.signature)
            .map_err(|_| Status::permission_denied("auth.signature does not verify"))
    }
}
