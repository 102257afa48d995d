//! Application payloads: the plaintext of MLS application messages, versioned and kind-tagged.
//!
//! `0x01 | u8 kind | u64 BE sent_at_ms | body`; kind 1 (Text) has a UTF-8 body of
//! 1..=65536 bytes; kind 2 (Document) a [`DocumentReference`]. Unknown kinds decode to
//! [`Payload::Unknown`] so the user sees that something arrived even when this version cannot
//! show it.
//!
//! A document payload carries the document's key: `Payload` has no `Clone` or `PartialEq`, and
//! its `Debug` leaves the key out.

use std::fmt;

use crate::document::{DocumentReference, ReferenceError};

/// Version byte of the payload format.
pub const PAYLOAD_VERSION_V1: u8 = 0x01;
/// Kind byte of a text message.
pub const KIND_TEXT: u8 = 1;
/// Kind byte of a shared document.
pub const KIND_DOCUMENT: u8 = 2;
/// Longest text, in bytes.
pub const MAX_TEXT_LEN: usize = 65536;

/// A decoded application payload.
pub enum Payload {
    /// A text message.
    Text {
        /// When the sender sent it (milliseconds since the Unix epoch, sender's clock).
        sent_at_ms: u64,
        /// The text (1..=65536 UTF-8 bytes).
        text: String,
    },
    /// A document shared with the conversation (its ciphertext is a blob at the relay).
    Document {
        /// When the sender sent it (sender's clock).
        sent_at_ms: u64,
        /// Where it is, how to open it and how to check it.
        reference: DocumentReference,
    },
    /// A kind this version does not understand.
    Unknown {
        /// The kind byte.
        kind: u8,
        /// When the sender sent it (sender's clock).
        sent_at_ms: u64,
        /// The raw body.
        body: Vec<u8>,
    },
}

/// Why a payload could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The text is empty.
    #[error("text is empty")]
    EmptyText,
    /// The text is longer than 65536 bytes.
    #[error("text longer than {MAX_TEXT_LEN} bytes")]
    TextTooLong,
    /// `Unknown` was given a kind this version defines, which would not decode back to it.
    #[error("kind {0} is a known kind and cannot be encoded as unknown")]
    ReservedKind(u8),
    /// A document reference with an invalid field.
    #[error("invalid document reference: {0}")]
    Document(ReferenceError),
}

/// Why bytes are not a valid payload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before the header does.
    #[error("payload truncated")]
    Truncated,
    /// The version byte is not one this code understands.
    #[error("unknown payload version {0}")]
    UnknownVersion(u8),
    /// A text payload is empty, too long or not UTF-8.
    #[error("invalid text payload")]
    InvalidText,
    /// A document payload whose reference does not decode.
    #[error("invalid document payload: {0}")]
    InvalidDocument(ReferenceError),
}

impl fmt::Debug for Payload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Payload::Text { sent_at_ms, text } => f
                .debug_struct("Text")
                .field("sent_at_ms", sent_at_ms)
                .field("text", text)
                .finish(),
            // The reference's own Debug leaves its key out.
            Payload::Document {
                sent_at_ms,
                reference,
            } => f
                .debug_struct("Document")
                .field("sent_at_ms", sent_at_ms)
                .field("reference", reference)
                .finish(),
            Payload::Unknown {
                kind,
                sent_at_ms,
                body,
            } => f
                .debug_struct("Unknown")
                .field("kind", kind)
                .field("sent_at_ms", sent_at_ms)
                .field("body_len", &body.len())
                .finish(),
        }
    }
}

impl Payload {
    /// When the sender sent it (sender's clock; informative only).
    pub fn sent_at_ms(&self) -> u64 {
        match self {
            Payload::Text { sent_at_ms, .. }
            | Payload::Document { sent_at_ms, .. }
            | Payload::Unknown { sent_at_ms, .. } => *sent_at_ms,
        }
    }

    /// Encodes the payload.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let encoded_reference;
        let (kind, sent_at_ms, body) = match self {
            Payload::Text { sent_at_ms, text } => {
                if text.is_empty() {
                    return Err(EncodeError::EmptyText);
                }
                if text.len() > MAX_TEXT_LEN {
                    return Err(EncodeError::TextTooLong);
                }
                (KIND_TEXT, *sent_at_ms, text.as_bytes())
            }
            Payload::Document {
                sent_at_ms,
                reference,
            } => {
                encoded_reference =
                    zeroize::Zeroizing::new(reference.encode().map_err(EncodeError::Document)?);
                (KIND_DOCUMENT, *sent_at_ms, encoded_reference.as_slice())
            }
            Payload::Unknown {
                kind,
                sent_at_ms,
                body,
            } => {
                if *kind == KIND_TEXT || *kind == KIND_DOCUMENT {
                    return Err(EncodeError::ReservedKind(*kind));
                }
                (*kind, *sent_at_ms, body.as_slice())
            }
        };
        let mut out = Vec::with_capacity(10 + body.len());
        out.push(PAYLOAD_VERSION_V1);
        out.push(kind);
        out.extend_from_slice(&sent_at_ms.to_be_bytes());
        out.extend_from_slice(body);
        Ok(out)
    }

    /// Decodes a payload from untrusted bytes. The body runs to the end, so there are no
    /// trailing bytes to reject.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(DecodeError::Truncated)?;
        if version != PAYLOAD_VERSION_V1 {
            return Err(DecodeError::UnknownVersion(version));
        }
        let (&kind, rest) = rest.split_first().ok_or(DecodeError::Truncated)?;
        let (sent_at_ms, body) = rest
            .split_first_chunk::<8>()
            .ok_or(DecodeError::Truncated)?;
        let sent_at_ms = u64::from_be_bytes(*sent_at_ms);
        if kind == KIND_DOCUMENT {
            let reference =
                DocumentReference::decode(body).map_err(DecodeError::InvalidDocument)?;
            return Ok(Payload::Document {
                sent_at_ms,
                reference,
            });
        }
        if kind != KIND_TEXT {
            return Ok(Payload::Unknown {
                kind,
                sent_at_ms,
                body: body.to_vec(),
            });
        }
        if body.is_empty() || body.len() > MAX_TEXT_LEN {
            return Err(DecodeError::InvalidText);
        }
        let text = std::str::from_utf8(body).map_err(|_| DecodeError::InvalidText)?;
        Ok(Payload::Text {
            sent_at_ms,
            text: text.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_layout_and_round_trip() {
        let p = Payload::Text {
            sent_at_ms: 0x0102,
            text: "hi".into(),
        };
        let bytes = p.encode().unwrap();
        assert_eq!(bytes, [1, 1, 0, 0, 0, 0, 0, 0, 1, 2, b'h', b'i']);
        assert_eq!(Payload::decode(&bytes).unwrap().encode().unwrap(), bytes);
        assert_eq!(p.sent_at_ms(), 0x0102);
    }

    #[test]
    fn unknown_kinds_are_kept() {
        let bytes = [1, 7, 0, 0, 0, 0, 0, 0, 0, 5, 0xff];
        let p = Payload::decode(&bytes).unwrap();
        assert!(matches!(
            &p,
            Payload::Unknown { kind: 7, sent_at_ms: 5, body } if body == &[0xff]
        ));
        assert_eq!(p.encode().unwrap(), bytes);
        assert_eq!(p.sent_at_ms(), 5);
    }

    #[test]
    fn text_limits() {
        let empty = Payload::Text {
            sent_at_ms: 0,
            text: String::new(),
        };
        assert_eq!(empty.encode().err(), Some(EncodeError::EmptyText));
        let max = Payload::Text {
            sent_at_ms: 0,
            text: "a".repeat(MAX_TEXT_LEN),
        };
        let encoded = max.encode().unwrap();
        assert_eq!(
            Payload::decode(&encoded).unwrap().encode().unwrap(),
            encoded
        );
        let too_long = Payload::Text {
            sent_at_ms: 0,
            text: "a".repeat(MAX_TEXT_LEN + 1),
        };
        assert_eq!(too_long.encode().err(), Some(EncodeError::TextTooLong));
        let mut raw = vec![1, 1, 0, 0, 0, 0, 0, 0, 0, 0];
        raw.resize(10 + MAX_TEXT_LEN + 1, b'a');
        assert_eq!(Payload::decode(&raw).err(), Some(DecodeError::InvalidText));
        let reserved = Payload::Unknown {
            kind: KIND_TEXT,
            sent_at_ms: 0,
            body: vec![],
        };
        assert_eq!(reserved.encode(), Err(EncodeError::ReservedKind(1)));
    }

    #[test]
    fn rejects_malformed() {
        assert_eq!(Payload::decode(&[]).err(), Some(DecodeError::Truncated));
        assert_eq!(
            Payload::decode(&[2]).err(),
            Some(DecodeError::UnknownVersion(2))
        );
        assert_eq!(
            Payload::decode(&[1, 1, 0, 0]).err(),
            Some(DecodeError::Truncated)
        );
        assert_eq!(
            Payload::decode(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 0]).err(),
            Some(DecodeError::InvalidText)
        );
        assert_eq!(
            Payload::decode(&[1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0xc3]).err(),
            Some(DecodeError::InvalidText)
        );
    }

    #[test]
    fn a_document_payload_round_trips_and_never_shows_its_key() {
        use crate::document::{BlobId, DocumentKey};
        let p = Payload::Document {
            sent_at_ms: 9,
            reference: DocumentReference {
                blob_id: BlobId::from_bytes([1; 32]),
                key: DocumentKey::from_bytes([0xab; 32]),
                sha256: [3; 32],
                size: 10,
                name: "map.png".into(),
                media_type: "image/png".into(),
            },
        };
        let bytes = p.encode().unwrap();
        assert_eq!(bytes[1], KIND_DOCUMENT);
        let back = Payload::decode(&bytes).unwrap();
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(back.sent_at_ms(), 9);
        let shown = format!("{back:?}");
        assert!(
            shown.contains("map.png") && !shown.contains("171"),
            "{shown}"
        );
        let mut broken = bytes.clone();
        broken.truncate(bytes.len() - 1);
        assert!(matches!(
            Payload::decode(&broken),
            Err(DecodeError::InvalidDocument(_))
        ));
        let reserved = Payload::Unknown {
            kind: KIND_DOCUMENT,
            sent_at_ms: 0,
            body: vec![],
        };
        assert_eq!(reserved.encode().err(), Some(EncodeError::ReservedKind(2)));
    }
}
