//! Sending text messages.

use parley_crypto::mls::GroupId;
use parley_crypto::payload::Payload;
use sha2::{Digest, Sha256};

use crate::client::Ctx;
use crate::commits::MAX_TRIES;
use crate::error::{crypto, ClientError};
use crate::events::Event;
use crate::message::Message;
use crate::naming::Target;
use crate::relay::Entry;
use crate::relay::RelayError;
use crate::store::records::{Conversation, HistoryEntry, PendingCommit, StoredBody, StoredKind};
use crate::store::{Key, Prefix, StoreBatch};
use crate::verification::Verification;

/// Longest text, in bytes (the payload format's limit).
const MAX_TEXT_LEN: usize = 64 * 1024;

impl Ctx<'_> {
    pub(crate) async fn send_text(&mut self, to: &str, text: &str) -> Result<Message, ClientError> {
        if text.trim().is_empty() {
            return Err(ClientError::EmptyMessage);
        }
        if text.len() > MAX_TEXT_LEN {
            return Err(ClientError::MessageTooLong);
        }
        let conv = match self.resolve_fresh(to).await? {
            Target::Record(record) => *record,
            Target::Person(peer) => match self.direct_with(&peer)? {
                Some(conv) => conv,
                None => {
                    if peer == self.session.handle {
                        return Err(ClientError::CannotMessageSelf);
                    }
                    // A crash may have left this 1:1 half-made (its commit accepted, the
                    // conversation not yet saved): settle that before starting a second one.
                    self.settle_pending_commits().await?;
                    match self.direct_with(&peer)? {
                        Some(conv) => conv,
                        None => self.start_direct(&peer).await?,
                    }
                }
            },
        };
        if !conv.active {
            return Err(self.not_a_member());
        }
        if conv.retired {
            return Err(ClientError::Retired(self.display_name(&conv)?));
        }
        self.require_trusted_members(&conv)?;
        if conv.kind == StoredKind::Direct {
            return match self.send_in(conv.clone(), text).await {
                Err(ClientError::Relay(RelayError::NotFound)) => {
                    Err(self.explain_lost_direct(&conv).await)
                }
                other => other,
            };
        }
        self.send_in(conv, text).await
    }

    /// A relay that no longer knows a 1:1 may have been replaced along with its directory:
    /// the peer's key is looked up again, and a changed key is the failure that matters.
    async fn explain_lost_direct(&mut self, conv: &Conversation) -> ClientError {
        let members = self.session.mls.members(&conv.group_id).unwrap_or_default();
        let us = self.session.handle.clone();
        for member in members.iter().filter(|m| m.handle != us) {
            if let Err(changed @ ClientError::KeyChanged(_)) =
                self.refresh_contact(&member.handle).await
            {
                return changed;
            }
        }
        ClientError::Relay(RelayError::NotFound)
    }

    /// Encrypts and posts `text` in `conv`, retrying after an epoch conflict.
    async fn send_in(&mut self, conv: Conversation, text: &str) -> Result<Message, ClientError> {
        let gid = conv.group_id;
        for _ in 0..MAX_TRIES {
            self.sync_group(&gid).await?;
            if !self.session.mls.is_active(&gid).unwrap_or(false) {
                return Err(self.not_a_member());
            }
            let epoch = self.session.mls.epoch(&gid).map_err(crypto)?;
            let access = self.session.mls.access_key(&gid).map_err(crypto)?;
            let sent_at_ms = crate::clock::now_ms();
            let payload = Payload::Text {
                sent_at_ms,
                text: text.to_owned(),
            }
            .encode()
            .map_err(crypto)?;
            let frame = self.session.mls.encrypt(&gid, &payload).map_err(|e| {
                self.session.mls.discard_changes();
                crypto(e)
            })?;
            let hash: [u8; 32] = Sha256::digest(&frame).into();
            // The ratchet step is saved before posting so a crash can never reuse it, and the
            // hash marks the entry as ours so a later read does not try to decrypt it. The mark
            // carries the unrecorded message: if we die (or lose the answer) after the post, the
            // read that finds the entry in the log records it (see `skip_seen_entry`).
            let unrecorded = HistoryEntry {
                sender: self.session.handle.to_string(),
                sent_at_ms,
                body: StoredBody::Text(text.to_owned()),
            };
            let mut batch = StoreBatch::default();
            self.stage_mls(&mut batch);
            batch.put(Key::Seen(&hash), &unrecorded)?;
            self.store.apply(batch).await?;
            crate::failpoint::hit("send.after_persist");

            let relay = self.relay().await?;
            match relay
                .post(&gid, epoch, &access, &frame, crate::clock::now_ms())
                .await
            {
                Ok(_) => {
                    crate::failpoint::hit("send.after_post");
                    let conv = self.conversation_of(&gid)?.unwrap_or(conv);
                    let mut batch = StoreBatch::default();
                    let message = self.stage_history(&mut batch, &conv, unrecorded)?;
                    batch.mark_seen(&hash);
                    self.store.apply(batch).await?;
                    return Ok(message);
                }
                Err(RelayError::EpochConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ClientError::Busy(self.display_name(&conv)?))
    }

    /// Settles every commit whose outcome a crash or a lost answer left unknown.
    async fn settle_pending_commits(&mut self) -> Result<(), ClientError> {
        let pending: Vec<PendingCommit> = self.store.scan(Prefix::PendingCommits)?;
        for commit in pending {
            match self.sync_group(&commit.group_id).await {
                Err(e) if e.is_transient() => return Err(e),
                Err(e) => tracing::warn!(error = %e, "an unfinished commit could not be settled"),
                Ok(()) => {}
            }
        }
        Ok(())
    }

    /// Skips a log entry we already know (ours, or processed before). If it is our own message
    /// whose post a crash or a lost answer left unrecorded, it goes into the history now.
    pub(crate) async fn skip_seen_entry(
        &mut self,
        gid: &GroupId,
        entry: &Entry,
        hash: &[u8; 32],
    ) -> Result<(), ClientError> {
        // A plain mark is empty and decodes to nothing.
        let unrecorded: Option<HistoryEntry> = self.store.get(Key::Seen(hash)).unwrap_or(None);
        let mut batch = StoreBatch::default();
        batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
        batch.mark_seen(hash);
        let conv = self.conversation_of(gid)?;
        let message = match (unrecorded, &conv) {
            (Some(unrecorded), Some(conv)) => {
                Some(self.stage_history(&mut batch, conv, unrecorded)?)
            }
            _ => None,
        };
        self.store.apply(batch).await?;
        if let Some(message) = message {
            self.events.push(Event::Message(message));
        }
        Ok(())
    }

    /// Nobody whose key the user has not accepted may receive what is sent: a member whose
    /// contact is CHANGED, or who holds another key than the pinned one, blocks every
    /// conversation they are in. A 1:1 must also hold exactly us and the peer.
    pub(crate) fn require_trusted_members(&self, conv: &Conversation) -> Result<(), ClientError> {
        let members = self.session.mls.members(&conv.group_id).map_err(crypto)?;
        let us = self.session.handle.clone();
        if conv.kind == StoredKind::Direct {
            let others: Vec<_> = members.iter().filter(|m| m.handle != us).collect();
            if others.len() != 1 || others[0].handle.as_str() != conv.peer() {
                return Err(ClientError::UntrustedMember(conv.peer().to_owned()));
            }
        }
        for member in members.iter().filter(|m| m.handle != us) {
            if self.member_status(member) == Verification::Changed {
                return Err(match conv.kind {
                    StoredKind::Direct => ClientError::KeyChanged(member.handle.to_string()),
                    StoredKind::Group => ClientError::MemberKeyChanged {
                        conversation: self.display_name(conv)?,
                        handle: member.handle.to_string(),
                    },
                });
            }
        }
        Ok(())
    }
}
