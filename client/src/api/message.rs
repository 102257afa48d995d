//! Messages as the application sees them: what someone wrote, and changes of who is in a
//! conversation (which every member is shown, in the history, in the same order).

use parley_crypto::handle::Handle;

use crate::api::conversation::{ConversationId, GroupId};
use crate::api::verification::Verification;

/// Identifies one entry of one conversation's stored history, e.g. to mark it read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct MessageId {
    group_id: GroupId,
    index: u64,
}

impl MessageId {
    /// The id of entry `index` of the history of the MLS group `group_id` (for an
    /// application that keeps ids of its own).
    pub fn new(group_id: GroupId, index: u64) -> MessageId {
        MessageId { group_id, index }
    }

    /// The MLS group whose history holds the entry.
    pub fn group_id(&self) -> GroupId {
        self.group_id
    }

    /// The entry's position in that history.
    pub fn index(&self) -> u64 {
        self.index
    }
}

/// One entry of a conversation: a message someone wrote, or a change of members.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct Message {
    /// Which stored entry this is.
    pub id: MessageId,
    /// The conversation.
    pub conversation: ConversationId,
    /// The conversation's local name, as [`crate::Client::conversations`] lists it.
    pub conversation_name: String,
    /// Who wrote it; for a change of members, who made it. In a workshop's plenary whose
    /// attribution policy is `side` or `none`, what was written is kept under the side or
    /// role it is attributed to, never under the person (see [`Sender::Attributed`]).
    pub sender: Sender,
    /// When the sender says it was sent (milliseconds since the Unix epoch); for a change of
    /// members, when this client learned of it.
    pub sent_at_ms: u64,
    /// What it is.
    pub body: MessageBody,
    /// The sender's status now (not when the message arrived); our own are verified. For a
    /// message kept under a side or role, [`Verification::Unverified`]: nobody in particular
    /// vouches for it here (every member's software checked the sender's key on arrival).
    pub sender_status: Verification,
}

/// Who a history entry is from, as this client keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum Sender {
    /// A member, by handle.
    Member(Handle),
    /// A message in a workshop's plenary under the Chatham House rule: the side or role it
    /// is attributed to (`north`, `participant`, `facilitator`, `observer`). Which person
    /// sent it was known to this client's software on arrival (MLS authenticates senders)
    /// and was not kept.
    Attributed(String),
}

impl Sender {
    /// The member, when the entry is kept under a person.
    pub fn handle(&self) -> Option<&Handle> {
        match self {
            Sender::Member(handle) => Some(handle),
            Sender::Attributed(_) => None,
        }
    }

    /// The handle, or the side or role the entry is attributed to.
    pub fn as_str(&self) -> &str {
        match self {
            Sender::Member(handle) => handle.as_str(),
            Sender::Attributed(label) => label,
        }
    }

    /// Whether the entry is kept under the person `handle`.
    pub fn is(&self, handle: &Handle) -> bool {
        self.handle() == Some(handle)
    }
}

impl std::fmt::Display for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<Handle> for Sender {
    fn eq(&self, other: &Handle) -> bool {
        self.is(other)
    }
}

impl PartialEq<&str> for Sender {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Message {
    /// The text, for a text message.
    pub fn text(&self) -> Option<&str> {
        match &self.body {
            MessageBody::Text(text) => Some(text),
            _ => None,
        }
    }
}

/// The content of a message.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum MessageBody {
    /// A text message.
    Text(String),
    /// A document shared in the conversation; fetch it with [`crate::Client::fetch_file`].
    Document(crate::api::document::DocumentInfo),
    /// A kind of content this version does not understand (shown, never dropped).
    Unsupported {
        /// The payload kind byte.
        kind: u8,
    },
    /// We joined the conversation: the sender created it (us, for our own) or added us.
    Joined {
        /// Everyone in it when we joined, us included.
        members: Vec<Handle>,
        /// The sender was not one of our contacts before this invitation.
        from_stranger: bool,
    },
    /// The sender added or removed members (a member who removed only themselves left).
    MembershipChanged {
        /// Who was added.
        added: Vec<Handle>,
        /// Who was removed.
        removed: Vec<Handle>,
    },
    /// The sender changed how long the conversation keeps messages; every member's client
    /// applies it from now on.
    RetentionChanged {
        /// The new retention.
        retention: parley_crypto::retention::Retention,
    },
    /// The sender, an admin, made these members admins too.
    Promoted {
        /// The new admins.
        admins: Vec<Handle>,
    },
    /// The sender, a facilitator, changed the workshop's roster or policies (one sentence
    /// per change, such as `carol moved from north to south`).
    RosterChanged {
        /// What changed.
        changes: Vec<String>,
    },
    /// The sender, a facilitator, published a version of the workshop's single negotiating
    /// text (read it with [`crate::Client::negotiating_text`]).
    TextVersion {
        /// Its number, from 1.
        number: u32,
        /// Its SHA-256 hash, hex: what a member quotes to prove which text the room saw.
        hash: String,
    },
    /// A comment on one paragraph of a version of the negotiating text.
    TextComment {
        /// The version commented on.
        version: u32,
        /// The paragraph, from 1.
        para: u32,
        /// The comment.
        text: String,
    },
    /// A facilitator exported the workshop's record (the text, its versions and the plenary
    /// under the attribution policy).
    RecordExported,
}

impl MessageBody {
    /// Whether this is a change of members (or of the conversation's retention, roster or
    /// record) rather than something someone wrote.
    pub fn is_membership(&self) -> bool {
        matches!(
            self,
            MessageBody::Joined { .. }
                | MessageBody::MembershipChanged { .. }
                | MessageBody::RetentionChanged { .. }
                | MessageBody::Promoted { .. }
                | MessageBody::RosterChanged { .. }
                | MessageBody::RecordExported
        )
    }
}
