//! Blobs service: documents' sealed chunks, uploaded and downloaded by capability.
//!
//! Both calls answer at once with a stream and then work in a task of their own, so that the
//! relay's per-call deadline (which runs until the response headers) bounds only their start;
//! an upload that sends nothing for [`IDLE`] is ended instead.
//!
//! Neither holds more than a few chunks: an upload stores each chunk before it reads the
//! next message (HTTP/2 flow control, a 1 MiB window per stream and per connection by
//! hyper's defaults, stops the sender meanwhile), and a download reads one chunk from disk
//! at a time into a channel of [`QUEUE`] that waits for the peer.

use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use parley_crypto::document::{capability_hash, CHUNK_LEN, CHUNK_OVERHEAD};
use parley_proto::v1::blobs_server::Blobs;
use parley_proto::v1::{
    DownloadChunk, DownloadRequest, ShortenRequest, ShortenResponse, UploadProgress, UploadRequest,
};
use subtle::ConstantTimeEq;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status, Streaming};

use super::{status, RelayState};
use crate::limits::{self, InvalidField};
use crate::metrics::Rejection;
use crate::store::{Begun, BlobMeta, BlobWrite};

/// Longest silence within an upload before the relay ends it.
const IDLE: Duration = Duration::from_secs(60);
/// Chunks stored between two flushes of an upload (and progress messages): 1 MiB.
const FLUSH_EVERY: u32 = 16;
/// Chunks or progress messages queued for a slow peer before the task waits.
const QUEUE: usize = 4;

type ProgressStream = Pin<Box<dyn Stream<Item = Result<UploadProgress, Status>> + Send + 'static>>;
type ChunkStream = Pin<Box<dyn Stream<Item = Result<DownloadChunk, Status>> + Send + 'static>>;

/// Implements `parley.v1.Blobs`.
pub(crate) struct BlobsService {
    state: Arc<RelayState>,
}

impl BlobsService {
    pub(crate) fn new(state: Arc<RelayState>) -> Self {
        BlobsService { state }
    }
}

/// The one answer for an unknown blob, an incomplete one and a wrong read capability.
fn no_such_blob() -> Status {
    Status::not_found("no such blob")
}

#[tonic::async_trait]
impl Blobs for BlobsService {
    type UploadStream = ProgressStream;
    type DownloadStream = ChunkStream;

    async fn upload(
        &self,
        request: Request<Streaming<UploadRequest>>,
    ) -> Result<Response<Self::UploadStream>, Status> {
        let source = limits::source_of(request.remote_addr());
        let mut inbound = request.into_inner();
        let first = next_message(&mut inbound)
            .await?
            .ok_or_else(|| Status::invalid_argument("begin: the upload sent nothing"))?;
        let begin = limits::present("begin", first.begin.as_ref())?;
        let blob_id = limits::exact::<32>("begin.blob_id", &begin.blob_id)?;
        let write = limits::exact::<32>("begin.write_capability", &begin.write_capability)?;
        let read_hash =
            limits::exact::<32>("begin.read_capability_hash", &begin.read_capability_hash)?;
        let ttl_secs = limits::retention_secs("begin.ttl_seconds", begin.ttl_seconds)?;
        let max = self.state.limits.max_blob_bytes;
        if begin.padded_size > max {
            self.state.metrics.rejected(Rejection::BlobSize);
            return Err(Status::out_of_range(format!(
                "begin.padded_size: a blob may hold at most {max} bytes"
            )));
        }
        let now = self.state.clock.now_ms();
        let meta = BlobMeta::new(
            capability_hash(&write),
            read_hash,
            begin.padded_size,
            max,
            now,
        )
        .ok_or_else(|| {
            Status::from(InvalidField::new(
                "begin.padded_size",
                "is not a bucket size (PROTOCOL.md section 14)",
            ))
        })?
        .with_ttl(ttl_secs);
        let meta = match self
            .state
            .store
            .begin_blob(&blob_id, meta)
            .await
            .map_err(status::storage)?
        {
            Begun::Ready(meta) => meta,
            Begun::Taken => return Err(Status::already_exists("blob id is taken")),
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let upload = ChunkUpload {
            state: self.state.clone(),
            source,
            blob_id,
            meta,
            committed: meta.stored,
            pending: Vec::new(),
            pending_count: 0,
            tx,
        };
        tokio::spawn(upload.run(first, inbound));
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn download(
        &self,
        request: Request<DownloadRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        let request = request.into_inner();
        let blob_id = limits::exact::<32>("blob_id", &request.blob_id)?;
        let read = limits::exact::<32>("read_capability", &request.read_capability)?;
        let meta = self
            .state
            .store
            .blob(&blob_id)
            .await
            .map_err(status::storage)?
            .ok_or_else(no_such_blob)?;
        let allowed: bool = capability_hash(&read).ct_eq(&meta.read_hash).into();
        if !allowed || !meta.complete() {
            return Err(no_such_blob());
        }
        if request.from_chunk > meta.chunks {
            return Err(Status::from(InvalidField::new(
                "from_chunk",
                "is beyond the blob's last chunk",
            )));
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        let state = self.state.clone();
        tokio::spawn(async move {
            for index in request.from_chunk..meta.chunks {
                let item = match state.store.load_chunk(&blob_id, index).await {
                    Ok(Some(chunk)) => Ok(DownloadChunk {
                        index,
                        chunk,
                        chunks: meta.chunks,
                    }),
                    // Expired while being read.
                    Ok(None) => Err(no_such_blob()),
                    Err(e) => Err(status::storage(e)),
                };
                let failed = item.is_err();
                // The peer went away, or the blob cannot be read further: stop.
                if tx.send(item).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(
            self.state.shutdown.guard(ReceiverStream::new(rx)),
        )))
    }

    async fn shorten(
        &self,
        request: Request<ShortenRequest>,
    ) -> Result<Response<ShortenResponse>, Status> {
        let request = request.into_inner();
        let blob_id = limits::exact::<32>("blob_id", &request.blob_id)?;
        let read = limits::exact::<32>("read_capability", &request.read_capability)?;
        // 0 would mean "no retention of its own": not a shortening.
        let ttl = match limits::retention_secs("ttl_seconds", request.ttl_seconds)? {
            0 => {
                return Err(Status::from(InvalidField::new(
                    "ttl_seconds",
                    "must be between 60 and 316224000 (ten years)",
                )))
            }
            ttl => ttl,
        };
        let shortened = self
            .state
            .store
            .shorten_blob(&blob_id, &capability_hash(&read), ttl)
            .await
            .map_err(status::storage)?
            .ok_or_else(no_such_blob)?;
        Ok(Response::new(ShortenResponse {
            ttl_seconds: shortened.ttl_secs,
        }))
    }
}

/// The next message of an upload, waiting at most [`IDLE`].
async fn next_message(
    inbound: &mut Streaming<UploadRequest>,
) -> Result<Option<UploadRequest>, Status> {
    match tokio::time::timeout(IDLE, inbound.next()).await {
        Ok(Some(message)) => message.map(Some),
        Ok(None) => Ok(None),
        Err(_) => Err(Status::deadline_exceeded(
            "the upload sent nothing for a minute; resume it",
        )),
    }
}

/// One upload after its begin: chunks checked, stored and acknowledged in order.
struct ChunkUpload {
    state: Arc<RelayState>,
    source: IpAddr,
    blob_id: [u8; 32],
    /// The blob as this upload has written it (`stored` counts chunks not yet committed).
    meta: BlobMeta,
    /// Chunks known to be durable and counted in the store.
    committed: u32,
    /// Checked chunks after `meta.stored`, back to back, not written yet: they go to the
    /// file in one write at the next durable point (at most [`FLUSH_EVERY`] of them, 1 MiB),
    /// not one blocking call each.
    pending: Vec<u8>,
    /// How many chunks `pending` holds.
    pending_count: u32,
    tx: mpsc::Sender<Result<UploadProgress, Status>>,
}

impl ChunkUpload {
    async fn run(mut self, first: UploadRequest, inbound: Streaming<UploadRequest>) {
        let ended = self.receive(first, inbound).await;
        // However the upload ended (done, broken, idle, refused, shutdown), the chunks it
        // wrote are kept for a resumption to go on from; the answer waits for that.
        let ended = ended.and(self.commit().await);
        if let Err(status) = ended {
            let _ = self.tx.send(Err(status)).await;
        }
    }

    /// Stores chunks until the sender is done (`Ok`) or the upload must end (`Err`, to tell
    /// the uploader if it is still there).
    async fn receive(
        &mut self,
        first: UploadRequest,
        mut inbound: Streaming<UploadRequest>,
    ) -> Result<(), Status> {
        if !self.progress().await {
            return Err(Status::cancelled("the uploader went away"));
        }
        let mut message = Some(first);
        loop {
            if let Some(request) = message.take() {
                // The first message may carry no chunk (a resumption asking where to go on).
                if !(request.begin.is_some() && request.chunk.is_empty()) {
                    self.store_chunk(request).await?;
                }
            }
            let shutdown = self.state.shutdown.clone();
            let next = tokio::select! {
                next = next_message(&mut inbound) => next,
                () = shutdown.wait() => Err(Status::unavailable(
                    "the relay is shutting down; resume the upload",
                )),
            };
            match next {
                Ok(Some(request)) => message = Some(request),
                // The sender is done: nothing more to say (a progress message went with the
                // last chunk committed; later ones are committed without one).
                Ok(None) => return Ok(()),
                Err(status) => return Err(status),
            }
        }
    }

    /// Makes the chunks written since the last commit durable and counted.
    async fn commit(&mut self) -> Result<(), Status> {
        self.write_pending(false).await?;
        if self.meta.stored == self.committed {
            return Ok(());
        }
        let written = self
            .state
            .store
            .commit_blob(&self.blob_id, &self.meta)
            .await
            .map_err(status::storage)?;
        self.committed_if(written)
    }

    /// Records a commit's outcome: the count is durable, or the blob is gone.
    fn committed_if(&mut self, written: BlobWrite) -> Result<(), Status> {
        match written {
            BlobWrite::Done => {
                self.committed = self.meta.stored;
                Ok(())
            }
            // Expired during the upload: the same answer a new download would get.
            BlobWrite::Gone => Err(no_such_blob()),
        }
    }

    async fn store_chunk(&mut self, request: UploadRequest) -> Result<(), Status> {
        let next = self.meta.stored + self.pending_count;
        if next >= self.meta.chunks {
            return Err(InvalidField::new("chunk", "comes after the blob's last chunk").into());
        }
        if request.index != next {
            return Err(InvalidField::new(
                "index",
                format!("is not the next chunk ({next} expected)"),
            )
            .into());
        }
        let expected = self.meta.chunk_len(request.index);
        if request.chunk.len() != expected {
            return Err(InvalidField::new(
                "chunk",
                format!("must be exactly {expected} bytes at this index"),
            )
            .into());
        }
        if !self.state.blob_chunks_by_source.check(&self.source) {
            self.state.metrics.rejected(Rejection::BlobQuota);
            return Err(Status::resource_exhausted(
                "too many blob bytes uploaded from this address; resume later",
            ));
        }
        let last = next + 1 == self.meta.chunks;
        let durable = last || (next + 1).is_multiple_of(FLUSH_EVERY);
        self.pending.extend_from_slice(&request.chunk);
        self.pending_count += 1;
        if durable {
            self.write_pending(true).await?;
        }
        if durable && !self.progress().await {
            return Err(Status::cancelled("the uploader went away"));
        }
        Ok(())
    }

    /// Writes the pending chunks to the blob's file in one write; `durable`: and commits
    /// them (synced, counted, flushed).
    async fn write_pending(&mut self, durable: bool) -> Result<(), Status> {
        if self.pending_count == 0 {
            return Ok(());
        }
        let batch = FLUSH_EVERY as usize * (CHUNK_LEN + CHUNK_OVERHEAD);
        let chunks = std::mem::replace(&mut self.pending, Vec::with_capacity(batch));
        let count = std::mem::take(&mut self.pending_count);
        let written = self
            .state
            .store
            .put_chunks(&self.blob_id, &mut self.meta, chunks, count, durable)
            .await
            .map_err(status::storage)?;
        match written {
            BlobWrite::Gone => Err(no_such_blob()),
            BlobWrite::Done if durable => self.committed_if(written),
            BlobWrite::Done => Ok(()),
        }
    }

    /// Tells the uploader how far the blob is stored; false if it went away.
    async fn progress(&self) -> bool {
        let progress = UploadProgress {
            stored: self.meta.stored,
            chunks: self.meta.chunks,
            complete: self.meta.complete(),
        };
        self.tx.send(Ok(progress)).await.is_ok()
    }
}
