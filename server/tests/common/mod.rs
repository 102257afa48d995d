//! Shared test helpers: users with real parley-crypto keys, signed owner and group auth, and
//! inbox round trips over real tonic clients (the relay itself comes from parley-testkit).

// Each test binary uses a different subset of these helpers, and test crates export nothing;
// a failing helper should fail the test loudly, as in a #[test] body.
#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

pub mod blobs;
pub mod groups;
pub mod process;
pub mod raw;

use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, group_transcript, GroupMethod, OwnerMethod};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{AckRequest, Delivery, FetchRequest, GroupAuth, ReadRequest};
// Not every test binary uses each of these.
#[allow(unused_imports)]
pub use parley_testkit::{challenge_for, now_ms, TestUser as User};
use rand::rngs::OsRng;
use rand::RngCore;
use tonic::transport::Channel;

pub fn random<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    OsRng.fill_bytes(&mut out);
    out
}

/// A fresh access key, as if exported from an MLS epoch.
pub fn access_key() -> AccessKey {
    AccessKey::from_exporter_secret(&random::<32>())
}

/// Signs a group-auth transcript at the current time with a fresh nonce.
pub fn group_auth(
    key: &AccessKey,
    method: GroupMethod,
    group_id: &[u8; 32],
    epoch: u64,
    body_digest: [u8; 32],
) -> GroupAuth {
    group_auth_at(key, method, group_id, epoch, body_digest, now_ms())
}

pub fn group_auth_at(
    key: &AccessKey,
    method: GroupMethod,
    group_id: &[u8; 32],
    epoch: u64,
    body_digest: [u8; 32],
    timestamp_ms: u64,
) -> GroupAuth {
    let nonce = random::<16>();
    let transcript = group_transcript(method, group_id, epoch, timestamp_ms, &nonce, &body_digest);
    GroupAuth {
        timestamp_ms,
        nonce: nonce.to_vec(),
        signature: key.sign(&transcript).to_vec(),
    }
}

/// A read of the whole log of epoch 0 of `group_id`, signed with `key` at `timestamp_ms`.
pub fn read_all_at(key: &AccessKey, group_id: &[u8; 32], timestamp_ms: u64) -> ReadRequest {
    let auth = group_auth_at(
        key,
        GroupMethod::Read,
        group_id,
        0,
        body::read(0, 0),
        timestamp_ms,
    );
    ReadRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        from_seq: 0,
        limit: 0,
        auth: Some(auth),
    }
}

/// Up to 500 pending deliveries of `user`.
pub async fn fetch(
    directory: &mut DirectoryClient<Channel>,
    inbox: &mut InboxClient<Channel>,
    user: &User,
) -> Vec<Delivery> {
    let auth = user
        .owner_auth(directory, OwnerMethod::Fetch, body::fetch(500))
        .await;
    inbox
        .fetch(FetchRequest {
            handle: user.handle.as_str().into(),
            limit: 500,
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries
}

/// Acknowledges `ids` in `user`'s inbox.
pub async fn ack(
    directory: &mut DirectoryClient<Channel>,
    inbox: &mut InboxClient<Channel>,
    user: &User,
    ids: Vec<u64>,
) {
    let auth = user
        .owner_auth(directory, OwnerMethod::Ack, body::ack(&ids))
        .await;
    inbox
        .ack(AckRequest {
            handle: user.handle.as_str().into(),
            ids,
            auth: Some(auth),
        })
        .await
        .unwrap();
}

/// Reads every pending delivery of `user`, oldest first, acknowledging each page (of the
/// relay's maximum size) so the next one follows.
pub async fn drain(
    directory: &mut DirectoryClient<Channel>,
    inbox: &mut InboxClient<Channel>,
    user: &User,
) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let deliveries = fetch(directory, inbox, user).await;
        if deliveries.is_empty() {
            return out;
        }
        let ids: Vec<u64> = deliveries.iter().map(|d| d.id).collect();
        out.extend(deliveries.into_iter().map(|d| d.envelope));
        ack(directory, inbox, user, ids).await;
    }
}

/// `rotation` (its bytes as signed) with its signature replaced by one `signer` makes over the
/// same content: a rotation whose old key did not sign it.
pub fn resigned_rotation(rotation: &[u8], signer: &User) -> Vec<u8> {
    let unsigned = rotation.len() - parley_crypto::identity::SIGNATURE_LEN;
    let mut forged = rotation.to_vec();
    let signature = signer.identity.sign(
        &[
            parley_crypto::rotation::ROTATION_SIGNATURE_CONTEXT,
            &rotation[..unsigned],
        ]
        .concat(),
    );
    forged[unsigned..].copy_from_slice(&signature);
    forged
}

/// Publishes `key_packages` and a `last_resort` one for `user`, signed as the owner.
pub async fn publish_key_packages(
    directory: &mut DirectoryClient<Channel>,
    user: &User,
    key_packages: Vec<Vec<u8>>,
    last_resort: Vec<u8>,
) {
    let auth = user
        .owner_auth(
            directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&key_packages, &last_resort),
        )
        .await;
    directory
        .publish_key_packages(parley_proto::v1::PublishKeyPackagesRequest {
            replace: false,
            handle: user.handle.as_str().to_owned(),
            key_packages,
            last_resort,
            auth: Some(auth),
        })
        .await
        .unwrap();
}
