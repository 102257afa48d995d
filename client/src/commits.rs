//! Changing a group's membership: creating groups and 1:1s, adding and removing members.
//!
//! A commit is saved as pending (with its Welcome) before it goes to the relay, so a crash
//! or a lost answer is settled by the next sync: found in the log -> merged and Welcomes
//! (re)sent; not found -> aborted.

use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::mls::GroupId;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::client::Ctx;
use crate::conversations::MAX_NAME_LEN;
use crate::error::{crypto, ClientError};
use crate::events::Event;
use crate::relay::RelayError;
use crate::store::records::{Conversation, PendingCommit, StoredKind};
use crate::store::{Key, StoreBatch};

/// Attempts when others keep moving the group's epoch.
pub(crate) const MAX_TRIES: usize = 5;

/// A membership change.
enum Change {
    /// Members with the KeyPackage claimed (and checked) for each.
    Add(Vec<(Handle, Vec<u8>)>),
    Remove(Vec<Handle>),
}

impl Ctx<'_> {
    pub(crate) async fn create_group(
        &mut self,
        name: &str,
        members: &[String],
    ) -> Result<(), ClientError> {
        if name.trim().is_empty() || name.len() > MAX_NAME_LEN {
            return Err(ClientError::InvalidConversationName);
        }
        if self.conversation(name)?.is_some() {
            return Err(ClientError::ConversationExists(name.to_owned()));
        }
        let mut handles: Vec<Handle> = Vec::new();
        for member in members {
            let handle =
                Handle::parse(member).map_err(|_| ClientError::InvalidHandle(member.clone()))?;
            if handle != self.session.handle && !handles.contains(&handle) {
                handles.push(handle);
            }
        }
        let adds = self.claim_all(handles).await?;
        let gid = self.new_group().await?;
        let conv = Conversation {
            name: name.to_owned(),
            title: name.to_owned(),
            group_id: gid,
            kind: StoredKind::Group,
            active: true,
        };
        if adds.is_empty() {
            let mut batch = StoreBatch::default();
            self.stage_conversation(&mut batch, &conv)?;
            self.store.apply(batch).await?;
            self.events.push(Event::MembershipChanged {
                conversation: conv.name,
            });
            return Ok(());
        }
        self.commit_change(&gid, &Change::Add(adds), name, Some(conv))
            .await
    }

    /// Creates the 1:1 with `peer`; returns the conversation as saved.
    pub(crate) async fn start_direct(
        &mut self,
        peer: &Handle,
    ) -> Result<Conversation, ClientError> {
        if *peer == self.session.handle {
            return Err(ClientError::CannotMessageSelf);
        }
        let adds = self.claim_all(vec![peer.clone()]).await?;
        let gid = self.new_group().await?;
        let own = self.session.handle.to_string();
        let conv = Conversation {
            name: peer.to_string(),
            title: own.clone(),
            group_id: gid,
            kind: StoredKind::Direct,
            active: true,
        };
        self.commit_change(&gid, &Change::Add(adds), &own, Some(conv))
            .await?;
        self.conversation_of(&gid)?
            .ok_or_else(|| ClientError::UnknownConversation(peer.to_string()))
    }

    pub(crate) async fn add_member(
        &mut self,
        group: &str,
        handle: &str,
    ) -> Result<(), ClientError> {
        let conv = self.require_conversation(group)?;
        if !conv.active {
            return Err(self.not_a_member());
        }
        let handle =
            Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))?;
        let members = self.session.mls.members(&conv.group_id).map_err(crypto)?;
        if members.iter().any(|m| m.handle == handle) {
            return Err(ClientError::AlreadyAMember(handle.to_string()));
        }
        let adds = self.claim_all(vec![handle]).await?;
        let welcome_name = self.welcome_name(&conv);
        self.commit_change(&conv.group_id, &Change::Add(adds), &welcome_name, None)
            .await
    }

    pub(crate) async fn remove_member(
        &mut self,
        group: &str,
        handle: &str,
    ) -> Result<(), ClientError> {
        let conv = self.require_conversation(group)?;
        if !conv.active {
            return Err(self.not_a_member());
        }
        let handle =
            Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))?;
        if handle == self.session.handle {
            return Err(ClientError::CannotRemoveSelf);
        }
        let welcome_name = self.welcome_name(&conv);
        self.commit_change(
            &conv.group_id,
            &Change::Remove(vec![handle]),
            &welcome_name,
            None,
        )
        .await
    }

    /// The conversation name our Welcomes carry: our handle for a 1:1, else the group's name.
    fn welcome_name(&self, conv: &Conversation) -> String {
        match conv.kind {
            StoredKind::Direct => self.session.handle.to_string(),
            StoredKind::Group => conv.title.clone(),
        }
    }

    /// Checks each handle against the directory and claims a verified KeyPackage for it.
    async fn claim_all(
        &mut self,
        handles: Vec<Handle>,
    ) -> Result<Vec<(Handle, Vec<u8>)>, ClientError> {
        let mut adds = Vec::with_capacity(handles.len());
        for handle in handles {
            let contact = self.refresh_contact(&handle).await?;
            // The directory may agree with the pin again, but the user has not decided yet.
            contact.require_unchanged()?;
            let key_package = self.claim_key_package(&handle, &contact).await?;
            adds.push((handle, key_package));
        }
        Ok(adds)
    }

    /// A new MLS group with a random id, registered on the relay at epoch 0.
    async fn new_group(&mut self) -> Result<GroupId, ClientError> {
        let mut gid: GroupId = [0u8; 32];
        OsRng.fill_bytes(&mut gid);
        let access = self.session.mls.create_group(gid).map_err(crypto)?;
        let relay = self.relay().await?;
        if let Err(e) = relay
            .create_group(&gid, &access, crate::clock::now_ms())
            .await
        {
            self.session.mls.discard_changes();
            return Err(e.into());
        }
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        batch.put_u64(Key::Cursor(&gid), 0);
        self.store.apply(batch).await?;
        Ok(gid)
    }

    /// Sends a membership change as a commit, retrying when another commit won the epoch.
    async fn commit_change(
        &mut self,
        gid: &GroupId,
        change: &Change,
        welcome_name: &str,
        new_conversation: Option<Conversation>,
    ) -> Result<(), ClientError> {
        for _ in 0..MAX_TRIES {
            self.sync_group(gid).await?;
            if !self.session.mls.is_active(gid).unwrap_or(false) {
                return Err(self.not_a_member());
            }
            let mls = &mut self.session.mls;
            let members = mls.members(gid).map_err(crypto)?;
            let access = mls.access_key(gid).map_err(crypto)?;
            let (outgoing, recipients) = match change {
                Change::Add(adds) => {
                    if let Some((h, _)) = adds
                        .iter()
                        .find(|(h, _)| members.iter().any(|m| m.handle == *h))
                    {
                        return Err(ClientError::AlreadyAMember(h.to_string()));
                    }
                    let key_packages: Vec<Vec<u8>> =
                        adds.iter().map(|(_, kp)| kp.clone()).collect();
                    let recipients = adds.iter().map(|(h, _)| h.to_string()).collect();
                    (mls.add_members(gid, &key_packages), recipients)
                }
                Change::Remove(handles) => {
                    if let Some(h) = handles
                        .iter()
                        .find(|h| !members.iter().any(|m| m.handle == **h))
                    {
                        return Err(ClientError::NotAMember(h.to_string()));
                    }
                    (mls.remove_members(gid, handles), Vec::new())
                }
            };
            let outgoing = outgoing.map_err(|e| {
                self.session.mls.discard_changes();
                crypto(e)
            })?;
            let pending = PendingCommit {
                group_id: *gid,
                epoch: outgoing.epoch,
                commit_hash: Sha256::digest(&outgoing.commit).into(),
                welcome: outgoing.welcome.as_ref().map(hex::encode),
                recipients,
                welcome_name: welcome_name.to_owned(),
                conversation: new_conversation.clone(),
            };
            // Saved before the relay sees it: whatever happens next, the next sync can tell
            // whether it was accepted, and never processes our own commit as someone else's.
            let mut batch = StoreBatch::default();
            self.stage_mls(&mut batch);
            batch.put(Key::PendingCommit(gid), &pending)?;
            batch.mark_seen(&pending.commit_hash);
            self.store.apply(batch).await?;
            crate::failpoint::hit("commit.after_persist");

            let relay = self.relay().await?;
            let sent = relay
                .commit(
                    gid,
                    outgoing.epoch,
                    &access,
                    &outgoing.commit,
                    &outgoing.next_access_key.public_key(),
                    crate::clock::now_ms(),
                )
                .await;
            crate::failpoint::hit("commit.after_rpc");
            match sent {
                Ok(seq) => return self.finish_own_commit(pending, Some(seq)).await,
                Err(RelayError::EpochConflict) => self.abort_own_commit(gid).await?,
                // Unreachable: the outcome is unknown, the pending commit settles it later.
                Err(e @ RelayError::Unreachable(_)) => return Err(e.into()),
                Err(e) => {
                    self.abort_own_commit(gid).await?;
                    return Err(e.into());
                }
            }
        }
        let name = self
            .conversation_of(gid)?
            .or(new_conversation)
            .map_or_else(String::new, |c| c.name);
        Err(ClientError::Busy(name))
    }

    /// The relay accepted our commit (at `seq`, if known): merge it, save, send Welcomes.
    pub(crate) async fn finish_own_commit(
        &mut self,
        mut pending: PendingCommit,
        seq: Option<u64>,
    ) -> Result<(), ClientError> {
        let gid = pending.group_id;
        if self.session.mls.epoch(&gid).ok() == Some(pending.epoch) {
            if let Some(seq) = seq {
                self.catch_up_to(&gid, seq).await?;
            }
            self.session.mls.merge_own_commit(&gid).map_err(|e| {
                self.session.mls.discard_changes();
                crypto(e)
            })?;
        }
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        if let Some(seq) = seq {
            batch.put_u64(Key::Cursor(&gid), seq.saturating_add(1));
        }
        if let Some(mut conv) = pending.conversation.take() {
            conv.name = self.unique_name(&conv.name)?;
            self.stage_conversation(&mut batch, &conv)?;
        }
        // Kept (without the conversation, now saved) until every Welcome is delivered.
        batch.put(Key::PendingCommit(&gid), &pending)?;
        self.store.apply(batch).await?;
        crate::failpoint::hit("commit.after_merge");

        if let Some(welcome) = &pending.welcome {
            let welcome =
                hex::decode(welcome).map_err(|_| crate::store::StoreError::Corrupt("welcome"))?;
            for recipient in &pending.recipients {
                match self
                    .deliver_welcome(recipient, &pending.welcome_name, &welcome)
                    .await
                {
                    Ok(()) => {}
                    // Retried by the next sync, which finds the pending commit merged.
                    Err(e @ (ClientError::RelayUnreachable(_) | ClientError::Store(_))) => {
                        return Err(e)
                    }
                    Err(e) => {
                        self.alert(format!("{recipient} could not be invited: {e}"))
                            .await;
                    }
                }
            }
        }
        let mut batch = StoreBatch::default();
        batch.remove(Key::PendingCommit(&gid));
        self.store.apply(batch).await?;
        if let Some(conv) = self.conversation_of(&gid)? {
            self.events.push(Event::MembershipChanged {
                conversation: conv.name,
            });
        }
        Ok(())
    }

    /// The relay refused our commit: drop it and the pending record.
    pub(crate) async fn abort_own_commit(&mut self, gid: &GroupId) -> Result<(), ClientError> {
        if self.session.mls.has_group(gid) {
            if let Err(e) = self.session.mls.abort_own_commit(gid) {
                tracing::debug!(error = %e, "no own commit to abort");
            }
        }
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        batch.remove(Key::PendingCommit(gid));
        self.store.apply(batch).await?;
        Ok(())
    }

    /// Seals a Welcome to `recipient`'s pinned inbox key and deposits it.
    async fn deliver_welcome(
        &mut self,
        recipient: &str,
        conversation_name: &str,
        welcome: &[u8],
    ) -> Result<(), ClientError> {
        let handle =
            Handle::parse(recipient).map_err(|_| crate::store::StoreError::Corrupt("recipient"))?;
        let contact = self.contact(&handle).await?;
        let message = InboxMessage::Welcome {
            conversation_name: conversation_name.to_owned(),
            welcome: welcome.to_vec(),
        }
        .encode()
        .map_err(crypto)?;
        let sealed = envelope::seal(
            &mut OsRng,
            &message,
            &self.session.handle,
            &self.session.inbox,
            &handle,
            &contact.inbox_key(),
        )
        .map_err(crypto)?;
        let relay = self.relay().await?;
        relay.deposit(&handle, &sealed).await?;
        Ok(())
    }
}
