//! Inbox messages: what a sealed envelope carries, versioned and kind-tagged.
//!
//! `0x01 | u8 kind | body`; kind 1 (Welcome) has body
//! `u8 len | conversation_name (UTF-8, 1..=64 bytes) | u32 BE len | mls_welcome`.
//! Unknown kinds decode to [`InboxMessage::Unknown`] so that a newer peer's messages are
//! surfaced to the user instead of silently dropped.

/// Version byte of the inbox message format.
pub const INBOX_MESSAGE_VERSION_V1: u8 = 0x01;
/// Kind byte of a Welcome.
pub const KIND_WELCOME: u8 = 1;
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
                if !check_name(conversation_name) {
                    return Err(EncodeError::NameLength);
                }
                let name_len =
                    u8::try_from(conversation_name.len()).map_err(|_| EncodeError::NameLength)?;
                let welcome_len =
                    u32::try_from(welcome.len()).map_err(|_| EncodeError::WelcomeTooLarge)?;
                let mut out = Vec::with_capacity(7 + conversation_name.len() + welcome.len());
                out.push(INBOX_MESSAGE_VERSION_V1);
                out.push(KIND_WELCOME);
                out.push(name_len);
                out.extend_from_slice(conversation_name.as_bytes());
                out.extend_from_slice(&welcome_len.to_be_bytes());
                out.extend_from_slice(welcome);
                Ok(out)
            }
            InboxMessage::Unknown { kind, body } => {
                if *kind == KIND_WELCOME {
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
        if kind != KIND_WELCOME {
            return Ok(InboxMessage::Unknown {
                kind,
                body: body.to_vec(),
            });
        }
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
        let welcome_len = usize::try_from(u32::from_be_bytes(*welcome_len))
            .map_err(|_| DecodeError::Truncated)?;
        let (welcome, rest) = rest
            .split_at_checked(welcome_len)
            .ok_or(DecodeError::Truncated)?;
        if !rest.is_empty() {
            return Err(DecodeError::TrailingBytes);
        }
        Ok(InboxMessage::Welcome {
            conversation_name: name.to_owned(),
            welcome: welcome.to_vec(),
        })
    }
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
}
