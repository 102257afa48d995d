//! Group authentication: a fresh, never-seen signature by the access key of one epoch.
//!
//! Until a request has proved that it holds the access key of the epoch it names, the relay
//! tells it nothing: whether the group exists, whether it has reached that epoch, and whether
//! the signature is wrong all get one answer, [`refused`]. Only the clock check comes first,
//! and it does not look at the group at all.

use std::net::IpAddr;

use parley_crypto::access::{AccessKey, AccessPublicKey};
use parley_crypto::auth::{group_transcript, GroupMethod, NONCE_LEN};
use parley_proto::v1::GroupAuth;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};
use tonic::Status;

use super::replay::{ReplayError, REMEMBER_FOR_MS};
use super::{status, RelayState};
use crate::limits::{self, InvalidField, SIGNATURE_LEN};
use crate::store::EpochKey;

/// How far a request's timestamp may be from the relay clock (inclusive).
pub(super) const MAX_CLOCK_SKEW_MS: u64 = 300_000;

/// The one message of every group request that did not authenticate.
pub(super) const REFUSED: &str = "auth: not signed by an access key of this group for this epoch";

/// The answer to a group request that did not authenticate, whatever the reason.
pub(super) fn refused() -> Status {
    Status::permission_denied(REFUSED)
}

/// A [`GroupAuth`] whose fields have the right sizes.
pub(super) struct GroupProof {
    timestamp_ms: u64,
    nonce: [u8; NONCE_LEN],
    signature: [u8; SIGNATURE_LEN],
    /// Where the request came from: its transcript counts against that source's share of
    /// the replay cache.
    source: IpAddr,
}

impl GroupProof {
    /// Checks the sizes of the auth field named `field` of a request from `source`.
    pub(super) fn parse(
        field: &str,
        auth: Option<&GroupAuth>,
        source: IpAddr,
    ) -> Result<GroupProof, InvalidField> {
        let auth = limits::present(field, auth)?;
        Ok(GroupProof {
            timestamp_ms: auth.timestamp_ms,
            nonce: limits::exact(&format!("{field}.nonce"), &auth.nonce)?,
            signature: limits::exact(&format!("{field}.signature"), &auth.signature)?,
            source,
        })
    }
}

/// A public key to verify against when the group or the epoch does not exist, so that such
/// a refusal costs the same signature check as a wrong key. Its secret half is thrown away
/// at once; and were a signature ever to verify under it, the request would still be refused.
pub(super) struct Decoy([u8; 32]);

impl Decoy {
    /// A fresh decoy key.
    pub(super) fn new() -> Decoy {
        let mut seed = zeroize::Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(seed.as_mut());
        Decoy(
            AccessKey::from_exporter_secret(&seed)
                .public_key()
                .to_bytes(),
        )
    }
}

impl RelayState {
    /// Authenticates a request made with the access key of `epoch` of `group_id`: a recent
    /// timestamp, a signature by that epoch's key, a transcript not accepted before. Returns
    /// the epoch's key record. A group or epoch that does not exist is [`refused`] exactly
    /// like a wrong signature.
    pub(super) async fn authenticate_group(
        &self,
        method: GroupMethod,
        group_id: &[u8; 32],
        epoch: u64,
        proof: &GroupProof,
        body_digest: &[u8; 32],
    ) -> Result<EpochKey, Status> {
        self.check_fresh(proof)?;
        let stored = self
            .store
            .epoch_key(group_id, epoch)
            .await
            .map_err(status::storage)?;
        let transcript = group_transcript(
            method,
            group_id,
            epoch,
            proof.timestamp_ms,
            &proof.nonce,
            body_digest,
        );
        // The same work either way: parse a key, verify against it.
        let candidate = stored.as_ref().map_or(self.decoy.0, |stored| stored.key);
        let verified = AccessPublicKey::from_bytes(&candidate)
            .is_ok_and(|key| key.verify(&transcript, &proof.signature).is_ok());
        let stored = match stored {
            Some(stored) if verified => stored,
            _ => return Err(refused()),
        };
        self.check_not_replayed(&transcript, proof.source).await?;
        Ok(stored)
    }

    /// Authenticates a Create, whose key comes with the request (the group has none yet):
    /// proof that the creator holds the epoch-0 key it registers.
    pub(super) async fn authenticate_create(
        &self,
        group_id: &[u8; 32],
        access_key: &AccessPublicKey,
        proof: &GroupProof,
        body_digest: &[u8; 32],
    ) -> Result<(), Status> {
        self.check_fresh(proof)?;
        let transcript = group_transcript(
            GroupMethod::Create,
            group_id,
            0,
            proof.timestamp_ms,
            &proof.nonce,
            body_digest,
        );
        access_key
            .verify(&transcript, &proof.signature)
            .map_err(|_| refused())?;
        self.check_not_replayed(&transcript, proof.source).await
    }

    /// Refuses a timestamp too far from the relay clock. It depends on nothing stored, so it
    /// may come before the group is looked up.
    fn check_fresh(&self, proof: &GroupProof) -> Result<(), Status> {
        if self.clock.now_ms().abs_diff(proof.timestamp_ms) > MAX_CLOCK_SKEW_MS {
            return Err(Status::unauthenticated(
                "auth.timestamp_ms is more than 300 s away from the relay clock",
            ));
        }
        Ok(())
    }

    /// Records an authenticated transcript, refusing one accepted before.
    async fn check_not_replayed(&self, transcript: &[u8], source: IpAddr) -> Result<(), Status> {
        // Keyed on the whole transcript, so a replay is refused whatever signature bytes it
        // carries.
        let digest: [u8; 32] = Sha256::digest(transcript).into();
        self.replay
            .check_and_insert(digest, source)
            .map_err(|error| match error {
                ReplayError::Replayed => replayed(),
                ReplayError::SourceFull => Status::resource_exhausted(
                    "too many recent group requests from this address, try again later",
                ),
                _ => Status::resource_exhausted("too many recent group requests, try again later"),
            })?;
        // Another node may have accepted it: the store that nodes share remembers for all.
        if self.store.shared() {
            let now_ms = self.clock.now_ms();
            let first = self
                .store
                .first_sighting(&digest, now_ms, now_ms.saturating_add(REMEMBER_FOR_MS))
                .await
                .map_err(status::storage)?;
            if !first {
                return Err(replayed());
            }
        }
        Ok(())
    }
}

/// The answer to a group request accepted before, on this node or another.
fn replayed() -> Status {
    Status::permission_denied("request replayed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_decoy_verifies_nothing_it_is_shown() {
        let decoy = Decoy::new();
        let other = Decoy::new();
        assert_ne!(decoy.0, other.0, "each relay draws its own");
        let key = AccessPublicKey::from_bytes(&decoy.0).unwrap();
        assert!(key.verify(b"transcript", &[0u8; 64]).is_err());
    }
}
