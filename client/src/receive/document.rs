//! Fetching a shared document: its chunks are downloaded, each opened (authenticated, in
//! place, of this document) before its bytes are written, and the whole is checked against
//! the SHA-256 the sender shared.

use parley_crypto::document::{BlobId, DocumentKey, DocumentOpener, CHUNK_LEN};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::api::conversation::ConversationId;
use crate::api::document::{DocumentInfo, Transfer};
use crate::api::error::{ClientError, RelayError};
use crate::api::message::Message;
use crate::state::relay::{resumable, resume_delay, RelayConnection, MAX_RESUMES};
use crate::state::store::records::{DocumentAt, HistoryEntry, StoredBody, StoredDocument};
use crate::state::store::{Key, Prefix};
use crate::state::Ctx;

/// The document shared under `id` (its blob id, hex), as its message stored it.
pub(crate) fn find(ctx: &Ctx<'_>, id: &str) -> Result<StoredDocument, ClientError> {
    let unknown = || ClientError::UnknownDocument(id.to_owned());
    let blob_id: [u8; 32] = hex::decode(id)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(unknown)?;
    let at: DocumentAt = ctx
        .store
        .get(Key::Document(&blob_id))?
        .ok_or_else(unknown)?;
    let entry: HistoryEntry = ctx
        .store
        .get(Key::History(&at.group_id, at.index))?
        .ok_or_else(unknown)?;
    match entry.body {
        StoredBody::Document(document) | StoredBody::TextVersionDocument { document, .. } => {
            Ok(document)
        }
        _ => Err(unknown()),
    }
}

/// The messages that shared a document, in `conversation` or in all, oldest first.
pub(crate) fn list(
    ctx: &Ctx<'_>,
    conversation: Option<&ConversationId>,
) -> Result<Vec<Message>, ClientError> {
    let only = conversation
        .map(|id| ctx.require_conversation(id))
        .transpose()?
        .map(|conv| conv.group_id);
    let names = ctx.names()?;
    let mut messages = Vec::new();
    for at in ctx.store.scan::<DocumentAt>(Prefix::Documents)? {
        if only.is_some_and(|gid| gid != at.group_id) {
            continue;
        }
        let Some(conv) = ctx.conversation_of(&at.group_id)? else {
            continue;
        };
        let Some(entry) = ctx.store.get(Key::History(&at.group_id, at.index))? else {
            continue;
        };
        messages.push(ctx.message(&names, &conv, at.index, entry)?);
    }
    messages.sort_by_key(|m| (m.sent_at_ms, m.id));
    Ok(messages)
}

/// Opened content is written to the writer this much at a time: 16 chunks, 1 MiB.
///
/// A file writer (tokio's `File`, which the CLI passes) hands each write to a blocking thread
/// and takes the next only once that one is done, so a write per 64 KiB chunk put a thread
/// round trip in every chunk's path: 0.4 to 0.8 s of a 256 MiB download on a busy 2-core
/// machine, 0.15 to 0.2 s on one at rest (docs/PERFORMANCE.md). A 1 MiB write is done while
/// the next chunks are opened.
const WRITE_BATCH: usize = 16 * CHUNK_LEN;

/// A download in progress, across the connections it takes: the next chunk wanted, and what
/// the chunks so far went into.
struct Download<'a> {
    opener: DocumentOpener,
    hash: Sha256,
    writer: &'a mut (dyn AsyncWrite + Unpin + Send),
    progress: &'a mut (dyn FnMut(Transfer) + Send),
    /// Opened content not written yet, less than [`WRITE_BATCH`] between two chunks.
    unwritten: Vec<u8>,
    /// The `done` figure at the end of each chunk in `unwritten`, reported once it is written.
    ends: Vec<u64>,
    index: u32,
    done: u64,
    total: u64,
}

impl Download<'_> {
    /// Receives from the next chunk wanted on over one connection, until the blob ends
    /// (`Ok`) or something fails (with whether any chunk got through first).
    async fn over(
        &mut self,
        relay: &RelayConnection,
        blob_id: &[u8; 32],
        read: &[u8; 32],
    ) -> Result<(), (ClientError, bool)> {
        let start = self.index;
        let mut stream = relay
            .download_blob(blob_id, read, start)
            .await
            .map_err(|e| (e.into(), false))?;
        loop {
            let moved = self.index > start;
            let chunk = match stream.message().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok(()),
                Err(status) => return Err((RelayError::from(status).into(), moved)),
            };
            if chunk.index != self.index {
                return Err((ClientError::DocumentDamaged, moved));
            }
            self.index += 1;
            let content = self
                .opener
                .open(&chunk.chunk)
                .map_err(|_| (ClientError::DocumentDamaged, true))?;
            self.hash.update(&content);
            self.unwritten.extend_from_slice(&content);
            self.done += content.len() as u64;
            self.ends.push(self.done);
            if self.unwritten.len() >= WRITE_BATCH {
                self.write_out()
                    .await
                    .map_err(|e| (ClientError::DocumentIo(e), true))?;
            }
        }
    }

    /// Writes the opened content not written yet, and reports its chunks as done.
    async fn write_out(&mut self) -> std::io::Result<()> {
        self.writer.write_all(&self.unwritten).await?;
        self.unwritten.clear();
        for done in self.ends.drain(..) {
            (self.progress)(Transfer {
                done,
                total: self.total,
            });
        }
        Ok(())
    }
}

/// Downloads `document` on `relay` and writes its content to `writer`, calling `progress`
/// per chunk; a broken connection is taken up again where it stopped (every chunk is still
/// opened in place, so a relay cannot use a resumption to splice). Fails with
/// [`ClientError::DocumentDamaged`] if anything served is not the document shared; what was
/// written before then must be thrown away.
pub(crate) async fn download(
    relay: RelayConnection,
    document: &StoredDocument,
    writer: &mut (dyn AsyncWrite + Unpin + Send),
    progress: &mut (dyn FnMut(Transfer) + Send),
) -> Result<DocumentInfo, ClientError> {
    let key = DocumentKey::from_bytes(document.key);
    let blob_id = BlobId::from_bytes(document.blob_id);
    let read = key.read_capability(&blob_id);
    let mut download = Download {
        opener: DocumentOpener::new(&key, blob_id, document.size)
            .map_err(|_| ClientError::DocumentDamaged)?,
        hash: Sha256::new(),
        writer,
        progress,
        unwritten: Vec::with_capacity(WRITE_BATCH + CHUNK_LEN),
        ends: Vec::new(),
        index: 0,
        done: 0,
        total: document.size,
    };
    let mut failures = 0u32;
    loop {
        match download
            .over(&relay, &document.blob_id, read.as_bytes())
            .await
        {
            Ok(()) => break,
            Err((e, moved)) if resumable(&e) => {
                failures = if moved { 1 } else { failures + 1 };
                if failures > MAX_RESUMES {
                    return Err(e);
                }
                tracing::debug!(error = %e, "document download broken; resuming");
                tokio::time::sleep(resume_delay(failures)).await;
            }
            Err((e, _)) => return Err(e),
        }
    }
    download
        .write_out()
        .await
        .map_err(ClientError::DocumentIo)?;
    download
        .opener
        .finish()
        .map_err(|_| ClientError::DocumentDamaged)?;
    let digest: [u8; 32] = download.hash.finalize().into();
    if !bool::from(digest.ct_eq(&document.sha256)) {
        return Err(ClientError::DocumentDamaged);
    }
    download
        .writer
        .flush()
        .await
        .map_err(ClientError::DocumentIo)?;
    Ok(DocumentInfo {
        id: hex::encode(document.blob_id),
        name: document.name.clone(),
        size: document.size,
        media_type: document.media_type.clone(),
    })
}
