//! Blob RPCs: a document's sealed chunks up and down, each on a connection of its own.

use parley_proto::v1 as proto;
use tokio_stream::Stream;
use tonic::Streaming;

use super::RelayConnection;
use crate::api::error::RelayError;

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
}
