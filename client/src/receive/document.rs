//! Fetching a shared document: its chunks are downloaded, each opened (authenticated, in
//! place, of this document) before its bytes are written, and the whole is checked against
//! the SHA-256 the sender shared.

use parley_crypto::document::{BlobId, DocumentKey, DocumentOpener};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tokio::io::{AsyncWrite, AsyncWriteExt};

use crate::api::conversation::ConversationId;
use crate::api::document::{DocumentInfo, Transfer};
use crate::api::error::{ClientError, RelayError};
use crate::api::message::Message;
use crate::state::relay::RelayConnection;
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
        StoredBody::Document(document) => Ok(document),
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

/// Downloads `document` on `relay` and writes its content to `writer`, calling `progress`
/// per chunk. Fails with [`ClientError::DocumentDamaged`] if anything served is not the
/// document shared; what was written before then must be thrown away.
pub(crate) async fn download(
    relay: RelayConnection,
    document: &StoredDocument,
    writer: &mut (dyn AsyncWrite + Unpin + Send),
    progress: &mut (dyn FnMut(Transfer) + Send),
) -> Result<DocumentInfo, ClientError> {
    let key = DocumentKey::from_bytes(document.key);
    let blob_id = BlobId::from_bytes(document.blob_id);
    let read = key.read_capability(&blob_id);
    let mut opener = DocumentOpener::new(&key, blob_id, document.size)
        .map_err(|_| ClientError::DocumentDamaged)?;
    let mut stream = relay
        .download_blob(&document.blob_id, read.as_bytes(), 0)
        .await?;
    let mut hash = Sha256::new();
    let total = document.size;
    let mut done = 0u64;
    let mut index = 0u32;
    while let Some(chunk) = stream.message().await.map_err(RelayError::from)? {
        if chunk.index != index {
            return Err(ClientError::DocumentDamaged);
        }
        index += 1;
        let content = opener
            .open(&chunk.chunk)
            .map_err(|_| ClientError::DocumentDamaged)?;
        hash.update(&content);
        writer
            .write_all(&content)
            .await
            .map_err(ClientError::DocumentIo)?;
        done += content.len() as u64;
        progress(Transfer { done, total });
    }
    opener.finish().map_err(|_| ClientError::DocumentDamaged)?;
    let digest: [u8; 32] = hash.finalize().into();
    if !bool::from(digest.ct_eq(&document.sha256)) {
        return Err(ClientError::DocumentDamaged);
    }
    writer.flush().await.map_err(ClientError::DocumentIo)?;
    Ok(DocumentInfo {
        id: hex::encode(document.blob_id),
        name: document.name.clone(),
        size: document.size,
        media_type: document.media_type.clone(),
    })
}
