//! Messages as the application sees them.

use crate::store::records::{HistoryEntry, StoredBody};
use crate::verification::Verification;

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The local name of the conversation.
    pub conversation: String,
    /// The sender's handle.
    pub sender: String,
    /// The text, or a placeholder for content this version cannot show.
    pub text: String,
    /// When the sender says it was sent (milliseconds since the Unix epoch).
    pub sent_at_ms: u64,
    /// The content by kind.
    pub body: MessageBody,
    /// The sender's status now (not when the message arrived); our own messages are verified.
    pub sender_status: Verification,
    /// Whether the sender's identity key is verified (`sender_status` is VERIFIED).
    pub verified: bool,
}

/// The content of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageBody {
    /// A text message.
    Text(String),
    /// A kind of content this version does not understand (shown, never dropped).
    Unsupported {
        /// The payload kind byte.
        kind: u8,
    },
}

impl Message {
    pub(crate) fn from_entry(
        conversation: &str,
        entry: HistoryEntry,
        sender_status: Verification,
    ) -> Message {
        let (text, body) = match entry.body {
            StoredBody::Text(text) => (text.clone(), MessageBody::Text(text)),
            StoredBody::Unsupported { kind } => (
                format!("[a message of a kind this version cannot show ({kind})]"),
                MessageBody::Unsupported { kind },
            ),
        };
        Message {
            conversation: conversation.to_owned(),
            sender: entry.sender,
            text,
            sent_at_ms: entry.sent_at_ms,
            body,
            sender_status,
            verified: sender_status == Verification::Verified,
        }
    }
}
