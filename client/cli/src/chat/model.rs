//! What the chat keeps of the library's answers: only what it shows, in its own small types,
//! so that the chat's rules can be tested with values a test writes by hand.

use parley_client::{
    Alert, ConversationId, ConversationInfo, ConversationKind, ConversationState, DocumentInfo,
    Event, Handle, MemberInfo, Message, MessageBody, MessageId, Retention, Verification,
};

use crate::message_view;

/// One line of a conversation: a message, or a change of members.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Which stored entry (to mark it read).
    pub(crate) id: MessageId,
    /// The conversation it belongs to.
    pub(crate) conversation: ConversationId,
    /// That conversation's local name.
    pub(crate) conversation_name: String,
    /// Who wrote it, or made the change; in a plenary under the Chatham House rule, the
    /// side or role it is kept under.
    pub(crate) sender: String,
    /// Kept under a side or role, not a person: no status to show, as nobody in particular
    /// vouches for it.
    pub(crate) attributed: bool,
    /// What it says, in words (for a change of members: "added erin to team").
    pub(crate) text: String,
    /// When it was sent (ms since 1970, sender's clock).
    pub(crate) sent_at_ms: u64,
    /// The sender's status.
    pub(crate) status: Verification,
    /// A change of members rather than a message.
    pub(crate) membership: bool,
    /// The document it shares, if it shares one (its text is then the one line `read`
    /// shows for it). Boxed: most entries share none, and every entry carries the field.
    pub(crate) document: Option<Box<DocumentInfo>>,
}

impl Entry {
    /// The chat's view of a library message, worded for `me`.
    pub(crate) fn of(message: &Message, me: &Handle) -> Entry {
        let text = if message.body.is_membership() {
            message_view::membership_text(message, me)
        } else {
            message_view::text(message, me)
        };
        Entry {
            id: message.id,
            conversation: message.conversation.clone(),
            conversation_name: message.conversation_name.clone(),
            sender: message.sender.to_string(),
            attributed: message.sender.handle().is_none(),
            text,
            sent_at_ms: message.sent_at_ms,
            status: message.sender_status,
            membership: message.body.is_membership(),
            document: match &message.body {
                MessageBody::Document(document) => Some(Box::new(document.clone())),
                _ => None,
            },
        }
    }
}

/// A member as the members pane shows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Member {
    /// Their handle.
    pub(crate) handle: String,
    /// How far their key is trusted.
    pub(crate) status: Verification,
}

impl From<&MemberInfo> for Member {
    fn from(info: &MemberInfo) -> Member {
        Member {
            handle: info.handle.to_string(),
            status: info.status,
        }
    }
}

/// A conversation as the list shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Room {
    /// Which conversation.
    pub(crate) id: ConversationId,
    /// Its local name.
    pub(crate) name: String,
    /// A group rather than a 1:1.
    pub(crate) group: bool,
    /// Whether the person may write in it.
    pub(crate) posting: Posting,
    /// How long its messages live, as its members agreed.
    pub(crate) retention: Retention,
}

impl From<&ConversationInfo> for Room {
    fn from(info: &ConversationInfo) -> Room {
        Room {
            id: info.id.clone(),
            name: info.name.clone(),
            group: info.kind == ConversationKind::Group,
            posting: Posting::of(info.state),
            retention: info.retention,
        }
    }
}

/// Whether the person may write in a conversation; the chat offers a compose box only where
/// they may.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Posting {
    /// They may.
    Open,
    /// They were removed from the group.
    Removed,
    /// A 1:1 with a key they no longer use.
    Retired,
    /// Read-only for a reason this version does not know.
    Closed,
}

impl Posting {
    /// The chat's view of the library's state.
    pub(crate) fn of(state: ConversationState) -> Posting {
        match state {
            ConversationState::Active => Posting::Open,
            ConversationState::Removed => Posting::Removed,
            ConversationState::Retired => Posting::Retired,
            // Whatever a later library adds, the question that matters is answered there.
            other if other.can_post() => Posting::Open,
            _ => Posting::Closed,
        }
    }

    /// Why there is no compose box, in one line; None where the person may write.
    pub(crate) fn explanation(self) -> Option<&'static str> {
        match self {
            Posting::Open => None,
            Posting::Removed => {
                Some("You were removed from this group; you can read its history but not write.")
            }
            Posting::Retired => Some(
                "This conversation holds a key this person no longer uses; you can read it but \
                 not write. Write to them in the conversation under their handle.",
            ),
            Posting::Closed => Some("You can read this conversation but not write in it."),
        }
    }
}

/// What the event stream reported, as the chat uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Incoming {
    /// A new line.
    Entry(Entry),
    /// A conversation's members changed.
    MembershipChanged(ConversationId),
    /// A security alert, in words.
    Alert(String),
    /// Something this version does not show.
    Other,
}

impl Incoming {
    /// The chat's view of an event, worded for `me`.
    pub(crate) fn of(event: &Event, me: &Handle) -> Incoming {
        match event {
            Event::Message(message) => Incoming::Entry(Entry::of(message, me)),
            Event::MembershipChanged { conversation } => {
                Incoming::MembershipChanged(conversation.clone())
            }
            Event::Alert(alert) => Incoming::Alert(alert_text(alert)),
            _ => Incoming::Other,
        }
    }
}

fn alert_text(alert: &Alert) -> String {
    alert.to_string()
}
