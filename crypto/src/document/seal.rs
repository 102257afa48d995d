//! Sealing a document chunk by chunk, without ever holding more than one chunk.

use chacha20poly1305::aead::stream::EncryptorBE32;
use chacha20poly1305::aead::{KeyInit, Payload};
use chacha20poly1305::XChaCha20Poly1305;

use super::buckets::{padded_len, CHUNK_LEN, MAX_DOCUMENT_LEN};
use super::key::{BlobId, DocumentKey};
use super::{nonce_prefix, DocumentError};

/// Seals a document of a declared size: feed the content in pieces of any length with
/// [`DocumentSealer::push`], which returns each sealed chunk as soon as it is full, then
/// [`DocumentSealer::finish`], which pads and seals the rest.
pub struct DocumentSealer {
    stream: Option<EncryptorBE32<XChaCha20Poly1305>>,
    blob_id: BlobId,
    size: u64,
    pushed: u64,
    /// Plaintext bytes still to seal, the zero padding included.
    remaining: u64,
    buffer: Vec<u8>,
}

impl DocumentSealer {
    /// A sealer for `size` content bytes under `key`, stored as `blob_id`.
    pub fn new(key: &DocumentKey, blob_id: BlobId, size: u64) -> Result<Self, DocumentError> {
        if size > MAX_DOCUMENT_LEN {
            return Err(DocumentError::TooLarge);
        }
        let aead = XChaCha20Poly1305::new(key.as_bytes().into());
        let stream = EncryptorBE32::from_aead(aead, (&nonce_prefix(&blob_id)).into());
        Ok(DocumentSealer {
            stream: Some(stream),
            blob_id,
            size,
            pushed: 0,
            remaining: padded_len(size),
            buffer: Vec::with_capacity(CHUNK_LEN),
        })
    }

    /// Takes more content; returns the chunks it completed (each `CHUNK_LEN` + 16 bytes).
    /// The chunk that turns out to be the last is kept until [`DocumentSealer::finish`].
    pub fn push(&mut self, mut data: &[u8]) -> Result<Vec<Vec<u8>>, DocumentError> {
        let len = u64::try_from(data.len()).map_err(|_| DocumentError::SizeMismatch)?;
        if self.pushed.saturating_add(len) > self.size {
            return Err(DocumentError::SizeMismatch);
        }
        self.pushed += len;
        let mut sealed = Vec::new();
        while !data.is_empty() {
            let take = (CHUNK_LEN - self.buffer.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.buffer.extend_from_slice(head);
            data = rest;
            // A full chunk is sealed now unless it is the last one (sealed with the flag).
            if self.buffer.len() == CHUNK_LEN && self.remaining > CHUNK_LEN as u64 {
                sealed.push(self.seal_next()?);
            }
        }
        Ok(sealed)
    }

    /// Pads the content to its bucket and seals what is left; the last chunk carries the
    /// STREAM last-chunk flag. Fails if less content was pushed than declared.
    pub fn finish(mut self) -> Result<Vec<Vec<u8>>, DocumentError> {
        if self.pushed != self.size {
            return Err(DocumentError::SizeMismatch);
        }
        let mut sealed = Vec::new();
        loop {
            let chunk_len = self.remaining.min(CHUNK_LEN as u64);
            let chunk_len = usize::try_from(chunk_len).map_err(|_| DocumentError::TooLarge)?;
            self.buffer.resize(chunk_len.max(self.buffer.len()), 0);
            if self.remaining > CHUNK_LEN as u64 {
                sealed.push(self.seal_next()?);
            } else {
                let stream = self.stream.take().ok_or(DocumentError::BadChunk)?;
                let last = stream
                    .encrypt_last(Payload {
                        msg: &self.buffer,
                        aad: self.blob_id.as_bytes(),
                    })
                    .map_err(|_| DocumentError::BadChunk)?;
                sealed.push(last);
                return Ok(sealed);
            }
        }
    }

    fn seal_next(&mut self) -> Result<Vec<u8>, DocumentError> {
        let stream = self.stream.as_mut().ok_or(DocumentError::BadChunk)?;
        let chunk = stream
            .encrypt_next(Payload {
                msg: &self.buffer,
                aad: self.blob_id.as_bytes(),
            })
            .map_err(|_| DocumentError::BadChunk)?;
        self.remaining -= self.buffer.len() as u64;
        self.buffer.clear();
        Ok(chunk)
    }
}
