//! Conversations as the API names them: a 1:1 by the other person's handle, a group by its
//! MLS group id, so that no group can ever stand for a person.

use std::fmt;
use std::str::FromStr;

use parley_crypto::handle::Handle;

use crate::api::as_text::serde_as_text;
use crate::api::verification::Verification;

/// A group's 32-byte id (random, chosen by its creator); shown as 64 hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId([u8; 32]);

impl GroupId {
    /// The id from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> GroupId {
        GroupId(bytes)
    }

    /// The id's bytes.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }
}

impl fmt::Display for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

/// Why a text is not a group id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a group id is 64 hexadecimal digits")]
pub struct GroupIdError;

impl FromStr for GroupId {
    type Err = GroupIdError;

    /// Reads the 64 hex digits that `Display` writes.
    fn from_str(s: &str) -> Result<GroupId, GroupIdError> {
        let bytes = hex::decode(s).map_err(|_| GroupIdError)?;
        bytes.try_into().map(GroupId).map_err(|_| GroupIdError)
    }
}

serde_as_text!(GroupId);

impl fmt::Debug for GroupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "GroupId({self})")
    }
}

/// Which conversation: the one with a person, or one group.
///
/// Get one from a name with [`crate::Client::resolve`], from
/// [`ConversationInfo::id`] or from a [`crate::Message`].
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum ConversationId {
    /// The 1:1 with this person (started by the first message if there is none yet).
    Direct(Handle),
    /// A group, or a 1:1 retired after its peer's key changed, by its MLS group id.
    Group(GroupId),
}

impl ConversationId {
    /// The 1:1 with `handle`.
    pub fn direct(handle: Handle) -> ConversationId {
        ConversationId::Direct(handle)
    }
}

impl From<Handle> for ConversationId {
    fn from(handle: Handle) -> ConversationId {
        ConversationId::Direct(handle)
    }
}

/// Whether a conversation is a 1:1 or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ConversationKind {
    /// A conversation with one other person, named by their handle.
    Direct,
    /// A named group.
    Group,
}

/// A conversation as listed by [`crate::Client::conversations`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ConversationInfo {
    /// The conversation.
    pub id: ConversationId,
    /// The local name: the peer's handle for a 1:1; for a group, its name if we created it,
    /// else `inviter/name` (after whoever added us).
    pub name: String,
    /// 1:1 or group.
    pub kind: ConversationKind,
    /// How many members it has, us included (0 once we were removed).
    pub members: usize,
    /// The MLS epoch our state of the conversation is in; members in step share it.
    pub epoch: u64,
    /// Whether we may still write in it; see [`ConversationState::can_post`].
    pub state: ConversationState,
    /// How long its messages and documents are kept, as its members agreed.
    pub retention: parley_crypto::retention::Retention,
}

/// Whether a conversation can still be written in, or only read.
///
/// An application shows no way to write in a conversation that is not
/// [`ConversationState::Active`]; the library refuses such a send in any case, with
/// [`crate::ClientError::NotAMember`] or [`crate::ClientError::Retired`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum ConversationState {
    /// We may post. A 1:1 with a person is always active: if the MLS group that carried it
    /// was closed, the next message starts a new one (sending may still be blocked while
    /// the person's key is CHANGED, which is a question of trust, not of this state).
    Active,
    /// A group we were removed from: its history stays readable, nothing can be sent.
    Removed,
    /// A 1:1 kept read-only after the person's key changed and the new key was accepted
    /// (listed as `name (old key)`); write to the person's handle instead.
    Retired,
}

impl ConversationState {
    /// Whether a message may be sent to the conversation. False for every state but
    /// [`ConversationState::Active`], including states a later version may add.
    pub fn can_post(self) -> bool {
        matches!(self, ConversationState::Active)
    }
}

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct MemberInfo {
    /// The member's handle.
    pub handle: Handle,
    /// The member's identity public key, hex.
    pub identity_key: String,
    /// How far the member's key is trusted (CHANGED if it is not the key pinned for them;
    /// we ourselves are verified).
    pub status: Verification,
}
