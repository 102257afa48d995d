//! Documents: a file shared in a conversation, encrypted under a key of its own and stored as
//! a blob at the relay, which sees only ciphertext of a bucketed size.
//!
//! - A fresh [`DocumentKey`] per document; the blob id is random too.
//! - The content, padded with zeros to [`padded_len`] (two sizes per doubling, so a 10.2 MB
//!   and a 10.9 MB document are stored alike), is cut into [`CHUNK_LEN`] chunks and sealed
//!   with the STREAM construction over XChaCha20-Poly1305 (`aead::stream`, big-endian 32-bit
//!   counter and last-chunk flag): a chunk flipped, swapped, reordered, dropped from the end or
//!   taken from another document fails to open. Every chunk's associated data is the blob id.
//! - The relay authorises by capabilities, never by identity: a random write capability for
//!   the upload and a read capability derived from the key for downloads; it stores only
//!   their [`capability_hash`]es.
//! - The members learn of a document through a [`DocumentReference`] inside an MLS
//!   application message: blob id, key, content SHA-256, size, name and media type.

mod buckets;
mod key;
mod open;
mod reference;
mod seal;

pub use buckets::{chunk_count, padded_len, CHUNK_LEN, MAX_DOCUMENT_LEN};
pub use key::{capability_hash, BlobId, DocumentKey, ReadCapability, WriteCapability};
pub use open::DocumentOpener;
pub use reference::{DocumentReference, ReferenceError, MAX_MEDIA_TYPE_LEN, REFERENCE_VERSION_V1};
pub use seal::DocumentSealer;

/// Bytes a sealed chunk adds to its plaintext (the Poly1305 tag).
pub const CHUNK_OVERHEAD: usize = 16;

/// Why a document could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DocumentError {
    /// The declared size is larger than [`MAX_DOCUMENT_LEN`].
    #[error("document larger than {MAX_DOCUMENT_LEN} bytes")]
    TooLarge,
    /// More or fewer content bytes were given than the size declared.
    #[error("the content is not the size declared")]
    SizeMismatch,
    /// A chunk did not open: altered, out of place, from another document or under another
    /// key.
    #[error("a chunk of the document is not authentic or out of place")]
    BadChunk,
    /// A chunk of the wrong length, or one past the last.
    #[error("a chunk of the document has the wrong length or comes after the last one")]
    BadChunkLength,
    /// The document ended before its last chunk.
    #[error("the document is truncated")]
    Truncated,
    /// The padding after the content is not zeros.
    #[error("the document's padding is not zeros")]
    BadPadding,
}

/// The STREAM nonce prefix of a blob: 19 bytes bound to its id, so that two documents never
/// share a nonce sequence even if a key were reused.
fn nonce_prefix(blob_id: &BlobId) -> [u8; 19] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::new()
        .chain_update(b"parley/v1/document-nonce")
        .chain_update(blob_id.as_bytes())
        .finalize();
    let mut prefix = [0u8; 19];
    prefix.copy_from_slice(&digest[..19]);
    prefix
}
