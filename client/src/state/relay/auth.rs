//! Proofs of authority attached to requests: owner auth (identity key over a fresh relay
//! challenge) and group auth (epoch access key over a timestamped, nonced digest).

use parley_crypto::access::AccessKey;
use parley_crypto::auth::{
    group_transcript, owner_transcript, GroupMethod, OwnerMethod, NONCE_LEN,
};
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::GroupId;
use parley_proto::v1 as proto;
use parley_proto::v1::directory_client::DirectoryClient;
use rand::rngs::OsRng;
use rand::RngCore;

use super::types::exact_32;
use super::RelayConnection;
use crate::api::error::RelayError;

impl RelayConnection {
    /// Asks the relay for a single-use challenge and signs the owner transcript over it.
    ///
    /// A fresh challenge per request is what makes a captured request useless to replay.
    pub(super) async fn owner_auth(
        &self,
        method: OwnerMethod,
        handle: &Handle,
        identity: &IdentitySecretKey,
        body_digest: &[u8; 32],
    ) -> Result<proto::OwnerAuth, RelayError> {
        let response = DirectoryClient::new(self.channel.clone())
            .challenge(proto::ChallengeRequest {
                handle: handle.as_str().to_owned(),
            })
            .await?
            .into_inner();
        let challenge = exact_32("relay challenge", &response.challenge)?;
        let transcript = owner_transcript(method, handle, &challenge, body_digest);
        Ok(proto::OwnerAuth {
            challenge: challenge.to_vec(),
            signature: identity.sign(&transcript).to_vec(),
        })
    }
}

/// Signs the group transcript with an epoch's access key.
///
/// The nonce makes two requests with identical contents in the same millisecond distinct,
/// since the relay accepts each signature only once.
pub(super) fn group_auth(
    method: GroupMethod,
    group_id: &GroupId,
    epoch: u64,
    access: &AccessKey,
    now_ms: u64,
    body_digest: &[u8; 32],
) -> proto::GroupAuth {
    let mut nonce = [0u8; NONCE_LEN];
    OsRng.fill_bytes(&mut nonce);
    let transcript = group_transcript(method, group_id, epoch, now_ms, &nonce, body_digest);
    proto::GroupAuth {
        timestamp_ms: now_ms,
        nonce: nonce.to_vec(),
        signature: access.sign(&transcript).to_vec(),
    }
}
