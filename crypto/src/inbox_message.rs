//! Inbox messages: what a sealed envelope carries, versioned and kind-tagged.
//!
//! `0x01 | u8 kind | body`; kind 1 (Welcome) has body
//! `u8 len | conversation_name (UTF-8, 1..=64 bytes) | u32 BE len | mls_welcome`; kind 2
//! (Welcome with records) has the same body followed by
//! `u16 BE count | (u16 BE len | signed directory record)*`: the records the inviter holds
//! of the group's other members, so that the invitee can check them against the Welcome's
//! leaves without asking the directory (which would tell the relay whom it now talks to).
//! Unknown kinds decode to [`InboxMessage::Unknown`] so that a newer peer's messages are
//! surfaced to the user instead of silently dropped.

/// Version byte of the inbox message format.
pub const INBOX_MESSAGE_VERSION_V1: u8 = 0x01;
/// Kind byte of a Welcome.
pub const KIND_WELCOME: u8 = 1;
/// Kind byte of a Welcome with the members' directory records.
pub const KIND_WELCOME_WITH_RECORDS: u8 = 2;
/// Most member records one Welcome carries.
pub const MAX_MEMBER_RECORDS: usize = 1024;
/// Longest conversation name, in bytes.
pub const MAX_CONVERSATION_NAME_LEN: usize = 64;

/// A message delivered through an inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InboxMessage {
    /// An invitation into an MLS group.
    Welcome {
        /// The name the group's creator gave the conversation (1..=64 UTF-8 bytes).
        conversation_name: String,
        /// TLS-serialized MLS `MlsMessageOut` carrying the Welcome.
        welcome: Vec<u8>,
    },
    /// An invitation into an MLS group, with the inviter's records of the other members.
    WelcomeWithRecords {
        /// The name the group's creator gave the conversation (1..=64 UTF-8 bytes).
        conversation_name: String,
        /// TLS-serialized MLS `MlsMessageOut` carrying the Welcome.
        welcome: Vec<u8>,
        /// Signed directory records of members, as the inviter pinned them (unverified
        /// here: the recipient verifies each and compares it with the Welcome's leaves).
        member_records: Vec<Vec<u8>>,
    },
    /// A kind this version does not understand.
    Unknown {
        /// The kind byte.
        kind: u8,
        /// The raw body after the kind byte.
        body: Vec<u8>,
    },
}

/// Why an inbox message could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The conversation name is empty or longer than 64 bytes.
    #[error("conversation name must be 1 to {MAX_CONVERSATION_NAME_LEN} bytes")]
    NameLength,
    /// The Welcome does not fit a u32 length.
    #[error("welcome too large")]
    WelcomeTooLarge,
    /// More than [`MAX_MEMBER_RECORDS`] records, or one longer than a u16 length.
    #[error("too many or too large member records")]
    RecordsTooLarge,
    /// `Unknown` was given a kind this version defines, which would not decode back to it.
    #[error("kind {0} is a known kind and cannot be encoded as unknown")]
    ReservedKind(u8),
}

/// Why bytes are not a valid inbox message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The bytes end before the message does.
    #[error("inbox message truncated")]
    Truncated,
    /// The version byte is not one this code understands.
    #[error("unknown inbox message version {0}")]
    UnknownVersion(u8),
    /// The conversation name is empty, longer than 64 bytes or not UTF-8.
    #[error("invalid conversation name")]
    InvalidName,
    /// Bytes follow the message.
    #[error("trailing bytes after the inbox message")]
    TrailingBytes,
    /// More member records than [`MAX_MEMBER_RECORDS`].
    #[error("too many member records")]
    TooManyRecords,
}

fn check_name(name: &str) -> bool {
    (1..=MAX_CONVERSATION_NAME_LEN).contains(&name.len())
}

impl InboxMessage {
    /// Encodes the message.
    pub fn encode(&self) -> Result<Vec<u8>, EncodeError> {
        match self {
            InboxMessage::Welcome {
                conversation_name,
                welcome,
            } => {
                let mut out = vec![INBOX_MESSAGE_VERSION_V1, KIND_WELCOME];
                encode_welcome(&mut out, conversation_name, welcome)?;
                Ok(out)
            }
            InboxMessage::WelcomeWithRecords {
                conversation_name,
                welcome,
                member_records,
            } => {
                let mut out = vec![INBOX_MESSAGE_VERSION_V1, KIND_WELCOME_WITH_RECORDS];
                encode_welcome(&mut out, conversation_name, welcome)?;
                if member_records.len() > MAX_MEMBER_RECORDS {
                    return Err(EncodeError::RecordsTooLarge);
                }
                let count = u16::try_from(member_records.len())
                    .map_err(|_| EncodeError::RecordsTooLarge)?;
                out.extend_from_slice(&count.to_be_bytes());
                for record in member_records {
                    let len =
                        u16::try_from(record.len()).map_err(|_| EncodeError::RecordsTooLarge)?;
                    out.extend_from_slice(&len.to_be_bytes());
                    out.extend_from_slice(record);
                }
                Ok(out)
            }
            InboxMessage::Unknown { kind, body } => {
                if *kind == KIND_WELCOME || *kind == KIND_WELCOME_WITH_RECORDS {
                    return Err(EncodeError::ReservedKind(*kind));
                }
                let mut out = Vec::with_capacity(2 + body.len());
                out.push(INBOX_MESSAGE_VERSION_V1);
                out.push(*kind);
                out.extend_from_slice(body);
                Ok(out)
            }
        }
    }

    /// Decodes a message from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let (&version, rest) = bytes.split_first().ok_or(DecodeError::Truncated)?;
        if version != INBOX_MESSAGE_VERSION_V1 {
            return Err(DecodeError::UnknownVersion(version));
        }
        let (&kind, body) = rest.split_first().ok_or(DecodeError::Truncated)?;
        match kind {
            KIND_WELCOME => {
                let (conversation_name, welcome, rest) = decode_welcome(body)?;
                if !rest.is_empty() {
                    return Err(DecodeError::TrailingBytes);
                }
                Ok(InboxMessage::Welcome {
                    conversation_name,
                    welcome,
                })
            }
            KIND_WELCOME_WITH_RECORDS => {
                let (conversation_name, welcome, rest) = decode_welcome(body)?;
                let (count, mut rest) = rest
                    .split_first_chunk::<2>()
                    .ok_or(DecodeError::Truncated)?;
                let count = usize::from(u16::from_be_bytes(*count));
                if count > MAX_MEMBER_RECORDS {
                    return Err(DecodeError::TooManyRecords);
                }
                let mut member_records = Vec::with_capacity(count);
                for _ in 0..count {
                    let (len, after) = rest
                        .split_first_chunk::<2>()
                        .ok_or(DecodeError::Truncated)?;
                    let (record, after) = after
                        .split_at_checked(usize::from(u16::from_be_bytes(*len)))
                        .ok_or(DecodeError::Truncated)?;
                    member_records.push(record.to_vec());
                    rest = after;
                }
                if !rest.is_empty() {
                    return Err(DecodeError::TrailingBytes);
                }
                Ok(InboxMessage::WelcomeWithRecords {
                    conversation_name,
                    welcome,
                    member_records,
                })
            }
            kind => Ok(InboxMessage::Unknown {
                kind,
                body: body.to_vec(),
            }),
        }
    }
}

/// Appends `u8 len | name | u32 BE len | welcome`.
fn encode_welcome(out: &mut Vec<u8>, name: &str, welcome: &[u8]) -> Result<(), EncodeError> {
    if !check_name(name) {
        return Err(EncodeError::NameLength);
    }
    let name_len = u8::try_from(name.len()).map_err(|_| EncodeError::NameLength)?;
    let welcome_len = u32::try_from(welcome.len()).map_err(|_| EncodeError::WelcomeTooLarge)?;
    out.reserve(5 + name.len() + welcome.len());
    out.push(name_len);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(&welcome_len.to_be_bytes());
    out.extend_from_slice(welcome);
    Ok(())
}

/// Reads `u8 len | name | u32 BE len | welcome`; returns them and what follows.
fn decode_welcome(body: &[u8]) -> Result<(String, Vec<u8>, &[u8]), DecodeError> {
    let (&name_len, rest) = body.split_first().ok_or(DecodeError::Truncated)?;
    let (name, rest) = rest
        .split_at_checked(usize::from(name_len))
        .ok_or(DecodeError::Truncated)?;
    let name = std::str::from_utf8(name).map_err(|_| DecodeError::InvalidName)?;
    if !check_name(name) {
        return Err(DecodeError::InvalidName);
    }
    let (welcome_len, rest) = rest
        .split_first_chunk::<4>()
        .ok_or(DecodeError::Truncated)?;
    let welcome_len =
        usize::try_from(u32::from_be_bytes(*welcome_len)).map_err(|_| DecodeError::Truncated)?;
    let (welcome, rest) = rest
        .split_at_checked(welcome_len)
        .ok_or(DecodeError::Truncated)?;
    Ok((name.to_owned(), welcome.to_vec(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn welcome() -> InboxMessage {
        InboxMessage::Welcome {
            conversation_name: "team".into(),
            welcome: vec![1, 2, 3],
        }
    }

    #[test]
    fn welcome_layout_and_round_trip() {
        let bytes = welcome().encode().unwrap();
        assert_eq!(
            bytes,
            [1, 1, 4, b't', b'e', b'a', b'm', 0, 0, 0, 3, 1, 2, 3]
        );
        assert_eq!(InboxMessage::decode(&bytes).unwrap(), welcome());
    }

    #[test]
    fn unknown_kinds_are_kept() {
        let msg = InboxMessage::decode(&[1, 9, 5, 6]).unwrap();
        assert_eq!(
            msg,
            InboxMessage::Unknown {
                kind: 9,
                body: vec![5, 6]
            }
        );
        assert_eq!(msg.encode().unwrap(), [1, 9, 5, 6]);
        let reserved = InboxMessage::Unknown {
            kind: KIND_WELCOME,
            body: vec![],
        };
        assert_eq!(reserved.encode(), Err(EncodeError::ReservedKind(1)));
    }

    #[test]
    fn rejects_malformed() {
        let bytes = welcome().encode().unwrap();
        assert_eq!(InboxMessage::decode(&[]), Err(DecodeError::Truncated));
        assert_eq!(
            InboxMessage::decode(&[2, 1]),
            Err(DecodeError::UnknownVersion(2))
        );
        for cut in 1..bytes.len() {
            assert_eq!(
                InboxMessage::decode(&bytes[..cut]),
                Err(DecodeError::Truncated),
                "cut at {cut}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            InboxMessage::decode(&trailing),
            Err(DecodeError::TrailingBytes)
        );
        assert_eq!(
            InboxMessage::decode(&[1, 1, 0, 0, 0, 0, 0]),
            Err(DecodeError::InvalidName)
        );
        assert_eq!(
            InboxMessage::decode(&[1, 1, 1, 0xff, 0, 0, 0, 0]),
            Err(DecodeError::InvalidName)
        );
        let mut long = vec![1, 1, 65];
        long.extend_from_slice(&[b'a'; 65]);
        long.extend_from_slice(&[0, 0, 0, 0]);
        assert_eq!(InboxMessage::decode(&long), Err(DecodeError::InvalidName));
    }

    #[test]
    fn encode_rejects_bad_names() {
        for name in [String::new(), "x".repeat(65)] {
            let msg = InboxMessage::Welcome {
                conversation_name: name,
                welcome: vec![],
            };
            assert_eq!(msg.encode(), Err(EncodeError::NameLength));
        }
    }

    #[test]
    fn a_welcome_with_records_round_trips_and_rejects_bad_counts() {
        let message = InboxMessage::WelcomeWithRecords {
            conversation_name: "team".into(),
            welcome: vec![1, 2, 3],
            member_records: vec![b"carol".to_vec(), Vec::new()],
        };
        let bytes = message.encode().unwrap();
        assert_eq!(
            bytes,
            [
                1, 2, 4, b't', b'e', b'a', b'm', 0, 0, 0, 3, 1, 2, 3, 0, 2, 0, 5, b'c', b'a', b'r',
                b'o', b'l', 0, 0
            ]
        );
        assert_eq!(InboxMessage::decode(&bytes).unwrap(), message);
        for cut in 2..bytes.len() {
            assert!(InboxMessage::decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            InboxMessage::decode(&trailing),
            Err(DecodeError::TrailingBytes)
        );
        let mut too_many = bytes[..14].to_vec();
        too_many.extend_from_slice(&u16::MAX.to_be_bytes());
        assert_eq!(
            InboxMessage::decode(&too_many),
            Err(DecodeError::TooManyRecords)
        );
        let reserved = InboxMessage::Unknown {
            kind: KIND_WELCOME_WITH_RECORDS,
            body: vec![],
        };
        assert_eq!(reserved.encode(), Err(EncodeError::ReservedKind(2)));
    }
}
