//! Sending a document: the content is read, hashed, sealed and uploaded chunk by chunk (never
//! held whole), then its reference goes to the conversation in an MLS message.

use parley_crypto::document::{
    padded_len, BlobId, DocumentKey, DocumentReference, DocumentSealer, WriteCapability, CHUNK_LEN,
};
use parley_proto::v1 as proto;
use rand::rngs::OsRng;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::api::document::{DocumentMeta, Transfer};
use crate::api::error::{ClientError, RelayError};
use crate::state::relay::RelayConnection;
use crate::state::store::records::StoredDocument;

/// Upload requests queued ahead of the relay: a few chunks, so memory stays flat.
const QUEUE: usize = 4;

/// Reads `meta.size` bytes from `reader`, seals and uploads them on `relay`, calling
/// `progress` as the relay confirms chunks. Returns the document as the conversation will
/// know it.
pub(crate) async fn upload(
    relay: RelayConnection,
    reader: &mut (dyn AsyncRead + Unpin + Send),
    meta: &DocumentMeta,
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
    let mut sealer = DocumentSealer::new(&key, blob_id, meta.size)
        .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;

    let (tx, rx) = mpsc::channel(QUEUE);
    let begin = proto::UploadRequest {
        begin: Some(proto::BlobBegin {
            blob_id: blob_id.as_bytes().to_vec(),
            write_capability: write.as_bytes().to_vec(),
            read_capability_hash: key.read_capability(&blob_id).hash().to_vec(),
            padded_size: padded_len(meta.size),
        }),
        index: 0,
        chunk: Vec::new(),
    };
    tx.send(begin).await.map_err(|_| lost())?;
    let mut answers = relay.upload_blob(ReceiverStream::new(rx)).await?;

    let total = meta.size;
    let produce = async move {
        let mut hash = Sha256::new();
        let mut index = 0u32;
        let mut read = 0u64;
        let mut buffer = vec![0u8; CHUNK_LEN];
        let mut send = |chunks: Vec<Vec<u8>>, tx: &mpsc::Sender<proto::UploadRequest>| {
            let requests: Vec<proto::UploadRequest> = chunks
                .into_iter()
                .map(|chunk| {
                    let request = proto::UploadRequest {
                        begin: None,
                        index,
                        chunk,
                    };
                    index += 1;
                    request
                })
                .collect();
            let tx = tx.clone();
            async move {
                for request in requests {
                    tx.send(request).await.map_err(|_| lost())?;
                }
                Ok::<(), ClientError>(())
            }
        };
        while read < total {
            let want = usize::try_from((total - read).min(CHUNK_LEN as u64)).unwrap_or(CHUNK_LEN);
            let slice = buffer.get_mut(..want).ok_or_else(lost)?;
            let n = reader.read(slice).await.map_err(ClientError::DocumentIo)?;
            if n == 0 {
                return Err(ClientError::InvalidDocument(format!(
                    "the content ended after {read} of {total} bytes"
                )));
            }
            let data = slice.get(..n).ok_or_else(lost)?;
            hash.update(data);
            read += n as u64;
            let sealed = sealer
                .push(data)
                .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;
            send(sealed, &tx).await?;
        }
        let last = sealer
            .finish()
            .map_err(|e| ClientError::InvalidDocument(e.to_string()))?;
        send(last, &tx).await?;
        // Dropping the sender ends the upload stream: the relay has everything.
        drop(tx);
        Ok::<[u8; 32], ClientError>(hash.finalize().into())
    };
    let consume = async {
        let mut complete = false;
        while let Some(answer) = answers.message().await.map_err(RelayError::from)? {
            let chunks = u64::from(answer.chunks.max(1));
            let done = (u64::from(answer.stored) * total)
                .div_ceil(chunks)
                .min(total);
            progress(Transfer { done, total });
            if answer.complete {
                complete = true;
                break;
            }
        }
        Ok::<bool, ClientError>(complete)
    };
    let (sha256, complete) = tokio::join!(produce, consume);
    let complete = complete?;
    let sha256 = sha256?;
    if !complete {
        return Err(lost());
    }
    Ok(StoredDocument {
        blob_id: *blob_id.as_bytes(),
        key: *key.to_bytes(),
        sha256,
        size: meta.size,
        name: meta.name.clone(),
        media_type: meta.media_type.clone(),
    })
}

/// The upload ended before the relay had the whole document.
fn lost() -> ClientError {
    ClientError::Relay(RelayError::Protocol(
        "the upload ended before the relay had the whole document".to_owned(),
    ))
}
