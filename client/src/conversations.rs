//! Conversations: local names for MLS groups, their members and their history.

use parley_crypto::mls::{GroupId, Member};

use crate::client::Ctx;
use crate::error::{crypto, ClientError};
use crate::message::Message;
use crate::store::records::{Conversation, HistoryEntry, StoredKind};
use crate::store::{Key, Prefix, StoreBatch};
use crate::verification::Verification;

/// Longest conversation name, in bytes (the limit of the Welcome's name field).
pub(crate) const MAX_NAME_LEN: usize = 64;

/// Whether a conversation is a 1:1 or a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConversationKind {
    /// A conversation with one other person, named by their handle.
    Direct,
    /// A named group.
    Group,
}

/// A conversation as listed by [`crate::Client::conversations`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationInfo {
    /// The local name (the peer's handle for a 1:1).
    pub name: String,
    /// 1:1 or group.
    pub kind: ConversationKind,
    /// How many members it has, us included (0 once we were removed).
    pub members: usize,
    /// The MLS epoch our state of the conversation is in; members in step share it.
    pub epoch: u64,
}

/// A member of a conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    /// The member's handle.
    pub handle: String,
    /// The member's identity public key, hex.
    pub identity_key: String,
    /// How far the member's key is trusted (CHANGED if it is not the key pinned for them;
    /// we ourselves are verified).
    pub status: Verification,
}

impl Ctx<'_> {
    /// The conversation called `name`, if any.
    pub(crate) fn conversation(&self, name: &str) -> Result<Option<Conversation>, ClientError> {
        Ok(self.store.get(Key::Conversation(name))?)
    }

    /// The conversation called `name`, or UnknownConversation.
    pub(crate) fn require_conversation(&self, name: &str) -> Result<Conversation, ClientError> {
        self.conversation(name)?
            .ok_or_else(|| ClientError::UnknownConversation(name.to_owned()))
    }

    /// The conversation of a group, if we have one.
    pub(crate) fn conversation_of(
        &self,
        gid: &GroupId,
    ) -> Result<Option<Conversation>, ClientError> {
        let name: Option<String> = self.store.get(Key::GroupName(gid))?;
        match name {
            Some(name) => self.conversation(&name),
            None => Ok(None),
        }
    }

    /// All conversations, by name.
    pub(crate) fn conversations(&self) -> Result<Vec<Conversation>, ClientError> {
        Ok(self.store.scan(Prefix::Conversations)?)
    }

    /// `base`, or `base (2)`, `base (3)`, ... whichever is free.
    pub(crate) fn unique_name(&self, base: &str) -> Result<String, ClientError> {
        if self.conversation(base)?.is_none() {
            return Ok(base.to_owned());
        }
        let mut n = 2u64;
        loop {
            let candidate = format!("{base} ({n})");
            if self.conversation(&candidate)?.is_none() {
                return Ok(candidate);
            }
            n += 1;
        }
    }

    /// Writes a conversation and its group-id index entry.
    pub(crate) fn stage_conversation(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
    ) -> Result<(), ClientError> {
        batch.put(Key::Conversation(&conv.name), conv)?;
        batch.put(Key::GroupName(&conv.group_id), &conv.name)?;
        Ok(())
    }

    /// Adds a message to a group's history in `batch`; returns it as the API shows it.
    pub(crate) fn stage_history(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
        entry: HistoryEntry,
    ) -> Result<Message, ClientError> {
        let idx = self.store.next_index(Prefix::History(&conv.group_id))?;
        batch.put(Key::History(&conv.group_id, idx), &entry)?;
        let status = self.status_of(&entry.sender);
        Ok(Message::from_entry(&conv.name, entry, status))
    }

    pub(crate) fn history(
        &self,
        name: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError> {
        let conv = self.require_conversation(name)?;
        let entries: Vec<HistoryEntry> = self.store.scan(Prefix::History(&conv.group_id))?;
        let skip = limit.map_or(0, |limit| entries.len().saturating_sub(limit));
        Ok(entries
            .into_iter()
            .skip(skip)
            .map(|entry| {
                let status = self.status_of(&entry.sender);
                Message::from_entry(&conv.name, entry, status)
            })
            .collect())
    }

    pub(crate) fn members(&self, name: &str) -> Result<Vec<MemberInfo>, ClientError> {
        let conv = self.require_conversation(name)?;
        if !conv.active {
            return Err(self.not_a_member());
        }
        let members = self.session.mls.members(&conv.group_id).map_err(crypto)?;
        Ok(members.iter().map(|m| self.member_info(m)).collect())
    }

    /// A member as the API shows it, with its current status.
    pub(crate) fn member_info(&self, member: &Member) -> MemberInfo {
        MemberInfo {
            handle: member.handle.to_string(),
            identity_key: hex::encode(member.identity_key.to_bytes()),
            status: self.member_status(member),
        }
    }

    pub(crate) fn conversation_infos(&self) -> Result<Vec<ConversationInfo>, ClientError> {
        Ok(self
            .conversations()?
            .into_iter()
            .map(|conv| ConversationInfo {
                members: if conv.active {
                    self.session
                        .mls
                        .members(&conv.group_id)
                        .map_or(0, |m| m.len())
                } else {
                    0
                },
                epoch: self.session.mls.epoch(&conv.group_id).unwrap_or(0),
                kind: match conv.kind {
                    StoredKind::Direct => ConversationKind::Direct,
                    StoredKind::Group => ConversationKind::Group,
                },
                name: conv.name,
            })
            .collect())
    }
}
