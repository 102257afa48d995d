//! Unread marks: every history entry someone else caused (a message, a change of members)
//! gets a mark when it is stored, whichever operation fetched it from the relay, and keeps it
//! until the application says it was shown. So `read` shows every message once even when
//! `send` or the event stream fetched it, and nothing is lost by a crash between fetching and
//! showing (a crash between showing and marking shows it again instead).

use std::collections::{BTreeMap, BTreeSet};

use parley_crypto::mls::GroupId;

use crate::client::Ctx;
use crate::error::ClientError;
use crate::message::{Message, MessageId};
use crate::store::records::{Conversation, HistoryEntry, UnreadMark};
use crate::store::{Key, Prefix, StoreBatch, StoreError};

impl Ctx<'_> {
    /// Unread entries in the order they arrived, of every conversation or of the one
    /// `conversation` names.
    pub(crate) fn unread(&self, conversation: Option<&str>) -> Result<Vec<Message>, ClientError> {
        let wanted = match conversation {
            None => None,
            Some(name) => Some(self.groups_of(name)?),
        };
        let names = self.names()?;
        let records: BTreeMap<GroupId, &Conversation> =
            names.records().iter().map(|c| (c.group_id, c)).collect();
        let mut messages = Vec::new();
        for (_, mark) in self.marks()? {
            if wanted.as_ref().is_some_and(|w| !w.contains(&mark.group_id)) {
                continue;
            }
            let Some(conv) = records.get(&mark.group_id) else {
                continue;
            };
            let entry: Option<HistoryEntry> =
                self.store.get(Key::History(&mark.group_id, mark.index))?;
            if let Some(entry) = entry {
                let status = self.status_of(&entry.sender);
                messages.push(Message::from_entry(
                    self.session.handle.as_str(),
                    &names.display(conv),
                    conv,
                    mark.index,
                    entry,
                    status,
                ));
            }
        }
        Ok(messages)
    }

    /// Removes the unread marks of these entries (others stay).
    pub(crate) async fn mark_read(&self, ids: &[MessageId]) -> Result<(), ClientError> {
        let ids: BTreeSet<(GroupId, u64)> = ids.iter().map(|id| (id.group_id, id.index)).collect();
        let mut batch = StoreBatch::default();
        let mut any = false;
        for (position, mark) in self.marks()? {
            if ids.contains(&(mark.group_id, mark.index)) {
                batch.remove(Key::Unread(position));
                any = true;
            }
        }
        if any {
            self.store.apply(batch).await?;
        }
        Ok(())
    }

    fn marks(&self) -> Result<Vec<(u64, UnreadMark)>, StoreError> {
        self.store.scan_positioned(Prefix::Unread)
    }

    /// The groups whose entries belong to the conversation `name` (every group of a 1:1).
    fn groups_of(&self, name: &str) -> Result<BTreeSet<GroupId>, ClientError> {
        let target = self.resolve(name)?;
        Ok(self
            .records_of(&target)?
            .into_iter()
            .map(|c| c.group_id)
            .collect())
    }
}
