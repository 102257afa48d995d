//! The outbox: messages written while the relay could not be reached, kept (encrypted in the
//! store) until they are sent.

use serde::{Deserialize, Serialize};

use crate::api::conversation::ConversationId;
use crate::api::message::Message;

/// A message waiting in the outbox, as listed by [`crate::Client::outbox`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct QueuedMessage {
    /// Its place in the outbox (for [`crate::Client::cancel_queued`]); earlier ones are sent
    /// first.
    pub id: u64,
    /// Where it goes.
    pub conversation: ConversationId,
    /// The conversation's local name, as [`crate::ConversationInfo::name`] shows it.
    pub conversation_name: String,
    /// What was written.
    pub text: String,
    /// When it was written (milliseconds since the Unix epoch).
    pub queued_at_ms: u64,
    /// Why it could not be sent for a reason other than the network (a key changed, the
    /// conversation was closed, ...). Such a message is kept, never retried by itself: the
    /// user decides (send it again after fixing the cause, or cancel it).
    pub failed: Option<String>,
}

/// What became of a message given to [`crate::Client::send_or_queue`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum SendOutcome {
    /// It was sent (and stored in the history).
    Sent(Message),
    /// The relay could not be reached: it waits in the outbox, behind any older ones.
    Queued(QueuedMessage),
}

/// What one [`crate::Client::flush_outbox`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OutboxReport {
    /// Messages sent, in the order they were written.
    pub sent: Vec<Message>,
    /// Messages that failed for a reason other than the network (kept, not retried).
    pub failed: Vec<QueuedMessage>,
    /// Messages still waiting for the relay.
    pub waiting: usize,
}
