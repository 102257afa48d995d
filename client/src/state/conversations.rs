//! Conversation records: which MLS groups we are in, what each is called here, and how the
//! API's [`ConversationId`]s map onto them.
//!
//! A 1:1 is the conversation with a person, whatever MLS groups carry it: when both people
//! started one at the same moment, each holds two groups with the other. Both stay readable
//! and their histories are shown as one; what is sent goes to one of them, the same one on
//! both sides (the lower group id), so the pair converges on one conversation.

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;

use crate::api::conversation::{
    ConversationId, ConversationInfo, ConversationKind, ConversationState, GroupId as PublicGroupId,
};
use crate::api::error::ClientError;
use crate::state::naming::{Names, Target};
use crate::state::store::records::{Conversation, StoredKind};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

impl Conversation {
    /// The id the API knows this conversation by: the peer for a 1:1 that is not retired,
    /// the group id otherwise.
    pub(crate) fn id(&self) -> ConversationId {
        match Handle::parse(self.peer()) {
            Ok(peer) if self.is_direct() => ConversationId::Direct(peer),
            _ => ConversationId::Group(PublicGroupId::from_bytes(self.group_id)),
        }
    }
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
        Ok(self.store.conversations()?)
    }

    /// Every record and our handle, to show and resolve names.
    pub(crate) fn names(&self) -> Result<Names<'_>, ClientError> {
        Ok(Names::new(&self.session.handle, self.conversations()?))
    }

    /// What `text` names; see [`crate::state::naming`].
    pub(crate) fn resolve(&self, text: &str) -> Result<ConversationId, ClientError> {
        Ok(match self.names()?.resolve(text)? {
            Target::Person(peer) => ConversationId::Direct(peer),
            Target::Record(record) => record.id(),
        })
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

    /// The records a conversation covers: every 1:1 group with a person (live or closed,
    /// not retired), or the one record of a group.
    pub(crate) fn records_of(&self, id: &ConversationId) -> Result<Vec<Conversation>, ClientError> {
        Ok(match id {
            ConversationId::Direct(peer) => self
                .conversations()?
                .into_iter()
                .filter(|c| c.is_direct() && c.peer() == peer.as_str())
                .collect(),
            ConversationId::Group(gid) => {
                self.conversation_of(&gid.to_bytes())?.into_iter().collect()
            }
        })
    }

    /// The one record a conversation means for members and codes: the live 1:1 with a
    /// person (else any of theirs), or the group's record.
    pub(crate) fn require_conversation(
        &self,
        id: &ConversationId,
    ) -> Result<Conversation, ClientError> {
        let live = match id {
            ConversationId::Direct(peer) => self.direct_with(peer)?,
            ConversationId::Group(_) => None,
        };
        match live {
            Some(conv) => Ok(conv),
            None => self
                .records_of(id)?
                .into_iter()
                .next()
                .ok_or_else(|| ClientError::UnknownConversation(describe(id))),
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

    /// One entry per conversation as the person sees them: a 1:1 per person (however many
    /// groups carry it), each group, each retired 1:1; sorted by name.
    pub(crate) fn conversation_infos(&self) -> Result<Vec<ConversationInfo>, ClientError> {
        let names = self.names()?;
        let mut infos: Vec<ConversationInfo> = Vec::new();
        for conv in names.records() {
            let id = conv.id();
            if infos.iter().any(|i| i.id == id) {
                continue;
            }
            let shown = match &id {
                ConversationId::Direct(peer) => self.direct_with(peer)?,
                ConversationId::Group(_) => None,
            };
            infos.push(self.info(shown.as_ref().unwrap_or(conv), id, names.display(conv)));
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    fn info(&self, conv: &Conversation, id: ConversationId, name: String) -> ConversationInfo {
        // The rules of `send::message::send_text`: a retired 1:1 and a group we were removed
        // from are refused; a closed 1:1 with a person is restarted by the next message.
        let state = if conv.retired {
            ConversationState::Retired
        } else if conv.active || matches!(id, ConversationId::Direct(_)) {
            ConversationState::Active
        } else {
            ConversationState::Removed
        };
        ConversationInfo {
            id,
            name,
            kind: match conv.kind {
                StoredKind::Direct => ConversationKind::Direct,
                StoredKind::Group => ConversationKind::Group,
            },
            members: if conv.active {
                self.session
                    .mls
                    .members(&conv.group_id)
                    .map_or(0, |m| m.len())
            } else {
                0
            },
            epoch: self.session.mls.epoch(&conv.group_id).unwrap_or(0),
            state,
            retention: self
                .session
                .mls
                .retention(&conv.group_id)
                .unwrap_or_default(),
        }
    }
}

/// A conversation id in words, for errors.
pub(crate) fn describe(id: &ConversationId) -> String {
    match id {
        ConversationId::Direct(peer) => peer.to_string(),
        ConversationId::Group(gid) => format!("group {gid}"),
    }
}
