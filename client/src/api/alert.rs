//! Security alerts: what a client tells its user about keys, refusals, removals and
//! suspected tampering. Each is recorded in the store ([`crate::Client::alerts`]) and
//! reported as it happens ([`crate::Event::Alert`], [`crate::SyncReport::alerts`]).

use std::fmt;

use parley_crypto::handle::Handle;
use serde::{Deserialize, Serialize};

/// Something security-relevant that happened. `Display` words it for the end user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum Alert {
    /// A contact's identity key changed: sending to them (and to every conversation they are
    /// in) is blocked until the user compares safety numbers, or accepts the new key.
    KeyChanged {
        /// Whose key.
        handle: Handle,
    },
    /// A contact rotated their keys: the new key is signed by the one pinned, so it replaced
    /// it (and stays verified if the old one was). Nothing is blocked.
    KeyRotated {
        /// Whose key.
        handle: Handle,
        /// Whether the replaced key had been verified in person (the new one is then too).
        verified: bool,
    },
    /// The relay serves a contact's pinned key again after showing another one: the change
    /// was withdrawn, and the relay may have been tampering.
    KeyChangeWithdrawn {
        /// Whose key.
        handle: Handle,
    },
    /// A member, a KeyPackage or a change to a conversation was refused.
    Refused {
        /// Why, in words.
        reason: String,
    },
    /// A delivery in the inbox was refused (damaged, forged or unreadable).
    InboxRefused {
        /// Why, in words.
        reason: String,
    },
    /// A group log entry could not be processed and was set aside (see
    /// [`crate::Client::quarantined`]).
    SetAside {
        /// The conversation's local name, if it is known.
        conversation: Option<String>,
        /// Why, in words.
        reason: String,
    },
    /// Entries of a conversation's current epoch repeatedly fail: the relay may be showing
    /// members different histories. Compare the group code with the others.
    ForkSuspected {
        /// The conversation's local name.
        conversation: String,
    },
    /// A member sent something our client could not read.
    Unreadable {
        /// The conversation's local name.
        conversation: String,
        /// Who sent it.
        sender: Handle,
    },
    /// Someone sent an inbox message of a kind this version does not know.
    UnknownInboxMessage {
        /// Who sent it.
        sender: Handle,
        /// Its kind byte.
        kind: u8,
    },
    /// We were removed from a group.
    Removed {
        /// The group's local name.
        conversation: String,
        /// Who removed us.
        by: String,
    },
    /// A 1:1 with this person was closed by them (they retired it after a key change).
    DirectClosed {
        /// The other person.
        by: String,
    },
    /// Someone we added could not be sent their invitation.
    InviteFailed {
        /// Whom.
        handle: Handle,
        /// Why, in words.
        reason: String,
    },
    /// The relay no longer accepts our key for our handle: it was released and may belong to
    /// someone else now. Our conversations go on; invitations cannot reach us.
    HandleReleased {
        /// Our handle.
        handle: Handle,
    },
    /// A conversation moved to an epoch we cannot follow: a change to it (a commit some
    /// member sent) could not be processed, so nothing more can be sent or read there. Raised
    /// once per conversation and epoch.
    RoomStuck {
        /// The conversation's local name.
        conversation: String,
    },
    /// An alert recorded by an earlier version of Parley, as it was worded then.
    Earlier {
        /// The words.
        text: String,
    },
}

impl fmt::Display for Alert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Alert::KeyChanged { handle } => write!(
                f,
                "{handle}'s identity key has changed; sending to {handle} is blocked until you \
                 compare safety numbers with them, or accept the new key"
            ),
            Alert::KeyRotated { handle, verified } => write!(
                f,
                "{handle} rotated their keys; the new key is signed by the one you had{}",
                if *verified {
                    ", which you verified, so it stays verified"
                } else {
                    " (not verified yet: compare safety numbers when you can)"
                }
            ),
            Alert::KeyChangeWithdrawn { handle } => write!(
                f,
                "the relay serves {handle}'s pinned identity key again; the change it showed \
                 earlier was withdrawn (the relay may have been tampering)"
            ),
            Alert::Refused { reason } => f.write_str(reason),
            Alert::InboxRefused { reason } => {
                write!(f, "a message in your inbox was refused: {reason}")
            }
            Alert::SetAside {
                conversation,
                reason,
            } => write!(
                f,
                "a message in {} could not be processed and was set aside ({reason})",
                conversation.as_deref().unwrap_or("a conversation")
            ),
            Alert::ForkSuspected { conversation } => write!(
                f,
                "the conversation {conversation} may have been forked by the relay; compare \
                 the group code (parley verify --group {conversation}) with the other members"
            ),
            Alert::Unreadable {
                conversation,
                sender,
            } => write!(
                f,
                "{sender} sent a message in {conversation} that could not be read"
            ),
            Alert::UnknownInboxMessage { sender, kind } => write!(
                f,
                "{sender} sent something this version cannot show (inbox message kind {kind})"
            ),
            Alert::Removed { conversation, by } => {
                write!(f, "you were removed from {conversation} by {by}")
            }
            Alert::DirectClosed { by } => {
                write!(f, "{by} closed an earlier private conversation with you")
            }
            Alert::InviteFailed { handle, reason } => {
                write!(f, "{handle} could not be invited: {reason}")
            }
            Alert::HandleReleased { handle } => write!(
                f,
                "the relay no longer accepts your key for the handle {handle}: it was released \
                 and may belong to someone else now; new invitations cannot reach you"
            ),
            Alert::RoomStuck { conversation } => write!(
                f,
                "{conversation} is stuck: a change one of its members sent could not be \
                 processed, so nothing more can be sent or read there; the relay cannot tell \
                 us who sent it. Start a new group with the members you trust"
            ),
            Alert::Earlier { text } => f.write_str(text),
        }
    }
}
