//! The inbox: sealed envelopes deposited for us, i.e. Welcomes into new conversations.

use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::inbox_message::InboxMessage;
use sha2::{Digest, Sha256};

use crate::client::Ctx;
use crate::error::{crypto, ClientError};
use crate::events::Event;
use crate::relay::Delivery;
use crate::store::records::{Conversation, StoredKind};
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
        match self.accept_delivery(&delivery.envelope, &hash).await {
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
        let contact = self.contact(&sender).await?;
        let message = opened.authenticate(&contact.inbox_key()).map_err(|_| {
            ClientError::Crypto(format!(
                "a delivery claiming to be from {sender} is not authentic"
            ))
        })?;
        match InboxMessage::decode(&message).map_err(crypto)? {
            InboxMessage::Welcome {
                conversation_name,
                welcome,
            } => {
                self.accept_welcome(&sender, &conversation_name, &welcome, hash)
                    .await
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

    /// Joins the group of a Welcome after checking every member against the pins.
    async fn accept_welcome(
        &mut self,
        sender: &Handle,
        name: &str,
        welcome: &[u8],
        hash: &[u8; 32],
    ) -> Result<(), ClientError> {
        let staged = self.session.mls.stage_welcome(welcome).map_err(|e| {
            self.session.mls.discard_changes();
            crypto(e)
        })?;
        let group_id = staged.group_id();
        if self.session.mls.has_group(&group_id) || self.conversation_of(&group_id)?.is_some() {
            // The same Welcome again (e.g. re-sent after a crash): already joined.
            self.session.mls.discard_changes();
            let mut batch = StoreBatch::default();
            batch.mark_seen(hash);
            self.store.apply(batch).await?;
            return Ok(());
        }
        let members = staged.members().to_vec();
        let committer = staged.sender().cloned();
        let verdict = async {
            if committer.as_ref().is_some_and(|c| c.handle != *sender)
                || !members.iter().any(|m| m.handle == *sender)
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

        let direct = name == sender.as_str() && members.len() == 2;
        let base = if direct { sender.as_str() } else { name };
        let local_name = self.unique_name(base)?;
        let joined = self.session.mls.join(staged).map_err(|e| {
            self.session.mls.discard_changes();
            crypto(e)
        })?;
        let conv = Conversation {
            name: local_name.clone(),
            title: if direct {
                self.session.handle.to_string()
            } else {
                name.to_owned()
            },
            group_id: joined,
            kind: if direct {
                StoredKind::Direct
            } else {
                StoredKind::Group
            },
            active: true,
        };
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        self.stage_conversation(&mut batch, &conv)?;
        batch.put_u64(Key::Cursor(&joined), 0);
        batch.mark_seen(hash);
        crate::failpoint::hit("inbox.after_process");
        self.store.apply(batch).await?;
        tracing::info!(conversation = %local_name, "joined a conversation");
        self.events.push(Event::MembershipChanged {
            conversation: local_name,
        });
        Ok(())
    }
}
