//! Sending a document: the content is read, hashed, sealed and uploaded chunk by chunk (never
//! held whole), then its reference goes to the conversation in an MLS message.

use std::collections::VecDeque;

use parley_crypto::document::{
    padded_len, BlobId, DocumentKey, DocumentReference, DocumentSealer, WriteCapability, CHUNK_LEN,
};
use parley_crypto::retention::Retention;
use parley_proto::v1 as proto;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::api::document::{DocumentMeta, Transfer};
use crate::api::error::{ClientError, RelayError};
use crate::state::relay::{resumable, resume_delay, RelayConnection, MAX_RESUMES};
use crate::state::store::records::StoredDocument;

/// Upload requests queued ahead of the relay: a few chunks, so memory stays flat.
const QUEUE: usize = 4;
/// Sealed chunks kept until the relay confirms them durable (it does every 16): 4 MiB at
/// most, enough to send on while confirmations come, and bounded whatever the size.
const WINDOW: usize = 64;

/// Reads `meta.size` bytes from `reader`, seals and uploads them on `relay`, calling
/// `progress` as the relay confirms chunks. Returns the document as the conversation will
/// know it.
pub(crate) async fn upload(
    relay: RelayConnection,
    reader: &mut (dyn AsyncRead + Unpin + Send),
    meta: &DocumentMeta,
    retention: Retention,
    progress: &mut (dyn FnMut(Transfer) + Send),
) -> Result<StoredDocument, ClientError> {
    let key = DocumentKey::generate(&mut OsRng);
    let blob_id = BlobId::generate(&mut OsRng);
    // The reference's own checks of name, type and size, before anything is read or sent;
    // the key plays no part in them, so the real one is not copied for it.
    let check = DocumentReference {
        blob_id,
        key: DocumentKey::from_bytes([0; 32]),
        sha256: [0; 32],
        size: meta.size,
        name: meta.name.clone(),
        media_type: meta.media_type.clone(),
    };
    check
        .encode()
        .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;
    let write = WriteCapability::generate(&mut OsRng);
    let sealer = DocumentSealer::new(&key, blob_id, meta.size)
        .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;
    let begin = proto::BlobBegin {
        blob_id: blob_id.as_bytes().to_vec(),
        write_capability: write.as_bytes().to_vec(),
        read_capability_hash: key.read_capability(&blob_id).hash().to_vec(),
        padded_size: padded_len(meta.size),
        // The relay learns how long the conversation keeps things, not which one it is.
        ttl_seconds: retention.as_secs(),
    };
    let mut upload = Upload {
        reader,
        sealer: Some(sealer),
        hash: Sha256::new(),
        read: 0,
        total: meta.size,
        window: VecDeque::new(),
        acked: 0,
        buffer: vec![0u8; CHUNK_LEN],
        progress,
    };
    let mut failures = 0u32;
    loop {
        let before = upload.acked;
        match upload.over(&relay, &begin).await {
            Ok(()) => break,
            Err(e) if resumable(&e) => {
                failures = if upload.acked > before {
                    1
                } else {
                    failures + 1
                };
                if failures > MAX_RESUMES {
                    return Err(e);
                }
                tracing::debug!(error = %e, "document upload broken; resuming");
                tokio::time::sleep(resume_delay(failures)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(StoredDocument {
        blob_id: *blob_id.as_bytes(),
        key: *key.to_bytes(),
        sha256: upload.hash.finalize().into(),
        size: meta.size,
        name: meta.name.clone(),
        media_type: meta.media_type.clone(),
    })
}

/// An upload in progress, across the connections it takes. The reader is read once, so the
/// sealed chunks the relay has not confirmed as durable are kept (at most [`WINDOW`]) to
/// send again over a new connection.
struct Upload<'a> {
    reader: &'a mut (dyn AsyncRead + Unpin + Send),
    /// `None` once every chunk is sealed.
    sealer: Option<DocumentSealer>,
    hash: Sha256,
    read: u64,
    total: u64,
    /// Sealed chunks from index `acked` on, not yet durable at the relay.
    window: VecDeque<Vec<u8>>,
    /// Chunks the relay holds durably (its `stored`).
    acked: u32,
    buffer: Vec<u8>,
    progress: &'a mut (dyn FnMut(Transfer) + Send),
}

impl Upload<'_> {
    /// Sends over one connection, from where the relay says it stands, until the relay has
    /// the whole blob (`Ok`) or something fails.
    async fn over(
        &mut self,
        relay: &RelayConnection,
        begin: &proto::BlobBegin,
    ) -> Result<(), ClientError> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let first = proto::UploadRequest {
            begin: Some(begin.clone()),
            index: 0,
            chunk: Vec::new(),
        };
        tx.send(first).await.map_err(|_| broken())?;
        let mut answers = relay.upload_blob(ReceiverStream::new(rx)).await?;
        // The relay answers first with what it holds (more than 0 after a broken upload).
        let answer = answers
            .message()
            .await
            .map_err(RelayError::from)?
            .ok_or_else(broken)?;
        if self.confirm(&answer)? {
            return Ok(());
        }
        let mut next = self.acked;
        let mut tx = Some(tx);
        loop {
            let in_window = usize::try_from(next - self.acked).unwrap_or(usize::MAX);
            let more = in_window < self.window.len() || self.sealer.is_some();
            let mut close = false;
            tokio::select! {
                answer = answers.message() => {
                    let answer = answer.map_err(RelayError::from)?.ok_or_else(broken)?;
                    if self.confirm(&answer)? {
                        return Ok(());
                    }
                }
                permit = async { tx.as_ref().ok_or(())?.reserve().await.map_err(|_| ()) },
                    if more && tx.is_some() && in_window < WINDOW =>
                {
                    let Ok(permit) = permit else {
                        // The relay stopped reading: its answer says why, if it gave one.
                        return Err(match answers.message().await {
                            Err(status) => RelayError::from(status).into(),
                            Ok(_) => broken(),
                        });
                    };
                    if in_window == self.window.len() {
                        self.seal_more().await?;
                    }
                    let Some(chunk) = self.window.get(in_window) else {
                        continue;
                    };
                    permit.send(proto::UploadRequest {
                        begin: None,
                        index: next,
                        chunk: chunk.clone(),
                    });
                    next += 1;
                    let sent_all = self.sealer.is_none()
                        && usize::try_from(next - self.acked).unwrap_or(usize::MAX)
                            == self.window.len();
                    close = sent_all;
                }
            }
            if close {
                // Ending the stream tells the relay it has everything.
                tx = None;
            }
        }
    }

    /// Takes in the relay's progress: forgets the chunks it holds durably, reports them.
    /// `Ok(true)` once the blob is complete.
    fn confirm(&mut self, answer: &proto::UploadProgress) -> Result<bool, ClientError> {
        // The relay's count never goes back; chunks it no longer claims are gone from here.
        if answer.stored < self.acked {
            return Err(lost());
        }
        let newly = usize::try_from(answer.stored - self.acked).unwrap_or(usize::MAX);
        if newly > self.window.len() {
            return Err(lost());
        }
        self.window.drain(..newly);
        self.acked = answer.stored;
        let chunks = u64::from(answer.chunks.max(1));
        let done = (u64::from(answer.stored) * self.total)
            .div_ceil(chunks)
            .min(self.total);
        (self.progress)(Transfer {
            done,
            total: self.total,
        });
        Ok(answer.complete)
    }

    /// Reads and seals the next piece of the content (the last chunks once all is read).
    async fn seal_more(&mut self) -> Result<(), ClientError> {
        let Some(sealer) = self.sealer.as_mut() else {
            return Ok(());
        };
        if self.read < self.total {
            let want = usize::try_from((self.total - self.read).min(CHUNK_LEN as u64))
                .unwrap_or(CHUNK_LEN);
            let slice = self.buffer.get_mut(..want).ok_or_else(lost)?;
            let n = self
                .reader
                .read(slice)
                .await
                .map_err(ClientError::DocumentIo)?;
            if n == 0 {
                return Err(ClientError::InvalidDocument(format!(
                    "the content ended after {} of {} bytes",
                    self.read, self.total
                )));
            }
            let data = slice.get(..n).ok_or_else(lost)?;
            self.hash.update(data);
            self.read += n as u64;
            let sealed = sealer
                .push(data)
                .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;
            self.window.extend(sealed);
        } else if let Some(sealer) = self.sealer.take() {
            let last = sealer
                .finish()
                .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;
            self.window.extend(last);
        }
        Ok(())
    }
}

/// The connection of an upload ended before the relay confirmed the whole document: taken
/// up again over a new one.
fn broken() -> ClientError {
    ClientError::Relay(RelayError::Unreachable(
        "the upload's connection ended early".to_owned(),
    ))
}

/// The upload ended before the relay had the whole document.
fn lost() -> ClientError {
    ClientError::Relay(RelayError::Protocol(
        "the upload ended before the relay had the whole document".to_owned(),
    ))
}
