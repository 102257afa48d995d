//! Application payloads: the plaintext of MLS application messages, versioned and kind-tagged.
//!
//! `0x01 | u8 kind | u64 BE sent_at_ms | body`; kind 1 (Text) has a UTF-8 body of
//! 1..=65536 bytes; kind 2 (Document) a [`DocumentReference`]. A workshop's single
//! negotiating text adds kind 3 (TextVersion: `u32 BE number | [32] previous | text`, text
//! as for kind 1), kind 4 (TextComment: `u32 BE version | u32 BE para | text`, text of
//! 1..=4096 bytes; both numbers count from 1) and kind 5 (RecordExported: empty body).
//! Unknown kinds decode to [`Payload::Unknown`] so the user sees that something arrived even
//! when this version cannot show it.
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
/// Kind byte of a version of a workshop's negotiating text.
pub const KIND_TEXT_VERSION: u8 = 3;
/// Kind byte of a comment on a paragraph of a version of the negotiating text.
pub const KIND_TEXT_COMMENT: u8 = 4;
/// Kind byte of the notice that someone exported the workshop's record.
pub const KIND_RECORD_EXPORTED: u8 = 5;
/// Kind byte of a version of the negotiating text too long to go inline, shared as a
/// document.
pub const KIND_TEXT_VERSION_DOCUMENT: u8 = 6;
/// Longest text, in bytes (of a text message or a version of the negotiating text).
pub const MAX_TEXT_LEN: usize = 65536;
/// Longest comment on the negotiating text, in bytes.
pub const MAX_COMMENT_LEN: usize = 4096;

// Every kind this version decodes to something other than `Unknown`.
const KNOWN_KINDS: [u8; 6] = [
    KIND_TEXT,
    KIND_DOCUMENT,
    KIND_TEXT_VERSION,
    KIND_TEXT_COMMENT,
    KIND_RECORD_EXPORTED,
    KIND_TEXT_VERSION_DOCUMENT,
];

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
    /// A version of a workshop's single negotiating text, replacing the one before it.
    TextVersion {
        /// When the sender sent it (sender's clock).
        sent_at_ms: u64,
        /// Its number (from 1).
        number: u32,
        /// Identifies the version this one revises, as the workshop code computes it.
        previous: [u8; 32],
        /// The whole text (1..=65536 UTF-8 bytes).
        text: String,
    },
    /// A comment on one paragraph of a version of the negotiating text.
    TextComment {
        /// When the sender sent it (sender's clock).
        sent_at_ms: u64,
        /// The number of the version commented on (from 1).
        version: u32,
        /// The paragraph commented on (from 1).
        para: u32,
        /// The comment (1..=4096 UTF-8 bytes).
        text: String,
    },
    /// Someone exported the workshop's record (told to the room, so no one does it unseen).
    RecordExported {
        /// When the sender sent it (sender's clock).
        sent_at_ms: u64,
    },
    /// A version of the negotiating text too long to go inline: its text is a document
    /// (UTF-8), whose SHA-256 the reference carries.
    TextVersionDocument {
        /// When the sender sent it (sender's clock).
        sent_at_ms: u64,
        /// Its number (from 1).
        number: u32,
        /// Identifies the version this one revises, as the workshop code computes it.
        previous: [u8; 32],
        /// Where the text is, how to open it and how to check it.
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
    /// A comment on the negotiating text is longer than 4096 bytes.
    #[error("comment longer than {MAX_COMMENT_LEN} bytes")]
    CommentTooLong,
    /// A version of the negotiating text numbered 0 (versions count from 1).
    #[error("versions of the text are numbered from 1")]
    ZeroVersion,
    /// A comment on paragraph 0 (paragraphs count from 1).
    #[error("paragraphs are numbered from 1")]
    ZeroParagraph,
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
    /// A version of the negotiating text that is cut short, numbered 0, or whose text is
    /// empty, too long or not UTF-8.
    #[error("invalid version of the negotiating text")]
    InvalidTextVersion,
    /// A comment on the negotiating text that is cut short, has a version or paragraph 0, or
    /// whose text is empty, too long or not UTF-8.
    #[error("invalid comment on the negotiating text")]
    InvalidTextComment,
    /// A notice of an exported record with a body (it has none).
    #[error("invalid notice of an exported record")]
    InvalidRecordExported,
    /// A version of the negotiating text as a document that is cut short, numbered 0, or
    /// whose reference is invalid.
    #[error("invalid version of the negotiating text shared as a document")]
    InvalidTextVersionDocument,
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
            Payload::TextVersion {
                sent_at_ms,
                number,
                previous,
                text,
            } => f
                .debug_struct("TextVersion")
                .field("sent_at_ms", sent_at_ms)
                .field("number", number)
                .field("previous", previous)
                .field("text", text)
                .finish(),
            Payload::TextComment {
                sent_at_ms,
                version,
                para,
                text,
            } => f
                .debug_struct("TextComment")
                .field("sent_at_ms", sent_at_ms)
                .field("version", version)
                .field("para", para)
                .field("text", text)
                .finish(),
            Payload::RecordExported { sent_at_ms } => f
                .debug_struct("RecordExported")
                .field("sent_at_ms", sent_at_ms)
                .finish(),
            // The reference's own Debug leaves its key out.
            Payload::TextVersionDocument {
                sent_at_ms,
                number,
                previous,
                reference,
            } => f
                .debug_struct("TextVersionDocument")
                .field("sent_at_ms", sent_at_ms)
                .field("number", number)
                .field("previous", previous)
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
            | Payload::TextVersion { sent_at_ms, .. }
            | Payload::TextComment { sent_at_ms, .. }
            | Payload::RecordExported { sent_at_ms }
            | Payload::TextVersionDocument { sent_at_ms, .. }
            | Payload::Unknown { sent_at_ms, .. } => *sent_at_ms,
        }
    }

    /// Encodes the payload.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        let encoded_reference;
        let encoded_body;
        let (kind, sent_at_ms, body) = match self {
            Payload::Text { sent_at_ms, text } => {
                check_text(text, MAX_TEXT_LEN, EncodeError::TextTooLong)?;
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
            Payload::TextVersion {
                sent_at_ms,
                number,
                previous,
                text,
            } => {
                if *number == 0 {
                    return Err(EncodeError::ZeroVersion);
                }
                check_text(text, MAX_TEXT_LEN, EncodeError::TextTooLong)?;
                encoded_body = [&number.to_be_bytes()[..], previous, text.as_bytes()].concat();
                (KIND_TEXT_VERSION, *sent_at_ms, encoded_body.as_slice())
            }
            Payload::TextComment {
                sent_at_ms,
                version,
                para,
                text,
            } => {
                if *version == 0 {
                    return Err(EncodeError::ZeroVersion);
                }
                if *para == 0 {
                    return Err(EncodeError::ZeroParagraph);
                }
                check_text(text, MAX_COMMENT_LEN, EncodeError::CommentTooLong)?;
                encoded_body = [
                    &version.to_be_bytes()[..],
                    &para.to_be_bytes(),
                    text.as_bytes(),
                ]
                .concat();
                (KIND_TEXT_COMMENT, *sent_at_ms, encoded_body.as_slice())
            }
            Payload::RecordExported { sent_at_ms } => (KIND_RECORD_EXPORTED, *sent_at_ms, &[][..]),
            Payload::TextVersionDocument {
                sent_at_ms,
                number,
                previous,
                reference,
            } => {
                if *number == 0 {
                    return Err(EncodeError::ZeroVersion);
                }
                let reference =
                    zeroize::Zeroizing::new(reference.encode().map_err(EncodeError::Document)?);
                encoded_reference = zeroize::Zeroizing::new(
                    [&number.to_be_bytes()[..], previous, reference.as_slice()].concat(),
                );
                (
                    KIND_TEXT_VERSION_DOCUMENT,
                    *sent_at_ms,
                    encoded_reference.as_slice(),
                )
            }
            Payload::Unknown {
                kind,
                sent_at_ms,
                body,
            } => {
                if KNOWN_KINDS.contains(kind) {
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
        match kind {
            KIND_TEXT => Ok(Payload::Text {
                sent_at_ms,
                text: read_text(body, MAX_TEXT_LEN).ok_or(DecodeError::InvalidText)?,
            }),
            KIND_DOCUMENT => {
                let reference =
                    DocumentReference::decode(body).map_err(DecodeError::InvalidDocument)?;
                Ok(Payload::Document {
                    sent_at_ms,
                    reference,
                })
            }
            KIND_TEXT_VERSION => {
                let invalid = DecodeError::InvalidTextVersion;
                let (number, rest) = body.split_first_chunk::<4>().ok_or(invalid.clone())?;
                let (previous, text) = rest.split_first_chunk::<32>().ok_or(invalid.clone())?;
                let number = u32::from_be_bytes(*number);
                if number == 0 {
                    return Err(invalid);
                }
                Ok(Payload::TextVersion {
                    sent_at_ms,
                    number,
                    previous: *previous,
                    text: read_text(text, MAX_TEXT_LEN).ok_or(invalid)?,
                })
            }
            KIND_TEXT_COMMENT => {
                let invalid = DecodeError::InvalidTextComment;
                let (version, rest) = body.split_first_chunk::<4>().ok_or(invalid.clone())?;
                let (para, text) = rest.split_first_chunk::<4>().ok_or(invalid.clone())?;
                let version = u32::from_be_bytes(*version);
                let para = u32::from_be_bytes(*para);
                if version == 0 || para == 0 {
                    return Err(invalid);
                }
                Ok(Payload::TextComment {
                    sent_at_ms,
                    version,
                    para,
                    text: read_text(text, MAX_COMMENT_LEN).ok_or(invalid)?,
                })
            }
            KIND_RECORD_EXPORTED => {
                // Anything after the header would be lost on re-encoding: refused, so the
                // format stays canonical.
                if !body.is_empty() {
                    return Err(DecodeError::InvalidRecordExported);
                }
                Ok(Payload::RecordExported { sent_at_ms })
            }
            KIND_TEXT_VERSION_DOCUMENT => {
                let invalid = DecodeError::InvalidTextVersionDocument;
                let (number, rest) = body.split_first_chunk::<4>().ok_or(invalid.clone())?;
                let (previous, reference) =
                    rest.split_first_chunk::<32>().ok_or(invalid.clone())?;
                let number = u32::from_be_bytes(*number);
                if number == 0 {
                    return Err(invalid);
                }
                Ok(Payload::TextVersionDocument {
                    sent_at_ms,
                    number,
                    previous: *previous,
                    reference: DocumentReference::decode(reference).map_err(|_| invalid)?,
                })
            }
            _ => Ok(Payload::Unknown {
                kind,
                sent_at_ms,
                body: body.to_vec(),
            }),
        }
    }
}

fn check_text(text: &str, max: usize, too_long: EncodeError) -> Result<(), EncodeError> {
    if text.is_empty() {
        return Err(EncodeError::EmptyText);
    }
    if text.len() > max {
        return Err(too_long);
    }
    Ok(())
}

// The text of a text-bearing kind: 1..=max bytes of UTF-8, running to the end of the body.
fn read_text(body: &[u8], max: usize) -> Option<String> {
    if body.is_empty() || body.len() > max {
        return None;
    }
    std::str::from_utf8(body).ok().map(str::to_owned)
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

    #[test]
    fn text_version_layout_and_round_trip() {
        let p = Payload::TextVersion {
            sent_at_ms: 0x0102,
            number: 0x0304,
            previous: [0xee; 32],
            text: "Article 1".into(),
        };
        let bytes = p.encode().unwrap();
        let mut expected = vec![1, KIND_TEXT_VERSION, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 3, 4];
        expected.extend_from_slice(&[0xee; 32]);
        expected.extend_from_slice(b"Article 1");
        assert_eq!(bytes, expected);
        let back = Payload::decode(&bytes).unwrap();
        assert!(matches!(
            &back,
            Payload::TextVersion { sent_at_ms: 0x0102, number: 0x0304, previous, text }
                if previous == &[0xee; 32] && text == "Article 1"
        ));
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(back.sent_at_ms(), 0x0102);
        let max = Payload::TextVersion {
            sent_at_ms: 0,
            number: u32::MAX,
            previous: [0; 32],
            text: "a".repeat(MAX_TEXT_LEN),
        };
        let encoded = max.encode().unwrap();
        assert_eq!(
            Payload::decode(&encoded).unwrap().encode().unwrap(),
            encoded
        );
    }

    #[test]
    fn text_version_limits() {
        let version = |number: u32, text: String| Payload::TextVersion {
            sent_at_ms: 0,
            number,
            previous: [0; 32],
            text,
        };
        assert_eq!(
            version(0, "a".into()).encode(),
            Err(EncodeError::ZeroVersion)
        );
        assert_eq!(
            version(1, String::new()).encode(),
            Err(EncodeError::EmptyText)
        );
        assert_eq!(
            version(1, "a".repeat(MAX_TEXT_LEN + 1)).encode(),
            Err(EncodeError::TextTooLong)
        );
        let good = version(1, "ab".into()).encode().unwrap();
        let invalid = Some(DecodeError::InvalidTextVersion);
        // Cut anywhere inside the number, the previous version or before any text.
        for len in 10..good.len() - 1 {
            assert_eq!(Payload::decode(&good[..len]).err(), invalid, "{len}");
        }
        let mut zero = good.clone();
        zero[13] = 0;
        assert_eq!(Payload::decode(&zero).err(), invalid);
        let mut not_utf8 = good.clone();
        not_utf8.push(0xc3);
        assert_eq!(Payload::decode(&not_utf8).err(), invalid);
        let mut too_long = good[..46].to_vec();
        too_long.resize(46 + MAX_TEXT_LEN + 1, b'a');
        assert_eq!(Payload::decode(&too_long).err(), invalid);
    }

    #[test]
    fn text_comment_layout_and_round_trip() {
        let p = Payload::TextComment {
            sent_at_ms: 7,
            version: 2,
            para: 0x0105,
            text: "no".into(),
        };
        let bytes = p.encode().unwrap();
        assert_eq!(
            bytes,
            [
                1,
                KIND_TEXT_COMMENT,
                0,
                0,
                0,
                0,
                0,
                0,
                0,
                7,
                0,
                0,
                0,
                2,
                0,
                0,
                1,
                5,
                b'n',
                b'o'
            ]
        );
        let back = Payload::decode(&bytes).unwrap();
        assert!(matches!(
            &back,
            Payload::TextComment { sent_at_ms: 7, version: 2, para: 0x0105, text } if text == "no"
        ));
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(back.sent_at_ms(), 7);
        let max = Payload::TextComment {
            sent_at_ms: 0,
            version: 1,
            para: 1,
            text: "a".repeat(MAX_COMMENT_LEN),
        };
        let encoded = max.encode().unwrap();
        assert_eq!(
            Payload::decode(&encoded).unwrap().encode().unwrap(),
            encoded
        );
    }

    #[test]
    fn text_comment_limits() {
        let comment = |version: u32, para: u32, text: String| Payload::TextComment {
            sent_at_ms: 0,
            version,
            para,
            text,
        };
        assert_eq!(
            comment(0, 1, "a".into()).encode(),
            Err(EncodeError::ZeroVersion)
        );
        assert_eq!(
            comment(1, 0, "a".into()).encode(),
            Err(EncodeError::ZeroParagraph)
        );
        assert_eq!(
            comment(1, 1, String::new()).encode(),
            Err(EncodeError::EmptyText)
        );
        assert_eq!(
            comment(1, 1, "a".repeat(MAX_COMMENT_LEN + 1)).encode(),
            Err(EncodeError::CommentTooLong)
        );
        let good = comment(1, 1, "ab".into()).encode().unwrap();
        let invalid = Some(DecodeError::InvalidTextComment);
        for len in 10..good.len() - 1 {
            assert_eq!(Payload::decode(&good[..len]).err(), invalid, "{len}");
        }
        let mut zero_version = good.clone();
        zero_version[13] = 0;
        assert_eq!(Payload::decode(&zero_version).err(), invalid);
        let mut zero_para = good.clone();
        zero_para[17] = 0;
        assert_eq!(Payload::decode(&zero_para).err(), invalid);
        let mut not_utf8 = good.clone();
        not_utf8.push(0xc3);
        assert_eq!(Payload::decode(&not_utf8).err(), invalid);
        let mut too_long = good[..18].to_vec();
        too_long.resize(18 + MAX_COMMENT_LEN + 1, b'a');
        assert_eq!(Payload::decode(&too_long).err(), invalid);
    }

    #[test]
    fn record_exported_has_no_body() {
        let p = Payload::RecordExported { sent_at_ms: 3 };
        let bytes = p.encode().unwrap();
        assert_eq!(bytes, [1, KIND_RECORD_EXPORTED, 0, 0, 0, 0, 0, 0, 0, 3]);
        let back = Payload::decode(&bytes).unwrap();
        assert!(matches!(back, Payload::RecordExported { sent_at_ms: 3 }));
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(back.sent_at_ms(), 3);
        assert_eq!(format!("{back:?}"), "RecordExported { sent_at_ms: 3 }");
        let mut with_body = bytes.clone();
        with_body.push(0);
        assert_eq!(
            Payload::decode(&with_body).err(),
            Some(DecodeError::InvalidRecordExported)
        );
    }

    #[test]
    fn workshop_kinds_are_not_unknown() {
        for kind in [
            KIND_TEXT_VERSION,
            KIND_TEXT_COMMENT,
            KIND_RECORD_EXPORTED,
            KIND_TEXT_VERSION_DOCUMENT,
        ] {
            let reserved = Payload::Unknown {
                kind,
                sent_at_ms: 0,
                body: vec![],
            };
            assert_eq!(reserved.encode(), Err(EncodeError::ReservedKind(kind)));
        }
        let next = Payload::Unknown {
            kind: KIND_TEXT_VERSION_DOCUMENT + 1,
            sent_at_ms: 0,
            body: vec![1],
        };
        let bytes = next.encode().unwrap();
        assert!(matches!(
            Payload::decode(&bytes).unwrap(),
            Payload::Unknown { kind: 7, .. }
        ));
    }

    #[test]
    fn a_text_version_as_a_document_round_trips_and_refuses_the_rest() {
        use crate::document::{BlobId, DocumentKey};
        let version = |number: u32| Payload::TextVersionDocument {
            sent_at_ms: 4,
            number,
            previous: [6; 32],
            reference: DocumentReference {
                blob_id: BlobId::from_bytes([1; 32]),
                key: DocumentKey::from_bytes([0xab; 32]),
                sha256: [3; 32],
                size: 100_000,
                name: "text-v2.txt".into(),
                media_type: "text/plain".into(),
            },
        };
        assert_eq!(version(0).encode().err(), Some(EncodeError::ZeroVersion));
        let bytes = version(2).encode().unwrap();
        assert_eq!(bytes[1], KIND_TEXT_VERSION_DOCUMENT);
        assert_eq!(&bytes[10..14], &[0, 0, 0, 2]);
        assert_eq!(&bytes[14..46], &[6; 32]);
        let back = Payload::decode(&bytes).unwrap();
        assert_eq!(back.encode().unwrap(), bytes);
        assert_eq!(back.sent_at_ms(), 4);
        assert!(
            !format!("{back:?}").contains("171"),
            "the key stays out of Debug"
        );
        let invalid = Some(DecodeError::InvalidTextVersionDocument);
        for len in 10..bytes.len() {
            assert_eq!(Payload::decode(&bytes[..len]).err(), invalid, "{len}");
        }
        let mut zero = bytes.clone();
        zero[13] = 0;
        assert_eq!(Payload::decode(&zero).err(), invalid);
    }
}
