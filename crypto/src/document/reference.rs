//! A document reference: what the MLS message sharing a document carries, so that every
//! member can fetch, open and check it. It holds the document's key: it travels only inside
//! MLS application messages, never to the relay.
//!
//! `0x01 | blob_id[32] | key[32] | sha256[32] | u64 BE size | u8 name_len | name (UTF-8,
//! 1..=255 bytes) | u8 media_type_len | media_type (printable ASCII, 1..=127 bytes)`.
//! The read capability is not carried: it is derived from the key
//! ([`DocumentKey::read_capability`]).

use std::fmt;

use super::buckets::MAX_DOCUMENT_LEN;
use super::key::{BlobId, DocumentKey};

/// Version byte of the reference format.
pub const REFERENCE_VERSION_V1: u8 = 0x01;
/// Longest media type, in bytes.
pub const MAX_MEDIA_TYPE_LEN: usize = 127;

/// Why a reference could not be encoded, or bytes are not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The bytes end before the reference does.
    #[error("document reference truncated")]
    Truncated,
    /// The version byte is not one this code understands.
    #[error("unknown document reference version {0}")]
    UnknownVersion(u8),
    /// Bytes follow the reference.
    #[error("trailing bytes after the document reference")]
    TrailingBytes,
    /// The name is empty, longer than 255 bytes or not UTF-8.
    #[error("invalid document name")]
    InvalidName,
    /// The media type is empty, too long or not printable ASCII.
    #[error("invalid media type")]
    InvalidMediaType,
    /// The size is beyond what a document may have.
    #[error("document size out of range")]
    InvalidSize,
}

/// A shared document as its members know it.
pub struct DocumentReference {
    /// Where the relay keeps it.
    pub blob_id: BlobId,
    /// What it is encrypted under.
    pub key: DocumentKey,
    /// SHA-256 of the content, checked before the file is kept.
    pub sha256: [u8; 32],
    /// The content's size in bytes (before padding).
    pub size: u64,
    /// The file name the sender gave (untrusted: a receiver never uses it as a path as is).
    pub name: String,
    /// Its media type, e.g. `application/pdf`.
    pub media_type: String,
}

impl fmt::Debug for DocumentReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of every log and error.
        f.debug_struct("DocumentReference")
            .field("blob_id", &self.blob_id)
            .field("size", &self.size)
            .field("name", &self.name)
            .field("media_type", &self.media_type)
            .finish_non_exhaustive()
    }
}

impl DocumentReference {
    /// Encodes the reference; its fields are checked as a decoder would.
    pub fn encode(&self) -> Result<Vec<u8>, ReferenceError> {
        let name = check_name(self.name.as_bytes())?;
        let media_type = check_media_type(self.media_type.as_bytes())?;
        if self.size > MAX_DOCUMENT_LEN {
            return Err(ReferenceError::InvalidSize);
        }
        let mut out = Vec::with_capacity(1 + 32 * 3 + 8 + 2 + name.len() + media_type.len());
        out.push(REFERENCE_VERSION_V1);
        out.extend_from_slice(self.blob_id.as_bytes());
        out.extend_from_slice(self.key.as_bytes());
        out.extend_from_slice(&self.sha256);
        out.extend_from_slice(&self.size.to_be_bytes());
        for field in [name, media_type] {
            // Both were checked to fit in a byte.
            out.push(u8::try_from(field.len()).map_err(|_| ReferenceError::InvalidName)?);
            out.extend_from_slice(field);
        }
        Ok(out)
    }

    /// Decodes a reference from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<DocumentReference, ReferenceError> {
        let (&version, rest) = bytes.split_first().ok_or(ReferenceError::Truncated)?;
        if version != REFERENCE_VERSION_V1 {
            return Err(ReferenceError::UnknownVersion(version));
        }
        let (blob_id, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(ReferenceError::Truncated)?;
        let (key, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(ReferenceError::Truncated)?;
        let (sha256, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(ReferenceError::Truncated)?;
        let (size, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(ReferenceError::Truncated)?;
        let (name, rest) = split_field(rest)?;
        let (media_type, rest) = split_field(rest)?;
        if !rest.is_empty() {
            return Err(ReferenceError::TrailingBytes);
        }
        let size = u64::from_be_bytes(*size);
        if size > MAX_DOCUMENT_LEN {
            return Err(ReferenceError::InvalidSize);
        }
        let name =
            std::str::from_utf8(check_name(name)?).map_err(|_| ReferenceError::InvalidName)?;
        let media_type = std::str::from_utf8(check_media_type(media_type)?)
            .map_err(|_| ReferenceError::InvalidMediaType)?;
        Ok(DocumentReference {
            blob_id: BlobId::from_bytes(*blob_id),
            key: DocumentKey::from_bytes(*key),
            sha256: *sha256,
            size,
            name: name.to_owned(),
            media_type: media_type.to_owned(),
        })
    }
}

fn split_field(bytes: &[u8]) -> Result<(&[u8], &[u8]), ReferenceError> {
    let (&len, rest) = bytes.split_first().ok_or(ReferenceError::Truncated)?;
    rest.split_at_checked(usize::from(len))
        .ok_or(ReferenceError::Truncated)
}

fn check_name(name: &[u8]) -> Result<&[u8], ReferenceError> {
    if name.is_empty() || name.len() > 255 || std::str::from_utf8(name).is_err() {
        return Err(ReferenceError::InvalidName);
    }
    Ok(name)
}

fn check_media_type(media_type: &[u8]) -> Result<&[u8], ReferenceError> {
    if media_type.is_empty()
        || media_type.len() > MAX_MEDIA_TYPE_LEN
        || !media_type.iter().all(|b| (0x21..=0x7e).contains(b))
    {
        return Err(ReferenceError::InvalidMediaType);
    }
    Ok(media_type)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> DocumentReference {
        DocumentReference {
            blob_id: BlobId::from_bytes([1; 32]),
            key: DocumentKey::from_bytes([2; 32]),
            sha256: [3; 32],
            size: 2_400_000,
            name: "budget — draft 3.pdf".to_owned(),
            media_type: "application/pdf".to_owned(),
        }
    }

    #[test]
    fn a_reference_round_trips_and_its_debug_leaves_the_key_out() {
        let bytes = sample().encode().unwrap();
        let back = DocumentReference::decode(&bytes).unwrap();
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(*back.key.to_bytes(), [2; 32]);
        assert_eq!(back.name, "budget — draft 3.pdf");
        let shown = format!("{back:?}");
        assert!(!shown.contains("2, 2, 2"), "{shown}");
        assert!(shown.contains("budget"), "{shown}");
    }

    #[test]
    fn malformed_references_are_typed_errors() {
        let good = sample().encode().unwrap();
        assert_eq!(
            DocumentReference::decode(&[]).err(),
            Some(ReferenceError::Truncated)
        );
        assert_eq!(
            DocumentReference::decode(&[2]).err(),
            Some(ReferenceError::UnknownVersion(2))
        );
        for cut in [1, 40, 104, good.len() - 1] {
            assert_eq!(
                DocumentReference::decode(&good[..cut]).err(),
                Some(ReferenceError::Truncated),
                "cut at {cut}"
            );
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            DocumentReference::decode(&long).err(),
            Some(ReferenceError::TrailingBytes)
        );
        let mut huge = good.clone();
        huge[97..105].copy_from_slice(&u64::MAX.to_be_bytes());
        assert_eq!(
            DocumentReference::decode(&huge).err(),
            Some(ReferenceError::InvalidSize)
        );
        let mut empty_name = sample();
        empty_name.name.clear();
        assert_eq!(empty_name.encode().err(), Some(ReferenceError::InvalidName));
        let mut spaced = sample();
        spaced.media_type = "text/plain; charset=utf-8".to_owned();
        assert_eq!(
            spaced.encode().err(),
            Some(ReferenceError::InvalidMediaType)
        );
        let mut bad_utf8 = good;
        bad_utf8[106] = 0xff;
        assert_eq!(
            DocumentReference::decode(&bad_utf8).err(),
            Some(ReferenceError::InvalidName)
        );
    }
}
