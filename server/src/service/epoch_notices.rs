//! The notices of a group subscription: each new entry of a group while the epoch whose key
//! opened the subscription is current, then the commit that closes that epoch, then the end.
//!
//! The access key of epoch N may read the entries of epoch N, the commit closing it
//! included, and nothing after (a removed member keeps that key), so its stream tells no
//! more than that. As soon as one of the subscribed groups has left the epoch it was
//! subscribed at, the whole stream ends: the member syncs, derives the new key from the
//! commit and subscribes again; an old key's holder hears no more.

use futures::{Stream, StreamExt};
use parley_proto::v1::{Entry, GroupNotice};
use tokio::sync::watch;
use tonic::Status;

use super::status;
use crate::store::{SharedStore, StoredEntry};

/// The largest message a notice carries; a larger one is left to the subscriber's read.
const MAX_PUSHED_MESSAGE: usize = 65_536;

/// What the watch of one group heard.
enum Heard {
    /// A new entry of the watched epoch, at this sequence number (with the entry, if small).
    Entry(u64, Option<Entry>),
    /// The commit (at this sequence number, with it if small) that closed the watched
    /// epoch; nothing follows.
    Closed(u64, Option<Entry>),
}

/// One group watched at one epoch.
pub(super) struct EpochWatch {
    store: SharedStore,
    group_id: [u8; 32],
    epoch: u64,
    wake: watch::Receiver<u64>,
    /// False until the first look at the store, which does not wait for a wake-up.
    looked: bool,
}

impl EpochWatch {
    /// Watches `epoch` of `group_id`; `wake` must have been subscribed before the caller
    /// checked that the epoch exists, so that no commit falls between the two.
    pub(super) fn new(
        store: SharedStore,
        group_id: [u8; 32],
        epoch: u64,
        wake: watch::Receiver<u64>,
    ) -> EpochWatch {
        EpochWatch {
            store,
            group_id,
            epoch,
            wake,
            looked: false,
        }
    }

    /// The sequence number of the commit that closed the epoch, once there is one: the
    /// next epoch's key is written in the same transaction as that commit.
    async fn closing_commit(&self) -> Result<Option<u64>, Status> {
        let Some(next) = self.epoch.checked_add(1) else {
            return Ok(None);
        };
        let key = self
            .store
            .epoch_key(&self.group_id, next)
            .await
            .map_err(status::storage)?;
        Ok(key.map(|key| key.first_seq.saturating_sub(1)))
    }

    /// What comes next, and the watch to go on with (none after the end or an error).
    async fn next(mut self) -> Option<(Result<Heard, Status>, Option<EpochWatch>)> {
        loop {
            if self.looked && self.wake.changed().await.is_err() {
                // The relay is shutting down.
                return None;
            }
            let first = !self.looked;
            self.looked = true;
            // Taken before the store is read: if the epoch is still open after that read,
            // the entry this names belongs to it.
            let seq = *self.wake.borrow_and_update();
            match self.closing_commit().await {
                Err(status) => return Some((Err(status), None)),
                Ok(Some(commit)) => return Some((self.heard(commit, Heard::Closed).await, None)),
                // The first look only checks that the epoch is still open: entries already
                // there are the subscriber's to read.
                Ok(None) if first => continue,
                Ok(None) => {
                    let heard = self.heard(seq, Heard::Entry).await;
                    return Some((heard, Some(self)));
                }
            }
        }
    }

    /// What was heard at `seq`, with its entry when that belongs to the watched epoch
    /// and is small enough to push.
    async fn heard(
        &self,
        seq: u64,
        kind: fn(u64, Option<Entry>) -> Heard,
    ) -> Result<Heard, Status> {
        let entries = self
            .store
            .read_entries(&self.group_id, self.epoch, seq, seq, 1, MAX_PUSHED_MESSAGE)
            .await
            .map_err(status::storage)?;
        let entry = entries
            .into_iter()
            .next()
            .filter(|e| e.seq == seq && e.epoch == self.epoch)
            .filter(|e| e.message.len() <= MAX_PUSHED_MESSAGE)
            .map(wire_entry);
        Ok(kind(seq, entry))
    }
}

/// The notices of `watches`, merged; the stream ends after the notice of the first commit
/// that closes a watched epoch, or after an error.
pub(super) fn notices(
    watches: Vec<EpochWatch>,
) -> impl Stream<Item = Result<GroupNotice, Status>> + Send + 'static {
    let streams = watches.into_iter().map(|watch| {
        let group_id = watch.group_id;
        futures::stream::unfold(Some(watch), |watch| async move { watch?.next().await })
            .map(move |heard| (group_id, heard))
            .boxed()
    });
    let merged = futures::stream::select_all(streams);
    // Ends at once after the last notice, without waiting for the other groups' watches
    // to speak.
    futures::stream::unfold(Some(merged), |merged| async move {
        let mut merged = merged?;
        let (group_id, heard) = merged.next().await?;
        Some(match heard {
            Ok(Heard::Entry(seq, entry)) => (Ok(notice(&group_id, seq, entry)), Some(merged)),
            Ok(Heard::Closed(seq, entry)) => (Ok(notice(&group_id, seq, entry)), None),
            Err(status) => (Err(status), None),
        })
    })
}

/// A stored entry as the wire carries it (in a Read page or a notice).
pub(super) fn wire_entry(e: StoredEntry) -> Entry {
    Entry {
        seq: e.seq,
        epoch: e.epoch,
        commit: e.commit,
        message: e.message,
    }
}

/// The notice of entry `seq` of `group_id`.
fn notice(group_id: &[u8; 32], seq: u64, entry: Option<Entry>) -> GroupNotice {
    GroupNotice {
        group_id: group_id.to_vec(),
        seq,
        entry,
    }
}
