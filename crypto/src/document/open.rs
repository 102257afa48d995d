//! Opening a sealed document chunk by chunk: each chunk is authenticated, in place and of
//! this document, before any of its bytes are handed out.

use chacha20poly1305::aead::stream::DecryptorBE32;
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;

use super::buckets::{padded_len, CHUNK_LEN, MAX_DOCUMENT_LEN};
use super::key::{BlobId, DocumentKey};
use super::{nonce_prefix, DocumentError, CHUNK_OVERHEAD};

/// Opens a document sealed by [`super::DocumentSealer`]: give it the sealed chunks in order
/// with [`DocumentOpener::open`], which returns their content (padding removed), then
/// [`DocumentOpener::finish`], which fails unless the last chunk was seen. Any error means
/// the document must be thrown away (write it to a temporary file and keep it only once
/// `finish` succeeded).
pub struct DocumentOpener {
    stream: Option<DecryptorBE32<XChaCha20Poly1305>>,
    blob_id: BlobId,
    /// Content bytes not yet handed out.
    content_left: u64,
    /// Sealed plaintext (content and padding) not yet opened.
    remaining: u64,
}

impl DocumentOpener {
    /// An opener for blob `blob_id` of `size` content bytes under `key`.
    pub fn new(key: &DocumentKey, blob_id: BlobId, size: u64) -> Result<Self, DocumentError> {
        if size > MAX_DOCUMENT_LEN {
            return Err(DocumentError::TooLarge);
        }
        let aead = XChaCha20Poly1305::new(key.as_bytes().into());
        let stream = DecryptorBE32::from_aead(aead, (&nonce_prefix(&blob_id)).into());
        Ok(DocumentOpener {
            stream: Some(stream),
            blob_id,
            content_left: size,
            remaining: padded_len(size),
        })
    }

    /// The sealed length of the next chunk expected (`None` once the last was opened).
    pub fn next_chunk_len(&self) -> Option<usize> {
        self.stream.as_ref()?;
        let plain = usize::try_from(self.remaining.min(CHUNK_LEN as u64)).ok()?;
        Some(plain + CHUNK_OVERHEAD)
    }

    /// Opens the next sealed chunk; returns its content bytes (none for pure padding).
    pub fn open(&mut self, sealed: &[u8]) -> Result<Vec<u8>, DocumentError> {
        if Some(sealed.len()) != self.next_chunk_len() {
            return Err(DocumentError::BadChunkLength);
        }
        let payload = Payload {
            msg: sealed,
            aad: self.blob_id.as_bytes(),
        };
        let mut plain = if self.remaining > CHUNK_LEN as u64 {
            let stream = self.stream.as_mut().ok_or(DocumentError::BadChunkLength)?;
            stream.decrypt_next(payload)
        } else {
            let stream = self.stream.take().ok_or(DocumentError::BadChunkLength)?;
            stream.decrypt_last(payload)
        }
        .map_err(|_| DocumentError::BadChunk)?;
        self.remaining -= plain.len() as u64;
        let content = usize::try_from(self.content_left.min(plain.len() as u64))
            .map_err(|_| DocumentError::TooLarge)?;
        if plain
            .get(content..)
            .is_some_and(|pad| pad.iter().any(|&b| b != 0))
        {
            return Err(DocumentError::BadPadding);
        }
        plain.truncate(content);
        self.content_left -= content as u64;
        Ok(plain)
    }

    /// Succeeds only once the last chunk was opened: a document cut short is refused.
    pub fn finish(self) -> Result<(), DocumentError> {
        if self.stream.is_some() || self.content_left != 0 {
            return Err(DocumentError::Truncated);
        }
        Ok(())
    }
}
