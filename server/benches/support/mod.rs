//! What the relay's benchmarks share.

// A benchmark helper: a failed setup step should stop the benchmark loudly.
#![allow(clippy::unwrap_used)]

use std::time::{SystemTime, UNIX_EPOCH};

use parley_crypto::directory::DirectoryRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::RegisterRequest;
use rand::rngs::OsRng;
use tonic::transport::Channel;

/// Milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Registers `handle` with fresh keys.
pub(crate) async fn register(directory: &mut DirectoryClient<Channel>, handle: &str) {
    let identity = IdentitySecretKey::generate(&mut OsRng);
    let record = DirectoryRecord {
        handle: Handle::parse(handle).unwrap(),
        identity_key: identity.public_key(),
        inbox_key: InboxSecretKey::generate(&mut OsRng).public_key(),
        record_version: 1,
        created_at_ms: now_ms(),
    }
    .sign(&identity)
    .unwrap();
    directory
        .register(RegisterRequest {
            record: record.to_bytes(),
        })
        .await
        .unwrap();
}
