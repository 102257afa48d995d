//! Messages as the application sees them: what someone wrote, and changes of who is in a
//! conversation (which every member is shown, in the history, in the same order).

use parley_crypto::mls::GroupId;

use crate::store::records::{Conversation, HistoryEntry, StoredBody};
use crate::verification::Verification;

/// Identifies one entry of one conversation's stored history, e.g. to mark it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId {
    pub(crate) group_id: GroupId,
    pub(crate) index: u64,
}

impl MessageId {
    /// The id of entry `index` of the history of the MLS group `group_id` (for an
    /// application that keeps ids of its own).
    pub fn new(group_id: [u8; 32], index: u64) -> MessageId {
        MessageId { group_id, index }
    }

    /// The id of the MLS group whose history holds the entry.
    pub fn group_id(&self) -> [u8; 32] {
        self.group_id
    }

    /// The entry's position in that history.
    pub fn index(&self) -> u64 {
        self.index
    }
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Which stored entry this is.
    pub id: MessageId,
    /// The local name of the conversation.
    pub conversation: String,
    /// Whether the conversation is a 1:1 (else a group).
    pub direct: bool,
    /// The sender's handle; for a change of members, who made it.
    pub sender: String,
    /// The text, or a description of what is not text.
    pub text: String,
    /// When the sender says it was sent (milliseconds since the Unix epoch); for a change of
    /// members, when this client learned of it.
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
    /// We joined the conversation: the sender created it (us, for our own) or added us.
    Joined {
        /// Everyone in it when we joined, us included.
        members: Vec<String>,
        /// The sender was not one of our contacts before this invitation.
        from_stranger: bool,
    },
    /// The sender added or removed members (a member who removed only themselves left).
    MembershipChanged {
        /// Who was added.
        added: Vec<String>,
        /// Who was removed.
        removed: Vec<String>,
    },
}

impl MessageBody {
    /// Whether this is a change of members rather than something someone wrote.
    pub fn is_membership(&self) -> bool {
        matches!(
            self,
            MessageBody::Joined { .. } | MessageBody::MembershipChanged { .. }
        )
    }
}

impl Message {
    pub(crate) fn from_entry(
        me: &str,
        shown_name: &str,
        conv: &Conversation,
        index: u64,
        entry: HistoryEntry,
        sender_status: Verification,
    ) -> Message {
        let body = match entry.body {
            StoredBody::Text(text) => MessageBody::Text(text),
            StoredBody::Unsupported { kind } => MessageBody::Unsupported { kind },
            StoredBody::Joined { members, stranger } => MessageBody::Joined {
                members,
                from_stranger: stranger,
            },
            StoredBody::Membership { added, removed } => {
                MessageBody::MembershipChanged { added, removed }
            }
        };
        let text = describe(&body, &entry.sender, me, shown_name, conv.is_direct());
        Message {
            id: MessageId {
                group_id: conv.group_id,
                index,
            },
            conversation: shown_name.to_owned(),
            direct: conv.is_direct(),
            sender: entry.sender,
            text,
            sent_at_ms: entry.sent_at_ms,
            body,
            sender_status,
            verified: sender_status == Verification::Verified,
        }
    }
}

/// The text of a message, or what a non-text entry means in words (without its sender, who
/// is shown before it): "added you to buyers (members: alice, bob, you)".
fn describe(
    body: &MessageBody,
    sender: &str,
    me: &str,
    conversation: &str,
    direct: bool,
) -> String {
    let person = |h: &String| if h == me { "you".to_owned() } else { h.clone() };
    let people = |list: &[String]| list.iter().map(person).collect::<Vec<_>>().join(", ");
    match body {
        MessageBody::Text(text) => text.clone(),
        MessageBody::Unsupported { kind } => {
            format!("[a message of a kind this version cannot show ({kind})]")
        }
        MessageBody::Joined { .. } if direct => {
            "started a private conversation with you".to_owned()
        }
        MessageBody::Joined { members, .. } if sender == me => {
            format!("created {conversation} (members: {})", people(members))
        }
        MessageBody::Joined { members, .. } => {
            format!("added you to {conversation} (members: {})", people(members))
        }
        MessageBody::MembershipChanged { added, removed } => {
            let others: Vec<String> = removed.iter().filter(|h| *h != sender).cloned().collect();
            let left = removed.iter().any(|h| h == sender);
            let place = if direct {
                "an earlier private conversation, now closed".to_owned()
            } else {
                conversation.to_owned()
            };
            match (added.is_empty(), others.is_empty(), left) {
                (false, true, false) => format!("added {} to {place}", people(added)),
                (true, false, false) => format!("removed {} from {place}", people(&others)),
                (true, true, true) => format!("left {place}"),
                _ => {
                    let mut parts = Vec::new();
                    if !added.is_empty() {
                        parts.push(format!("added {}", people(added)));
                    }
                    if !others.is_empty() {
                        parts.push(format!("removed {}", people(&others)));
                    }
                    if left {
                        parts.push("left".to_owned());
                    }
                    format!("{} in {place}", parts.join(" and "))
                }
            }
        }
    }
}
