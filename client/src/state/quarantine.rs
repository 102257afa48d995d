//! Poison messages: input that fails to process is set aside once, recorded in the store and
//! reported, so that it is never retried and never blocks what comes after it. Repeated
//! failures to read a group's current epoch are reported as a possible fork by the relay.

use parley_crypto::mls::{GroupId, MlsError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::api::alert::Alert;
use crate::api::error::ClientError;
use crate::api::trust::QuarantinedMessage;
use crate::state::relay::Entry;
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

/// Entries of one epoch that must fail to decrypt before a fork is reported: a single bad
/// entry is more likely damage than a split log.
const FORK_SUSPICION: usize = 2;
/// Group entries kept set aside; one more drops the oldest record (the entry itself stays
/// skipped), so that a member sending garbage cannot fill the store, and the scan for fork
/// signs stays short. (Refused inbox deliveries are only counted, see `refusals`.)
const MAX_QUARANTINED: u64 = 500;

/// The stored record of a quarantined message.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    at_ms: u64,
    conversation: Option<String>,
    reason: String,
    /// The group and our epoch when it failed, for entries that may show a fork.
    #[serde(default)]
    fork_sign: Option<([u8; 32], u64)>,
}

/// Whether a processing failure is what a forked log looks like: an entry of our current
/// epoch that we cannot decrypt, or a commit for an epoch we already left.
pub(crate) fn is_fork_sign(error: &MlsError, entry: &Entry) -> bool {
    match error {
        MlsError::InvalidMessage => true,
        MlsError::WrongEpoch => entry.commit,
        _ => false,
    }
}

impl Ctx<'_> {
    /// Sets a group entry aside: cursor past it, marked seen, recorded, reported. A possible
    /// fork is reported once per group and epoch.
    pub(crate) async fn quarantine_entry(
        &mut self,
        gid: &GroupId,
        entry: &Entry,
        hash: &[u8; 32],
        reason: String,
        fork_sign: bool,
    ) -> Result<(), ClientError> {
        let conversation = match self.conversation_of(gid)? {
            Some(conv) => Some(self.display_name(&conv)?),
            None => None,
        };
        let epoch = self.session.mls.epoch(gid).ok();
        let record = Record {
            at_ms: self.now_ms(),
            conversation: conversation.clone(),
            reason: reason.clone(),
            fork_sign: epoch.filter(|_| fork_sign).map(|e| (*gid, e)),
        };
        let mut batch = StoreBatch::default();
        batch.put_u64(Key::Cursor(gid), entry.seq.saturating_add(1));
        batch.mark_seen(hash);
        let idx = self.store.next_index(Prefix::Quarantine)?;
        batch.put(Key::Quarantine(idx), &record)?;
        self.store.stage_keep_last(
            &mut batch,
            Prefix::Quarantine,
            idx,
            MAX_QUARANTINED,
            Key::Quarantine,
        )?;
        self.store.apply(batch).await?;
        let name = conversation
            .clone()
            .unwrap_or_else(|| "a conversation".to_owned());
        self.alert(Alert::SetAside {
            conversation,
            reason,
        })
        .await;
        if let (true, Some(epoch)) = (fork_sign, epoch) {
            self.report_fork_if_repeated(gid, epoch, &name).await?;
        }
        Ok(())
    }

    async fn report_fork_if_repeated(
        &mut self,
        gid: &GroupId,
        epoch: u64,
        name: &str,
    ) -> Result<(), ClientError> {
        let records: Vec<Record> = self.store.scan(Prefix::Quarantine)?;
        let signs = records
            .iter()
            .filter(|r| r.fork_sign == Some((*gid, epoch)))
            .count();
        let mut marker = Sha256::new();
        marker.update(b"parley fork reported");
        marker.update(gid);
        marker.update(epoch.to_be_bytes());
        let marker: [u8; 32] = marker.finalize().into();
        if signs < FORK_SUSPICION || self.store.seen(&marker)? {
            return Ok(());
        }
        let mut batch = StoreBatch::default();
        batch.mark_seen(&marker);
        self.store.apply(batch).await?;
        self.alert(Alert::ForkSuspected {
            conversation: name.to_owned(),
        })
        .await;
        Ok(())
    }
}

impl Ctx<'_> {
    /// Messages that could not be processed and were set aside, oldest first: group entries
    /// one by one, refused inbox deliveries counted by cause.
    pub(crate) fn quarantined(&self) -> Result<Vec<QuarantinedMessage>, ClientError> {
        let records: Vec<Record> = self.store.scan(Prefix::Quarantine)?;
        let mut all: Vec<QuarantinedMessage> = records
            .into_iter()
            // Inbox refusals recorded one by one by earlier versions keep showing.
            .map(|r| QuarantinedMessage {
                at_ms: r.at_ms,
                conversation: r.conversation,
                reason: r.reason,
                count: 1,
            })
            .collect();
        all.extend(self.refused_deliveries()?);
        all.sort_by_key(|item| item.at_ms);
        Ok(all)
    }
}
