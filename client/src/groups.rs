//! Group logs: reading every group's new entries and processing them in order.

use parley_crypto::mls::{GroupId, Incoming, IncomingCommit, Member};
use parley_crypto::payload::Payload;
use sha2::{Digest, Sha256};

use crate::client::Ctx;
use crate::error::ClientError;
use crate::events::Event;
use crate::relay::{Entry, ReadPage, RelayError};
use crate::store::records::{Conversation, HistoryEntry, PendingCommit, StoredBody, StoredKind};
use crate::store::{Key, Prefix, StoreBatch};

/// Entries read per request.
const READ_LIMIT: u32 = 100;

impl Ctx<'_> {
    /// One full sync: unfinished commits, the inbox, every active group, KeyPackage top-up.
    pub(crate) async fn sync_all(&mut self) -> Result<(), ClientError> {
        let pending: Vec<PendingCommit> = self.store.scan(Prefix::PendingCommits)?;
        for commit in pending {
            self.sync_group_or_log(&commit.group_id).await?;
        }
        match self.sync_inbox().await {
            // The relay no longer takes our key for our handle (it was released and someone
            // registered it again): our conversations still work, only the inbox is lost.
            Err(ClientError::Relay(RelayError::PermissionDenied)) => {
                self.alert_once(format!(
                    "the relay no longer accepts your key for the handle {}: it was released \
                     and may belong to someone else now; new invitations cannot reach you",
                    self.session.handle
                ))
                .await;
            }
            other => other?,
        }
        self.release_decided().await?;
        for conv in self.conversations()? {
            if conv.active {
                self.sync_group_or_log(&conv.group_id).await?;
            }
        }
        self.close_retired_directs().await?;
        match self.top_up_key_packages().await {
            // Our handle was released (see above): nobody can be given our KeyPackages.
            Err(ClientError::Relay(RelayError::PermissionDenied)) => Ok(()),
            other => other,
        }
    }

    /// Syncs one group; a relay refusal for one group must not stop the others.
    async fn sync_group_or_log(&mut self, gid: &GroupId) -> Result<(), ClientError> {
        match self.sync_group(gid).await {
            Err(e @ (ClientError::RelayUnreachable(_) | ClientError::Store(_))) => Err(e),
            Err(e) => {
                tracing::warn!(error = %e, "a group could not be synced");
                Ok(())
            }
            Ok(()) => Ok(()),
        }
    }

    /// Reads and processes a group's log until we are at the relay's epoch with nothing new.
    pub(crate) async fn sync_group(&mut self, gid: &GroupId) -> Result<(), ClientError> {
        if let Some(pending) = self.pending_commit(gid)? {
            if self.session.mls.has_group(gid)
                && self.session.mls.epoch(gid).ok() > Some(pending.epoch)
            {
                // Merged before a crash, Welcomes perhaps not delivered yet.
                self.finish_own_commit(pending, None).await?;
            }
        }
        loop {
            if !self.session.mls.has_group(gid) || !self.session.mls.is_active(gid).unwrap_or(false)
            {
                return Ok(());
            }
            let cursor = self.store.get_u64(Key::Cursor(gid))?;
            let (epoch, page) = self.read_page(gid, cursor).await?;
            crate::failpoint::hit("group.after_fetch");
            if page.entries.is_empty() {
                if let Some(pending) = self.pending_commit(gid)? {
                    // All of epoch N is read and our commit is not in it: the relay refused it.
                    if pending.epoch == epoch {
                        self.abort_own_commit(gid).await?;
                    }
                }
                if page.current_epoch != epoch {
                    // A commit we could not process (refused or undecryptable) left us behind.
                    tracing::warn!(epoch, current = page.current_epoch, "group is ahead of us");
                }
                return Ok(());
            }
            // After a commit, the page's remaining entries belong to the epoch it closed: an
            // honest relay never serves any (it takes posts only in the current epoch), a
            // reordering one may. They are still processed (application messages of recent
            // epochs remain readable, anything else is set aside) rather than skipped, which
            // would lose them; then reading goes on with the next epoch's access key.
            for entry in page.entries {
                if entry.seq < cursor {
                    continue;
                }
                self.process_entry(gid, &entry).await?;
            }
        }
    }

    /// Processes one log entry.
    async fn process_entry(&mut self, gid: &GroupId, entry: &Entry) -> Result<(), ClientError> {
        let hash: [u8; 32] = Sha256::digest(&entry.message).into();
        if let Some(pending) = self.pending_commit(gid)? {
            if pending.commit_hash == hash {
                return self.finish_own_commit(pending, Some(entry.seq)).await;
            }
            if entry.commit {
                // Someone else's commit won the epoch.
                self.abort_own_commit(gid).await?;
            }
        }
        self.process_foreign_entry(gid, entry, &hash).await
    }

    /// Processes an entry that is not our pending commit.
    async fn process_foreign_entry(
        &mut self,
        gid: &GroupId,
        entry: &Entry,
        hash: &[u8; 32],
    ) -> Result<(), ClientError> {
        let hash = *hash;
        if self.store.seen(&hash)? {
            return self.skip_seen_entry(gid, entry, &hash).await;
        }
        match self.session.mls.process(gid, &entry.message) {
            Ok(Incoming::Application { sender, payload }) => {
                self.accept_application(gid, entry, &hash, &sender, &payload)
                    .await
            }
            Ok(Incoming::Commit(commit)) => self.accept_commit(gid, entry, &hash, commit).await,
            Ok(_) => {
                let mut batch = StoreBatch::default();
                self.stage_mls(&mut batch);
                batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
                batch.mark_seen(&hash);
                self.store.apply(batch).await?;
                Ok(())
            }
            Err(e) => {
                // A replay, an entry of an old epoch, garbage: set it aside once, never stall
                // the log, never retry it.
                tracing::debug!(seq = entry.seq, error = %e, "quarantining a group entry");
                self.session.mls.discard_changes();
                let fork_sign = crate::quarantine::is_fork_sign(&e, entry);
                self.quarantine_entry(gid, entry, &hash, e.to_string(), fork_sign)
                    .await
            }
        }
    }

    async fn skip_entry(
        &mut self,
        gid: &GroupId,
        entry: &Entry,
        hash: &[u8; 32],
    ) -> Result<(), ClientError> {
        let mut batch = StoreBatch::default();
        batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
        batch.mark_seen(hash);
        self.store.apply(batch).await?;
        Ok(())
    }

    async fn accept_application(
        &mut self,
        gid: &GroupId,
        entry: &Entry,
        hash: &[u8; 32],
        sender: &Member,
        payload: &[u8],
    ) -> Result<(), ClientError> {
        let conv = self.conversation_of(gid)?;
        let body = match Payload::decode(payload) {
            Ok(Payload::Text { sent_at_ms, text }) => Some((sent_at_ms, StoredBody::Text(text))),
            Ok(Payload::Unknown {
                kind, sent_at_ms, ..
            }) => Some((sent_at_ms, StoredBody::Unsupported { kind })),
            Err(_) => None,
        };
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
        batch.mark_seen(hash);
        let message = match (&conv, body) {
            (Some(conv), Some((sent_at_ms, body))) => Some(self.stage_history(
                &mut batch,
                conv,
                HistoryEntry {
                    sender: sender.handle.to_string(),
                    sent_at_ms,
                    body,
                },
            )?),
            _ => None,
        };
        crate::failpoint::hit("group.after_process");
        self.store.apply(batch).await?;
        crate::failpoint::hit("group.after_persist");
        match message {
            Some(message) => self.events.push(Event::Message(message)),
            None if conv.is_some() => {
                self.alert(format!(
                    "{} sent a message that could not be read",
                    sender.handle
                ))
                .await;
            }
            None => {}
        }
        Ok(())
    }

    /// Checks the members a commit adds, then merges it and records the change in the
    /// history, where every member sees it.
    async fn accept_commit(
        &mut self,
        gid: &GroupId,
        entry: &Entry,
        hash: &[u8; 32],
        commit: IncomingCommit,
    ) -> Result<(), ClientError> {
        let conv = self.conversation_of(gid)?;
        let committer = commit.sender().map(|m| m.handle.to_string());
        // A 1:1 never grows: whoever adds a third person would hear what is meant for one.
        if conv.as_ref().is_some_and(|c| c.kind == StoredKind::Direct) && !commit.added().is_empty()
        {
            self.session.mls.discard_changes();
            let who = committer.unwrap_or_else(|| "someone".to_owned());
            return self
                .quarantine_entry(
                    gid,
                    entry,
                    hash,
                    format!("{who} tried to add someone to your private conversation with them; refused"),
                    false,
                )
                .await;
        }
        let mut to_check: Vec<Member> = commit.added().to_vec();
        to_check.extend(commit.sender().cloned());
        for member in &to_check {
            if let Err(e) = self.verify_member(member).await {
                if e.is_transient() {
                    self.session.mls.discard_changes();
                    return Err(e);
                }
                self.session.mls.discard_changes();
                let name = match &conv {
                    Some(conv) => self.display_name(conv)?,
                    None => "a conversation".to_owned(),
                };
                return self
                    .quarantine_entry(
                        gid,
                        entry,
                        hash,
                        format!("a change to {name} was refused: {e}"),
                        false,
                    )
                    .await;
            }
        }
        let removes_us = commit.removes_us();
        let added: Vec<String> = commit
            .added()
            .iter()
            .map(|m| m.handle.to_string())
            .collect();
        let removed: Vec<String> = commit
            .removed()
            .iter()
            .map(|m| m.handle.to_string())
            .collect();
        if let Err(e) = self.session.mls.merge_incoming_commit(gid, commit) {
            tracing::warn!(error = %e, "could not merge a commit");
            self.session.mls.discard_changes();
            return self
                .quarantine_entry(gid, entry, hash, e.to_string(), false)
                .await;
        }
        let mut batch = StoreBatch::default();
        self.stage_mls(&mut batch);
        batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
        batch.mark_seen(hash);
        let mut message = None;
        if let Some(conv) = &conv {
            let conv = Conversation {
                active: conv.active && !removes_us,
                ..conv.clone()
            };
            self.stage_conversation(&mut batch, &conv)?;
            if !added.is_empty() || !removed.is_empty() {
                let change = HistoryEntry {
                    sender: committer.clone().unwrap_or_default(),
                    sent_at_ms: crate::clock::now_ms(),
                    body: StoredBody::Membership { added, removed },
                };
                message = Some(self.stage_history(&mut batch, &conv, change)?);
            }
        }
        crate::failpoint::hit("group.commit_after_process");
        self.store.apply(batch).await?;
        if let Some(conv) = conv {
            let shown = self.display_name(&conv)?;
            if let Some(message) = message {
                self.events.push(Event::Message(message));
            }
            self.events.push(Event::MembershipChanged {
                conversation: shown.clone(),
            });
            if removes_us {
                let by = committer.unwrap_or_else(|| "someone".to_owned());
                let text = if conv.kind == StoredKind::Direct {
                    format!("{by} closed an earlier private conversation with you")
                } else {
                    format!("you were removed from {shown} by {by}")
                };
                self.alert(text).await;
            }
        }
        Ok(())
    }

    /// Before our commit at `commit_seq` is merged, processes what others posted in the same
    /// epoch ahead of it: after the merge those messages could no longer be decrypted.
    pub(crate) async fn catch_up_to(
        &mut self,
        gid: &GroupId,
        commit_seq: u64,
    ) -> Result<(), ClientError> {
        loop {
            let cursor = self.store.get_u64(Key::Cursor(gid))?;
            if cursor >= commit_seq {
                return Ok(());
            }
            let (_, page) = self.read_page(gid, cursor).await?;
            let mut progressed = false;
            for entry in page.entries {
                if entry.seq < cursor {
                    continue;
                }
                if entry.seq >= commit_seq {
                    return Ok(());
                }
                progressed = true;
                let hash: [u8; 32] = Sha256::digest(&entry.message).into();
                if entry.commit {
                    // The relay let no other commit into this epoch before ours.
                    self.skip_entry(gid, &entry, &hash).await?;
                } else {
                    self.process_foreign_entry(gid, &entry, &hash).await?;
                }
            }
            if !progressed {
                return Ok(());
            }
        }
    }

    /// Reads one page of the group log at our current epoch, from `cursor` on, signed with
    /// that epoch's access key; returns the epoch it read with and the page.
    async fn read_page(
        &mut self,
        gid: &GroupId,
        cursor: u64,
    ) -> Result<(u64, ReadPage), ClientError> {
        let epoch = self.session.mls.epoch(gid).map_err(crate::error::crypto)?;
        let access = self
            .session
            .mls
            .access_key(gid)
            .map_err(crate::error::crypto)?;
        let relay = self.relay().await?;
        let page = relay
            .read(
                gid,
                epoch,
                &access,
                cursor,
                READ_LIMIT,
                crate::clock::now_ms(),
            )
            .await?;
        Ok((epoch, page))
    }

    pub(crate) fn pending_commit(
        &self,
        gid: &GroupId,
    ) -> Result<Option<PendingCommit>, ClientError> {
        Ok(self.store.get(Key::PendingCommit(gid))?)
    }
}
