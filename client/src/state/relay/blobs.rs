//! Blob RPCs: a document's sealed chunks up and down, each on a connection of its own, and
//! when a broken transfer is taken up again.

use std::time::Duration;

use parley_proto::v1 as proto;
use tokio_stream::Stream;
use tonic::Streaming;

use super::RelayConnection;
use crate::api::error::{ClientError, RelayError};

impl RelayConnection {
    /// Starts an upload: the relay reads `requests` (begin first, then chunks in order) and
    /// answers with its progress.
    pub(crate) async fn upload_blob(
        &self,
        requests: impl Stream<Item = proto::UploadRequest> + Send + 'static,
    ) -> Result<Streaming<proto::UploadProgress>, RelayError> {
        Ok(self.blobs().upload(requests).await?.into_inner())
    }

    /// Starts a download of a complete blob from chunk `from_chunk`.
    pub(crate) async fn download_blob(
        &self,
        blob_id: &[u8; 32],
        read_capability: &[u8; 32],
        from_chunk: u32,
    ) -> Result<Streaming<proto::DownloadChunk>, RelayError> {
        Ok(self
            .blobs()
            .download(proto::DownloadRequest {
                blob_id: blob_id.to_vec(),
                read_capability: read_capability.to_vec(),
                from_chunk,
            })
            .await?
            .into_inner())
    }

    /// Asks the relay to delete the blob `ttl_secs` after its upload began, unless it is
    /// to go sooner already. `Ok(false)`: the relay has no such blob (gone already).
    pub(crate) async fn shorten_blob(
        &self,
        blob_id: &[u8; 32],
        read_capability: &[u8; 32],
        ttl_secs: u64,
    ) -> Result<bool, RelayError> {
        let answer = self
            .blobs()
            .shorten(proto::ShortenRequest {
                blob_id: blob_id.to_vec(),
                read_capability: read_capability.to_vec(),
                ttl_seconds: ttl_secs,
            })
            .await;
        match answer {
            Ok(_) => Ok(true),
            Err(status) if status.code() == tonic::Code::NotFound => Ok(false),
            Err(status) => Err(status.into()),
        }
    }
}

/// How many times in a row a transfer is taken up again after its connection broke without
/// anything more getting through; progress resets the count.
pub(crate) const MAX_RESUMES: u32 = 5;

/// Whether a transfer that failed with `error` may go on over a new connection: the
/// connection broke, or the relay asked for it (idle, shutting down). What the relay refused
/// (a wrong capability, a quota, a malformed chunk) is final.
pub(crate) fn resumable(error: &ClientError) -> bool {
    match error {
        ClientError::RelayUnreachable(_) | ClientError::Relay(RelayError::Unreachable(_)) => true,
        ClientError::Relay(RelayError::Other { code, .. }) => matches!(
            code.as_str(),
            "Cancelled" | "DeadlineExceeded" | "Aborted" | "Unknown" | "Internal"
        ),
        _ => false,
    }
}

/// How long to wait before the `attempt`th resumption (1-based): a quarter second, growing.
pub(crate) fn resume_delay(attempt: u32) -> Duration {
    Duration::from_millis(250 * u64::from(attempt.min(8)))
}
