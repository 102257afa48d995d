//! Conversation histories: every message and change of members, as stored, and how an entry
//! becomes a [`Message`]. Storing an entry someone else caused also marks it unread.

use parley_crypto::handle::Handle;
use parley_crypto::retention::Retention;

use crate::api::conversation::{ConversationId, GroupId as PublicGroupId};
use crate::api::document::DocumentInfo;
use crate::api::error::{ClientError, StoreError};
use crate::api::message::{Message, MessageBody, MessageId, Sender};
use crate::api::verification::Verification;
use crate::state::naming::Names;
use crate::state::store::records::{
    Conversation, DocumentAt, HistoryEntry, RetentionState, StoredBody, UnreadMark,
};
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

impl Ctx<'_> {
    /// Adds an entry to a group's history in `batch`, unread unless it is ours; returns it as
    /// the API shows it. At most one entry per batch: indexes are read from the store.
    pub(crate) fn stage_history(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
        entry: HistoryEntry,
    ) -> Result<Message, ClientError> {
        let ours = entry.sender == self.session.handle.as_str();
        self.stage_history_as(batch, conv, entry, ours)
    }

    /// [`Ctx::stage_history`] for an entry we know to be ours or not (one kept under a side
    /// or role does not say). A version of a workshop's text, or a comment on one, also
    /// goes into the text's chain or comments, in the same batch.
    pub(crate) fn stage_history_as(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
        mut entry: HistoryEntry,
        ours: bool,
    ) -> Result<Message, ClientError> {
        entry.stored_at_ms = self.now_ms();
        self.stage_text_entry(batch, &conv.group_id, &entry)?;
        let index = self.next_history_index(&conv.group_id)?;
        batch.put(Key::History(&conv.group_id, index), &entry)?;
        if let Some(document) = entry.body.document() {
            let at = DocumentAt {
                group_id: conv.group_id,
                index,
            };
            batch.put(Key::Document(&document.blob_id), &at)?;
        }
        if !ours {
            let mark = UnreadMark {
                group_id: conv.group_id,
                index,
            };
            batch.put(Key::Unread(self.store.next_index(Prefix::Unread)?), &mark)?;
        }
        self.message(&self.names()?, conv, index, entry)
    }

    /// The index of a group's next history entry: after the last one stored, and never one
    /// that expiry deleted (ids stay unique).
    pub(crate) fn next_history_index(&self, gid: &[u8; 32]) -> Result<u64, ClientError> {
        let after_last = self.store.next_index(Prefix::History(gid))?;
        let state: Option<RetentionState> = self.store.get(Key::Retention(gid))?;
        Ok(after_last.max(state.map_or(0, |s| s.next_history_index)))
    }

    /// Records that we created `conv`, with its members as they are now.
    pub(crate) fn stage_joined(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
    ) -> Result<Message, ClientError> {
        let members = self
            .session
            .mls
            .members(&conv.group_id)?
            .into_iter()
            .map(|m| m.handle.to_string())
            .collect();
        let entry = HistoryEntry {
            stored_at_ms: 0,
            sender: self.session.handle.to_string(),
            sent_at_ms: self.now_ms(),
            body: StoredBody::Joined {
                members,
                stranger: false,
            },
        };
        self.stage_history(batch, conv, entry)
    }

    /// The stored history of a conversation, oldest first; with `limit`, the latest `limit`.
    /// A 1:1 carried by two groups shows both, merged by the time they were sent.
    pub(crate) fn history(
        &self,
        id: &ConversationId,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError> {
        let records = self.records_of(id)?;
        if records.is_empty() {
            return Err(ClientError::UnknownConversation(
                crate::state::conversations::describe(id),
            ));
        }
        let names = self.names()?;
        let mut messages = Vec::new();
        for conv in &records {
            let entries: Vec<(u64, HistoryEntry)> = self
                .store
                .scan_positioned(Prefix::History(&conv.group_id))?;
            for (index, entry) in entries {
                messages.push(self.message(&names, conv, index, entry)?);
            }
        }
        if records.len() > 1 {
            // Stable: within one group the stored order stays.
            messages.sort_by_key(|m| m.sent_at_ms);
        }
        let skip = limit.map_or(0, |limit| messages.len().saturating_sub(limit));
        Ok(messages.into_iter().skip(skip).collect())
    }

    /// A stored entry as the API shows it, with its sender's status now.
    pub(crate) fn message(
        &self,
        names: &Names<'_>,
        conv: &Conversation,
        index: u64,
        entry: HistoryEntry,
    ) -> Result<Message, ClientError> {
        let sender = stored_sender(&entry.sender)?;
        let body = match entry.body {
            StoredBody::Text(text) => MessageBody::Text(text),
            StoredBody::Document(document) => MessageBody::Document(DocumentInfo {
                id: hex::encode(document.blob_id),
                name: document.name.clone(),
                size: document.size,
                media_type: document.media_type.clone(),
            }),
            StoredBody::Unsupported { kind } => MessageBody::Unsupported { kind },
            StoredBody::Joined { members, stranger } => MessageBody::Joined {
                members: handles(&members)?,
                from_stranger: stranger,
            },
            StoredBody::Membership { added, removed } => MessageBody::MembershipChanged {
                added: handles(&added)?,
                removed: handles(&removed)?,
            },
            StoredBody::Retention { secs } => MessageBody::RetentionChanged {
                retention: Retention::from_secs(secs)
                    .map_err(|_| StoreError::Corrupt("a retention in the history"))?,
            },
            StoredBody::Promoted { admins } => MessageBody::Promoted {
                admins: handles(&admins)?,
            },
            StoredBody::RosterChanged { changes } => MessageBody::RosterChanged { changes },
            StoredBody::TextVersion {
                number,
                previous,
                text,
            } => MessageBody::TextVersion {
                number,
                hash: hex::encode(crate::workshop::text::version_hash(
                    number, &previous, &text,
                )),
            },
            StoredBody::TextComment {
                version,
                para,
                text,
            } => MessageBody::TextComment {
                version,
                para,
                text,
            },
            StoredBody::RecordExported => MessageBody::RecordExported,
            StoredBody::TextVersionDocument {
                number,
                previous,
                document,
            } => MessageBody::TextVersion {
                number,
                hash: hex::encode(crate::workshop::text::version_hash_of_digest(
                    number,
                    &previous,
                    &document.sha256,
                )),
            },
        };
        let sender_status = match &sender {
            Sender::Member(handle) => self.status_of(handle),
            _ => Verification::Unverified,
        };
        Ok(Message {
            id: MessageId::new(PublicGroupId::from_bytes(conv.group_id), index),
            conversation: conv.id(),
            conversation_name: names.display(conv),
            sender_status,
            sender,
            sent_at_ms: entry.sent_at_ms,
            body,
        })
    }
}

/// How a stored sender is written: a handle, or [`ATTRIBUTED_MARK`] and the side or role an
/// entry is attributed to (no handle starts with it).
pub(crate) const ATTRIBUTED_MARK: char = '~';

fn stored_sender(text: &str) -> Result<Sender, StoreError> {
    match text.strip_prefix(ATTRIBUTED_MARK) {
        Some(label) => Ok(Sender::Attributed(label.to_owned())),
        None => handle(text).map(Sender::Member),
    }
}

fn handle(text: &str) -> Result<Handle, StoreError> {
    Handle::parse(text).map_err(|_| StoreError::Corrupt("a handle in the history"))
}

fn handles(list: &[String]) -> Result<Vec<Handle>, StoreError> {
    list.iter().map(|h| handle(h)).collect()
}
