//! A workshop's negotiating text as this client keeps it: the chain of versions and the
//! comments, by plenary group, updated in the same batch as the history entry that carries
//! each version or comment.

use parley_crypto::mls::GroupId;

use super::store::records::{HistoryEntry, StoredBody};
use super::store::{Key, StoreBatch};
use super::Ctx;
use crate::api::error::ClientError;
use crate::api::workshop_error::WorkshopError;
use crate::workshop::export::Comment;
use crate::workshop::text::{PendingText, TextChain, TextVersion};

impl Ctx<'_> {
    /// The versions of the text published in the plenary `gid`.
    pub(crate) fn text_chain(&self, gid: &GroupId) -> Result<TextChain, ClientError> {
        Ok(self.store.get(Key::WorkshopText(gid))?.unwrap_or_default())
    }

    /// The comments on the text of the plenary `gid`, in the order they arrived.
    pub(crate) fn text_comments(&self, gid: &GroupId) -> Result<Vec<Comment>, ClientError> {
        Ok(self
            .store
            .get(Key::WorkshopComments(gid))?
            .unwrap_or_default())
    }

    /// Adds what a history entry carries to the text's chain or comments; anything else
    /// changes nothing. A version that does not follow the chain is refused.
    pub(crate) fn stage_text_entry(
        &self,
        batch: &mut StoreBatch,
        gid: &GroupId,
        entry: &HistoryEntry,
    ) -> Result<(), ClientError> {
        let author = shown_author(&entry.sender);
        match &entry.body {
            StoredBody::TextVersion {
                number,
                previous,
                text,
            } => {
                let mut chain = self.text_chain(gid)?;
                chain
                    .append(TextVersion {
                        number: *number,
                        previous: *previous,
                        text: text.clone(),
                        published_by: author,
                        published_at_ms: entry.sent_at_ms,
                        pending: None,
                    })
                    .map_err(|_| WorkshopError::TextConflict(*number))?;
                batch.put(Key::WorkshopText(gid), &chain)?;
            }
            StoredBody::TextVersionDocument {
                number,
                previous,
                document,
            } => {
                let mut chain = self.text_chain(gid)?;
                chain
                    .append(TextVersion {
                        number: *number,
                        previous: *previous,
                        text: String::new(),
                        published_by: author,
                        published_at_ms: entry.sent_at_ms,
                        pending: Some(PendingText {
                            document: hex::encode(document.blob_id),
                            sha256: document.sha256,
                        }),
                    })
                    .map_err(|_| WorkshopError::TextConflict(*number))?;
                batch.put(Key::WorkshopText(gid), &chain)?;
            }
            StoredBody::TextComment {
                version,
                para,
                text,
            } => {
                let mut comments = self.text_comments(gid)?;
                comments.push(Comment {
                    version: *version,
                    para: *para,
                    author,
                    text: text.clone(),
                    at_ms: entry.sent_at_ms,
                });
                batch.put(Key::WorkshopComments(gid), &comments)?;
            }
            _ => {}
        }
        Ok(())
    }
}

/// A stored sender as the record shows it: the handle, or the side or role.
pub(crate) fn shown_author(stored: &str) -> String {
    stored
        .strip_prefix(super::history::ATTRIBUTED_MARK)
        .unwrap_or(stored)
        .to_owned()
}

impl Ctx<'_> {
    /// Puts the fetched text of version `number` of the plenary `gid`'s chain in place,
    /// after checking it against the hash the chain holds for it.
    pub(crate) async fn fill_text(
        &self,
        gid: &GroupId,
        number: u32,
        text: String,
    ) -> Result<(), ClientError> {
        let mut chain = self.text_chain(gid)?;
        chain
            .fill(number, text)
            .map_err(|_| ClientError::DocumentDamaged)?;
        let mut batch = StoreBatch::default();
        batch.put(Key::WorkshopText(gid), &chain)?;
        self.store.apply(batch).await?;
        Ok(())
    }
}
