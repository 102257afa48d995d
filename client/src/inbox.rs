//! The inbox: sealed envelopes deposited for us, i.e. Welcomes into new conversations.

use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::mls::MlsError;
use sha2::{Digest, Sha256};

use crate::client::Ctx;
use crate::error::{crypto, ClientError};
use crate::events::Event;
use crate::naming::sanitize_title;
use crate::relay::Delivery;
use crate::store::records::{Conversation, HistoryEntry, StoredBody, StoredKind};
use crate::store::{Key, StoreBatch};

/// Deliveries fetched per request.
const FETCH_LIMIT: u32 = 100;

impl Ctx<'_> {
    /// Fetches, processes and acknowledges every pending delivery.
    pub(crate) async fn sync_inbox(&mut self) -> Result<(), ClientError> {
        loop {
            let relay = self.relay().await?;
            let deliveries = relay
                .fetch_inbox(&self.session.handle, &self.session.identity, FETCH_LIMIT)
                .await?;
            crate::failpoint::hit("inbox.after_fetch");
            let full_page = deliveries.len() >= usize::try_from(FETCH_LIMIT).unwrap_or(usize::MAX);
            if deliveries.is_empty() {
                return Ok(());
            }
            let mut ids = Vec::with_capacity(deliveries.len());
            for delivery in &deliveries {
                // A transient failure stops here, before the ack: the delivery comes back.
                self.handle_delivery(delivery).await?;
                ids.push(delivery.id);
            }
            // Everything acknowledged is already durable (and marked seen) locally.
            crate::failpoint::hit("inbox.after_persist");
            relay
                .ack_inbox(&self.session.handle, &self.session.identity, &ids)
                .await?;
            if !full_page {
                return Ok(());
            }
        }
    }

    async fn handle_delivery(&mut self, delivery: &Delivery) -> Result<(), ClientError> {
        let hash: [u8; 32] = Sha256::digest(&delivery.envelope).into();
        if self.store.seen(&hash)? {
            return Ok(());
        }
        self.process_delivery(&delivery.envelope).await
    }

    /// Processes one sealed delivery: accepted, held (its sender's key changed) or refused
    /// with an alert and a quarantine record. Fails only for a transient reason, leaving the
    /// delivery to be processed again.
    pub(crate) async fn process_delivery(&mut self, sealed: &[u8]) -> Result<(), ClientError> {
        let hash: [u8; 32] = Sha256::digest(sealed).into();
        match self.accept_delivery(sealed, &hash).await {
            Ok(()) => Ok(()),
            Err(e) if e.is_transient() => Err(e),
            Err(e) => {
                // Bad input must never block the deliveries behind it.
                self.alert(format!("a message in your inbox was refused: {e}"))
                    .await;
                let mut batch = StoreBatch::default();
                batch.mark_seen(&hash);
                self.stage_inbox_quarantine(&mut batch, e.to_string())?;
                self.store.apply(batch).await?;
                Ok(())
            }
        }
    }

    async fn accept_delivery(&mut self, sealed: &[u8], hash: &[u8; 32]) -> Result<(), ClientError> {
        let opened = envelope::open(sealed, &self.session.handle, &self.session.inbox)
            .map_err(|_| ClientError::Crypto("a delivery could not be decrypted".into()))?;
        let sender = opened.sender().clone();
        // Known before the lookup below pins a stranger.
        let stranger = self.pinned(&sender)?.is_none();
        let contact = self.contact(&sender).await?;
        let message = match opened.authenticate(&contact.inbox_key()) {
            Ok(message) => message,
            // Not by the pinned key: perhaps the sender has a new one (recorded as CHANGED,
            // with an alert, by the lookup); then the delivery waits for the user's decision.
            Err(_) => {
                return match self.refresh_contact(&sender).await {
                    Err(ClientError::KeyChanged(_)) => {
                        self.hold_delivery(&sender, sealed, hash).await
                    }
                    Err(e) if e.is_transient() => Err(e),
                    _ => Err(ClientError::Crypto(format!(
                        "a delivery claiming to be from {sender} is not authentic"
                    ))),
                };
            }
        };
        match InboxMessage::decode(&message).map_err(crypto)? {
            InboxMessage::Welcome {
                conversation_name,
                welcome,
            } => {
                let invitation = Invitation {
                    sender: &sender,
                    title: &conversation_name,
                    stranger,
                };
                match self.accept_welcome(invitation, &welcome, hash).await {
                    Err(ClientError::KeyChanged(who)) if who == sender.as_str() => {
                        self.hold_delivery(&sender, sealed, hash).await
                    }
                    other => other,
                }
            }
            InboxMessage::Unknown { kind, .. } => {
                self.alert(format!(
                    "{sender} sent something this version cannot show (inbox message kind {kind})"
                ))
                .await;
                let mut batch = StoreBatch::default();
                batch.mark_seen(hash);
                self.store.apply(batch).await?;
                Ok(())
            }
        }
    }

    /// Joins the group of a Welcome after checking every member against the pins, names it
    /// (see [`crate::naming`]) and records the joining in its history, unread.
    async fn accept_welcome(
        &mut self,
        invitation: Invitation<'_>,
        welcome: &[u8],
        hash: &[u8; 32],
    ) -> Result<(), ClientError> {
        let sender = invitation.sender;
        let staged = match self.session.mls.stage_welcome(welcome) {
            Ok(staged) => staged,
            // The same Welcome again (e.g. re-sent after a crash): already joined.
            Err(MlsError::GroupExists) => {
                self.session.mls.discard_changes();
                let mut batch = StoreBatch::default();
                batch.mark_seen(hash);
                self.store.apply(batch).await?;
                return Ok(());
            }
            Err(e) => {
                self.session.mls.discard_changes();
                return Err(crypto(e));
            }
        };
        let group_id = staged.group_id();
        let earlier = self.conversation_of(&group_id)?;
        let members = staged.members().to_vec();
        let committer = staged.sender().cloned();
        // A group we were removed from comes back as what it was.
        let direct = match &earlier {
            Some(earlier) => earlier.kind == StoredKind::Direct,
            None => invitation.title == sender.as_str() && members.len() == 2,
        };
        let verdict = async {
            if committer.as_ref().is_some_and(|c| c.handle != *sender)
                || !members.iter().any(|m| m.handle == *sender)
                || (direct && members.len() != 2)
            {
                return Err(ClientError::UntrustedMember(sender.to_string()));
            }
            for member in &members {
                self.verify_member(member).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = verdict {
            self.session.mls.discard_changes();
            return Err(e);
        }

        // A second live 1:1 with the same person (both started one at once) is not news.
        let announce = !(direct && self.direct_with(sender)?.is_some());
        let conv = match earlier {
            // Added back after a removal: same conversation, same name, history kept.
            Some(earlier) => Conversation {
                active: true,
                ..earlier
            },
            None if direct => Conversation {
                group_id,
                kind: StoredKind::Direct,
                named_by: sender.to_string(),
                peer: Some(sender.to_string()),
                title: sender.to_string(),
                name: sender.to_string(),
                active: true,
                retired: false,
                close_pending: false,
            },
            None => {
                let title = sanitize_title(invitation.title);
                let name = self.names()?.unique(&format!("{sender}/{title}"));
                Conversation {
                    group_id,
                    kind: StoredKind::Group,
                    named_by: sender.to_string(),
                    peer: None,
                    title,
                    name,
                    active: true,
                    retired: false,
                    close_pending: false,
                }
            }
        };
        let joined = self.session.mls.join(staged).map_err(|e| {
            self.session.mls.discard_changes();
            crypto(e)
        })?;
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        self.stage_conversation(&mut batch, &conv)?;
        batch.put_u64(Key::Cursor(&joined), 0);
        batch.mark_seen(hash);
        let message = if announce {
            let entry = HistoryEntry {
                sender: sender.to_string(),
                sent_at_ms: crate::clock::now_ms(),
                body: StoredBody::Joined {
                    members: members.iter().map(|m| m.handle.to_string()).collect(),
                    stranger: invitation.stranger,
                },
            };
            Some(self.stage_history(&mut batch, &conv, entry)?)
        } else {
            None
        };
        crate::failpoint::hit("inbox.after_process");
        self.store.apply(batch).await?;
        tracing::debug!("joined a conversation");
        let shown = self.display_name(&conv)?;
        if let Some(message) = message {
            self.events.push(Event::Message(message));
        }
        self.events.push(Event::MembershipChanged {
            conversation: shown,
        });
        Ok(())
    }
}

/// Who invited us to what, as the sealed envelope authenticated it.
struct Invitation<'a> {
    sender: &'a Handle,
    /// The conversation name the Welcome carries (the inviter's choice, untrusted text).
    title: &'a str,
    /// The sender was not pinned before this delivery.
    stranger: bool,
}
