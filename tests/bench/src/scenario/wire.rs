//! What the scenarios that speak the wire directly share: registering a handle as the
//! client library does.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use parley_crypto::directory::DirectoryRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::RegisterRequest;
use rand::rngs::OsRng;
use tonic::transport::Channel;

/// Registers `handle` with fresh identity and inbox keys, which are returned.
pub(super) async fn register(
    directory: &mut DirectoryClient<Channel>,
    handle: &Handle,
) -> anyhow::Result<(IdentitySecretKey, InboxSecretKey)> {
    let identity = IdentitySecretKey::generate(&mut OsRng);
    let inbox = InboxSecretKey::generate(&mut OsRng);
    let record = DirectoryRecord {
        handle: handle.clone(),
        identity_key: identity.public_key(),
        inbox_key: inbox.public_key(),
        record_version: 1,
        created_at_ms: SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64),
    }
    .sign(&identity)?;
    directory
        .register(RegisterRequest {
            record: record.to_bytes(),
        })
        .await
        .with_context(|| format!("registering {}", handle.as_str()))?;
    Ok((identity, inbox))
}
