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
use crate::error::{crypto, ClientError};
use crate::events::Event;
use crate::naming::check_own_group_name;
use crate::relay::RelayError;
use crate::store::records::{Conversation, HistoryEntry, PendingCommit, StoredBody, StoredKind};
use crate::store::{Key, StoreBatch, StoreError};

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
        check_own_group_name(name)?;
        self.check_name_is_free(name)?;
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
            group_id: gid,
            kind: StoredKind::Group,
            named_by: self.session.handle.to_string(),
            peer: None,
            title: name.to_owned(),
            name: name.to_owned(),
            active: true,
            retired: false,
            close_pending: false,
        };
        if adds.is_empty() {
            let mut batch = StoreBatch::default();
            self.stage_conversation(&mut batch, &conv)?;
            let message = self.stage_joined(&mut batch, &conv)?;
            self.store.apply(batch).await?;
            self.events.push(Event::Message(message));
            self.events.push(Event::MembershipChanged {
                conversation: self.display_name(&conv)?,
            });
            return Ok(());
        }
        self.commit_change(&gid, &Change::Add(adds), name, Some(conv))
            .await
    }

    /// A name for a group of ours must not be what a person or another conversation is
    /// called here: the handle of a contact or of a 1:1, or one of our other groups.
    fn check_name_is_free(&self, name: &str) -> Result<(), ClientError> {
        let names = self.names()?;
        let taken = names.records().iter().any(|r| {
            (r.is_direct() && r.peer() == name)
                || (r.kind == StoredKind::Group
                    && r.named_by == self.session.handle.as_str()
                    && r.title == name)
        });
        let contact = match Handle::parse(name) {
            Ok(handle) => self.pinned(&handle)?.is_some(),
            Err(_) => false,
        };
        if taken || contact {
            return Err(ClientError::ConversationExists(name.to_owned()));
        }
        Ok(())
    }

    /// Records that we created `conv`, with its members as they are now.
    fn stage_joined(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
    ) -> Result<crate::message::Message, ClientError> {
        let members = self
            .session
            .mls
            .members(&conv.group_id)
            .map_err(crypto)?
            .into_iter()
            .map(|m| m.handle.to_string())
            .collect();
        let entry = HistoryEntry {
            sender: self.session.handle.to_string(),
            sent_at_ms: crate::clock::now_ms(),
            body: StoredBody::Joined {
                members,
                stranger: false,
            },
        };
        self.stage_history(batch, conv, entry)
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
            group_id: gid,
            kind: StoredKind::Direct,
            named_by: own.clone(),
            peer: Some(peer.to_string()),
            title: own.clone(),
            name: peer.to_string(),
            active: true,
            retired: false,
            close_pending: false,
        };
        self.commit_change(&gid, &Change::Add(adds), &own, Some(conv))
            .await?;
        self.conversation_of(&gid)?
            .ok_or_else(|| ClientError::UnknownConversation(peer.to_string()))
    }

    /// The group `name` names, which we must still be in; a 1:1 is refused (it never grows).
    async fn require_group(&mut self, name: &str) -> Result<Conversation, ClientError> {
        if let Err(ClientError::UnknownConversation(_)) = self.resolve(name) {
            self.resolve_fresh(name).await?;
        }
        let conv = self.require_conversation(name)?;
        if conv.kind == StoredKind::Direct {
            return Err(ClientError::NotAGroup(name.to_owned()));
        }
        if !conv.active {
            return Err(self.not_a_member());
        }
        Ok(conv)
    }

    pub(crate) async fn add_member(
        &mut self,
        group: &str,
        handle: &str,
    ) -> Result<(), ClientError> {
        let conv = self.require_group(group).await?;
        let handle =
            Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))?;
        let members = self.session.mls.members(&conv.group_id).map_err(crypto)?;
        if members.iter().any(|m| m.handle == handle) {
            return Err(ClientError::AlreadyAMember(handle.to_string()));
        }
        // Whoever holds a key we no longer trust would get the new epoch's secrets too.
        self.require_trusted_members(&conv)?;
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
        let conv = self.require_group(group).await?;
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

    /// Closes a retired 1:1 by removing the peer's old key from it, so that the peer's side
    /// stops treating it as live; done once, retried by later syncs while the relay cannot
    /// be reached.
    pub(crate) async fn close_retired(&mut self, conv: &Conversation) -> Result<(), ClientError> {
        let peer = Handle::parse(conv.peer()).map_err(|_| StoreError::Corrupt("peer"))?;
        let still_there = self
            .session
            .mls
            .members(&conv.group_id)
            .map_err(crypto)?
            .iter()
            .any(|m| m.handle == peer);
        if conv.active && still_there {
            match self
                .commit_change(
                    &conv.group_id,
                    &Change::Remove(vec![peer]),
                    &conv.title,
                    None,
                )
                .await
            {
                Ok(()) => {}
                Err(e) if e.is_transient() => return Err(e),
                // The peer's side may already be gone (removed us, or the group is unknown):
                // nothing left to close.
                Err(e) => tracing::debug!(error = %e, "a retired 1:1 could not be closed"),
            }
        }
        let closed = Conversation {
            active: false,
            close_pending: false,
            ..self
                .conversation_of(&conv.group_id)?
                .unwrap_or_else(|| conv.clone())
        };
        let mut batch = StoreBatch::default();
        self.stage_conversation(&mut batch, &closed)?;
        self.store.apply(batch).await?;
        Ok(())
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
                removed: match change {
                    Change::Remove(handles) => handles.iter().map(|h| h.to_string()).collect(),
                    Change::Add(_) => Vec::new(),
                },
                welcome_name: welcome_name.to_owned(),
                conversation: new_conversation.clone(),
                recorded: false,
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
        let name = match self.conversation_of(gid)?.or(new_conversation) {
            Some(conv) => self.display_name(&conv)?,
            None => String::new(),
        };
        Err(ClientError::Busy(name))
    }

    /// The relay accepted our commit (at `seq`, if known): merge it, save, send Welcomes.
    pub(crate) async fn finish_own_commit(
        &mut self,
        mut pending: PendingCommit,
        seq: Option<u64>,
    ) -> Result<(), ClientError> {
        let gid = pending.group_id;
        let created = pending.conversation.is_some();
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
        let new_conversation = pending.conversation.take();
        if let Some(conv) = &new_conversation {
            self.stage_conversation(&mut batch, conv)?;
        }
        // Our own change goes into the history once, in the batch that merges it (a second
        // call, after a crash before the Welcomes went out, finds it recorded).
        let mut message = None;
        if !pending.recorded {
            let conv = match new_conversation {
                Some(conv) => Some(conv),
                None => self.conversation_of(&gid)?,
            };
            if let Some(conv) = conv {
                message = self.stage_own_change(&mut batch, &conv, &pending, created)?;
            }
            pending.recorded = true;
        }
        // Kept (without the conversation, now saved) until every Welcome is delivered.
        batch.put(Key::PendingCommit(&gid), &pending)?;
        self.store.apply(batch).await?;
        if let Some(message) = message {
            self.events.push(Event::Message(message));
        }
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
                conversation: self.display_name(&conv)?,
            });
        }
        Ok(())
    }

    /// The history entry for a change of ours: "created" for a new group, the members added
    /// or removed for an existing one; none for a new 1:1 or the closing of a retired one.
    fn stage_own_change(
        &self,
        batch: &mut StoreBatch,
        conv: &Conversation,
        pending: &PendingCommit,
        created: bool,
    ) -> Result<Option<crate::message::Message>, ClientError> {
        if conv.kind == StoredKind::Direct {
            return Ok(None);
        }
        if created {
            return self.stage_joined(batch, conv).map(Some);
        }
        let entry = HistoryEntry {
            sender: self.session.handle.to_string(),
            sent_at_ms: crate::clock::now_ms(),
            body: StoredBody::Membership {
                added: pending.recipients.clone(),
                removed: pending.removed.clone(),
            },
        };
        self.stage_history(batch, conv, entry).map(Some)
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
