//! A person with real keys, as the relay's and the client's low-level tests need one: a
//! signed directory record, owner authentication and sealed envelopes, without a client.

use parley_crypto::auth::{owner_transcript, OwnerMethod};
use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxPublicKey, InboxSecretKey};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::{ChallengeRequest, OwnerAuth, RegisterRequest};
use rand::rngs::OsRng;
use tonic::transport::Channel;

use crate::clock::now_ms;

/// A handle with fresh identity and inbox keys.
pub struct TestUser {
    /// The handle.
    pub handle: Handle,
    /// The identity (signing) key.
    pub identity: IdentitySecretKey,
    /// The inbox (sealing) key.
    pub inbox: InboxSecretKey,
}

impl TestUser {
    /// A user called `handle` (which must be a valid handle) with fresh keys.
    pub fn new(handle: &str) -> TestUser {
        TestUser {
            handle: Handle::parse(handle).expect("a test user needs a valid handle"),
            identity: IdentitySecretKey::generate(&mut OsRng),
            inbox: InboxSecretKey::generate(&mut OsRng),
        }
    }

    /// The user's directory record, version 1, signed now.
    pub fn record(&self) -> SignedRecord {
        self.record_at(1, now_ms())
    }

    /// The user's directory record at `version`, dated `created_at_ms`.
    pub fn record_at(&self, version: u64, created_at_ms: u64) -> SignedRecord {
        DirectoryRecord {
            handle: self.handle.clone(),
            identity_key: self.identity.public_key(),
            inbox_key: self.inbox.public_key(),
            record_version: version,
            created_at_ms,
        }
        .sign(&self.identity)
        .expect("a test record signs")
    }

    /// Registers the record through the relay's Directory service.
    pub async fn register(&self, directory: &mut DirectoryClient<Channel>) {
        directory
            .register(RegisterRequest {
                record: self.record().to_bytes(),
            })
            .await
            .expect("the relay registers a test user");
    }

    /// Fetches a challenge and signs the owner-auth transcript with this user's key.
    pub async fn owner_auth(
        &self,
        directory: &mut DirectoryClient<Channel>,
        method: OwnerMethod,
        body_digest: [u8; 32],
    ) -> OwnerAuth {
        let challenge = challenge_for(directory, self.handle.as_str()).await;
        self.sign_owner(method, challenge, body_digest)
    }

    /// Signs the owner-auth transcript of `method` over `challenge` and `body_digest`.
    pub fn sign_owner(
        &self,
        method: OwnerMethod,
        challenge: [u8; 32],
        body_digest: [u8; 32],
    ) -> OwnerAuth {
        let transcript = owner_transcript(method, &self.handle, &challenge, &body_digest);
        OwnerAuth {
            challenge: challenge.to_vec(),
            signature: self.identity.sign(&transcript).to_vec(),
        }
    }

    /// An envelope from this user to `recipient`, sealed as a client seals it.
    pub fn seal_to(&self, recipient: &TestUser, message: &[u8]) -> Vec<u8> {
        envelope::seal(
            &mut OsRng,
            message,
            &self.handle,
            &self.inbox,
            &recipient.handle,
            &recipient.inbox.public_key(),
        )
        .expect("a test envelope seals")
    }
}

impl TestUser {
    /// Seals `message` to `recipient` (a handle and its inbox key, e.g. from a lookup) in a
    /// v2 envelope carrying `record` as the sender's record: this user's own, or a forged
    /// one, as a hostile test needs.
    pub fn seal_with_record(
        &self,
        record: &[u8],
        recipient: &Handle,
        recipient_inbox: &InboxPublicKey,
        message: &[u8],
    ) -> Vec<u8> {
        envelope::seal_with_record(
            &mut OsRng,
            message,
            &self.handle,
            &self.inbox,
            record,
            recipient,
            recipient_inbox,
        )
        .expect("a test envelope seals")
    }
}

/// A fresh owner-auth challenge from the relay, for `handle`'s owner calls.
pub async fn challenge_for(directory: &mut DirectoryClient<Channel>, handle: &str) -> [u8; 32] {
    directory
        .challenge(ChallengeRequest {
            handle: handle.to_owned(),
        })
        .await
        .expect("the relay hands out a challenge")
        .into_inner()
        .challenge
        .try_into()
        .expect("a challenge is 32 bytes")
}
