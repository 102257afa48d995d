//! Conversations: the records that name MLS groups, their members and their history.
//!
//! A 1:1 is the conversation with a person, whatever MLS groups carry it: when both people
//! started one at the same moment, each holds two groups with the other. Both stay readable
//! and their histories are shown as one; what is sent goes to one of them, the same one on
//! both sides (the lower group id), so the pair converges on one conversation.

use parley_crypto::handle::Handle;
use parley_crypto::mls::{GroupId, Member};

use crate::client::Ctx;
use crate::error::{crypto, ClientError};
use crate::message::Message;
use crate::naming::{Names, Target};
use crate::store::records::{Conversation, HistoryEntry, StoredKind, UnreadMark};
use crate::store::{Key, Prefix, StoreBatch};
use crate::verification::Verification;

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
    /// The local name: the peer's handle for a 1:1; for a group, its name if we created it,
    /// else `inviter/name` (after whoever added us).
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
    /// The conversation of a group, if we have one.
    pub(crate) fn conversation_of(
        &self,
        gid: &GroupId,
    ) -> Result<Option<Conversation>, ClientError> {
        Ok(self.store.get(Key::Conversation(gid))?)
    }

    /// All conversation records.
    pub(crate) fn conversations(&self) -> Result<Vec<Conversation>, ClientError> {
        Ok(self.store.scan(Prefix::Conversations)?)
    }

    /// Every record and our handle, to show and resolve names.
    pub(crate) fn names(&self) -> Result<Names<'_>, ClientError> {
        Ok(Names::new(&self.session.handle, self.conversations()?))
    }

    /// What `text` names; see [`crate::naming`].
    pub(crate) fn resolve(&self, text: &str) -> Result<Target, ClientError> {
        self.names()?.resolve(text)
    }

    /// Like [`Ctx::resolve`]; a group name we do not know yet (`inviter/name`) is looked for
    /// again after reading the inbox, where the invitation may just have arrived.
    pub(crate) async fn resolve_fresh(&mut self, text: &str) -> Result<Target, ClientError> {
        match self.resolve(text) {
            Err(ClientError::UnknownConversation(_)) if text.contains('/') => {
                self.sync_inbox().await?;
                self.resolve(text)
            }
            other => other,
        }
    }

    /// The live 1:1 with `peer` that messages go to: of the live 1:1 groups with them, the
    /// one with the lowest id (the rule both sides apply after a simultaneous start).
    pub(crate) fn direct_with(&self, peer: &Handle) -> Result<Option<Conversation>, ClientError> {
        Ok(self
            .conversations()?
            .into_iter()
            .filter(|c| c.is_live_direct() && c.peer() == peer.as_str())
            .min_by_key(|c| c.group_id))
    }

    /// The records a target covers: every 1:1 group with a person (live or closed, not
    /// retired), or the one record.
    pub(crate) fn records_of(&self, target: &Target) -> Result<Vec<Conversation>, ClientError> {
        match target {
            Target::Person(peer) => Ok(self
                .conversations()?
                .into_iter()
                .filter(|c| c.is_direct() && c.peer() == peer.as_str())
                .collect()),
            Target::Record(record) => Ok(vec![(**record).clone()]),
        }
    }

    /// The one record a target means for reading members and codes: the live 1:1 with a
    /// person, or the record.
    pub(crate) fn require_conversation(&self, name: &str) -> Result<Conversation, ClientError> {
        match self.resolve(name)? {
            Target::Person(peer) => self
                .direct_with(&peer)?
                .or(self.records_of(&Target::Person(peer))?.into_iter().next())
                .ok_or_else(|| ClientError::UnknownConversation(name.to_owned())),
            Target::Record(record) => Ok(*record),
        }
    }

    /// How a conversation is shown (see [`Names::display`]).
    pub(crate) fn display_name(&self, conv: &Conversation) -> Result<String, ClientError> {
        Ok(self.names()?.display(conv))
    }

    /// Writes a conversation record.
    pub(crate) fn stage_conversation(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
    ) -> Result<(), ClientError> {
        batch.put(Key::Conversation(&conv.group_id), conv)?;
        Ok(())
    }

    /// Adds an entry to a group's history in `batch`, unread unless it is ours; returns it as
    /// the API shows it.
    pub(crate) fn stage_history(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
        entry: HistoryEntry,
    ) -> Result<Message, ClientError> {
        let index = self.store.next_index(Prefix::History(&conv.group_id))?;
        batch.put(Key::History(&conv.group_id, index), &entry)?;
        if entry.sender != self.session.handle.as_str() {
            let mark = UnreadMark {
                group_id: conv.group_id,
                index,
            };
            batch.put(Key::Unread(self.store.next_index(Prefix::Unread)?), &mark)?;
        }
        let status = self.status_of(&entry.sender);
        let shown = self.display_name(conv)?;
        Ok(Message::from_entry(
            self.session.handle.as_str(),
            &shown,
            conv,
            index,
            entry,
            status,
        ))
    }

    /// The stored history of a conversation, oldest first; with `limit`, the latest `limit`.
    /// A 1:1 carried by two groups shows both, merged by the time they were sent.
    pub(crate) fn history(
        &self,
        name: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError> {
        let target = self.resolve(name)?;
        let records = self.records_of(&target)?;
        if records.is_empty() {
            return Err(ClientError::UnknownConversation(name.to_owned()));
        }
        let names = self.names()?;
        let mut messages = Vec::new();
        for conv in &records {
            let shown = names.display(conv);
            let entries: Vec<(u64, HistoryEntry)> = self
                .store
                .scan_positioned(Prefix::History(&conv.group_id))?;
            for (index, entry) in entries {
                let status = self.status_of(&entry.sender);
                messages.push(Message::from_entry(
                    self.session.handle.as_str(),
                    &shown,
                    conv,
                    index,
                    entry,
                    status,
                ));
            }
        }
        if records.len() > 1 {
            // Stable: within one group the stored order stays.
            messages.sort_by_key(|m| m.sent_at_ms);
        }
        let skip = limit.map_or(0, |limit| messages.len().saturating_sub(limit));
        Ok(messages.into_iter().skip(skip).collect())
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

    /// One entry per conversation as the person sees them: a 1:1 per person (however many
    /// groups carry it), each group, each retired 1:1; sorted by name.
    pub(crate) fn conversation_infos(&self) -> Result<Vec<ConversationInfo>, ClientError> {
        let names = self.names()?;
        let mut infos: Vec<ConversationInfo> = Vec::new();
        for conv in names.records() {
            let name = names.display(conv);
            if conv.is_direct() {
                if infos
                    .iter()
                    .any(|i| i.name == name && i.kind == ConversationKind::Direct)
                {
                    continue;
                }
                let peer = Handle::parse(conv.peer()).ok();
                let live = match &peer {
                    Some(peer) => self.direct_with(peer)?,
                    None => None,
                };
                infos.push(self.info(live.as_ref().unwrap_or(conv), name));
            } else {
                infos.push(self.info(conv, name));
            }
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    fn info(&self, conv: &Conversation, name: String) -> ConversationInfo {
        ConversationInfo {
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
            name,
        }
    }
}
