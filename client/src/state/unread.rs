//! Unread marks: every history entry someone else caused (a message, a change of members)
//! gets a mark when it is stored, whichever operation fetched it from the relay, and keeps it
//! until the application says it was shown. So `read` shows every message once even when
//! `send` or the event stream fetched it, and nothing is lost by a crash between fetching and
//! showing (a crash between showing and marking shows it again instead).

use std::collections::{BTreeMap, BTreeSet};

use parley_crypto::mls::GroupId;

use crate::api::conversation::ConversationId;
use crate::api::error::{ClientError, StoreError};
use crate::api::message::{Message, MessageId};
use crate::state::store::records::{Conversation, HistoryEntry, UnreadMark};
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

impl Ctx<'_> {
    /// Unread entries in the order they arrived, of every conversation or of one.
    pub(crate) fn unread(
        &self,
        conversation: Option<&ConversationId>,
    ) -> Result<Vec<Message>, ClientError> {
        let wanted: Option<BTreeSet<GroupId>> = match conversation {
            None => None,
            Some(id) => Some(self.records_of(id)?.iter().map(|c| c.group_id).collect()),
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
                messages.push(self.message(&names, conv, mark.index, entry)?);
            }
        }
        Ok(messages)
    }

    /// Removes the unread marks of these entries (others stay).
    pub(crate) async fn mark_read(&self, ids: &[MessageId]) -> Result<(), ClientError> {
        let ids: BTreeSet<(GroupId, u64)> = ids
            .iter()
            .map(|id| (id.group_id().to_bytes(), id.index()))
            .collect();
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
}
