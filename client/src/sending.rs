//! Sending text messages.

use parley_crypto::handle::Handle;
use parley_crypto::payload::Payload;
use sha2::{Digest, Sha256};

use crate::client::Ctx;
use crate::commits::MAX_TRIES;
use crate::error::{crypto, ClientError};
use crate::message::Message;
use crate::relay::RelayError;
use crate::store::records::{Conversation, HistoryEntry, StoredBody, StoredKind};
use crate::store::StoreBatch;
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
        let conv = match self.conversation(to)? {
            Some(conv) => conv,
            None => {
                let peer = Handle::parse(to)
                    .map_err(|_| ClientError::UnknownConversation(to.to_owned()))?;
                self.start_direct(&peer).await?
            }
        };
        if !conv.active {
            return Err(self.not_a_member());
        }
        if conv.kind == StoredKind::Direct {
            self.check_direct_peer(&conv)?;
        }
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
            // hash marks the entry as ours so a later read does not try to decrypt it.
            let mut batch = StoreBatch::default();
            self.stage_mls(&mut batch);
            batch.mark_seen(&hash);
            self.store.apply(batch).await?;

            let relay = self.relay().await?;
            match relay
                .post(&gid, epoch, &access, &frame, crate::clock::now_ms())
                .await
            {
                Ok(_) => {
                    let conv = self.conversation_of(&gid)?.unwrap_or(conv);
                    let mut batch = StoreBatch::default();
                    let message = self.stage_history(
                        &mut batch,
                        &conv,
                        HistoryEntry {
                            sender: self.session.handle.to_string(),
                            sent_at_ms,
                            body: StoredBody::Text(text.to_owned()),
                        },
                    )?;
                    self.store.apply(batch).await?;
                    return Ok(message);
                }
                Err(RelayError::EpochConflict) => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(ClientError::Busy(conv.name))
    }

    /// A 1:1 with a CHANGED contact (or whose member no longer has the pinned key) must not
    /// be written to: the words would go to whoever holds a key the user has not accepted.
    fn check_direct_peer(&self, conv: &Conversation) -> Result<(), ClientError> {
        let members = self.session.mls.members(&conv.group_id).map_err(crypto)?;
        for member in members.iter().filter(|m| m.handle != self.session.handle) {
            if self.member_status(member) == Verification::Changed {
                return Err(ClientError::KeyChanged(member.handle.to_string()));
            }
        }
        Ok(())
    }
}
