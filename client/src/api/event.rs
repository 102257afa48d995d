//! What a sync or the event stream reports.

use crate::api::alert::Alert;
use crate::api::conversation::ConversationId;
use crate::api::message::Message;

/// Something that happened, as reported by [`crate::Client::events`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Event {
    /// A new entry: a message, or a change of members (see [`crate::MessageBody`]).
    Message(Message),
    /// We joined a conversation, or its members changed: members are worth loading again.
    MembershipChanged {
        /// The conversation.
        conversation: ConversationId,
    },
    /// Something security-relevant happened.
    Alert(Alert),
}

/// Everything one [`crate::Client::sync`] processed, in processing order.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SyncReport {
    /// New entries: messages and changes of members (each reported once, by a sync or the
    /// event stream).
    pub messages: Vec<Message>,
    /// Conversations whose members changed (joined, added, removed), each once.
    pub membership_changed: Vec<ConversationId>,
    /// Alerts raised.
    pub alerts: Vec<Alert>,
}

impl SyncReport {
    /// The entries that are messages someone wrote (not changes of members).
    pub fn written(&self) -> impl Iterator<Item = &Message> {
        self.messages.iter().filter(|m| !m.body.is_membership())
    }

    /// Whether nothing at all happened.
    pub fn is_empty(&self) -> bool {
        self.messages.is_empty() && self.membership_changed.is_empty() && self.alerts.is_empty()
    }

    pub(crate) fn from_events(events: Vec<Event>) -> SyncReport {
        let mut report = SyncReport::default();
        for event in events {
            match event {
                Event::Message(message) => report.messages.push(message),
                Event::MembershipChanged { conversation } => {
                    if !report.membership_changed.contains(&conversation) {
                        report.membership_changed.push(conversation);
                    }
                }
                Event::Alert(alert) => report.alerts.push(alert),
            }
        }
        report
    }
}
