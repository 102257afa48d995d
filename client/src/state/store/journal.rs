//! Atomic batches without sled's batches: the writes of a batch are first kept as ONE record
//! (the journal), then applied one by one, then the record is removed.
//!
//! Why not `sled::Tree::apply_batch`: sled 0.34 makes a batch atomic by writing out its log
//! buffer before and after the batch's manifest (`pin_log`), each time a hand-off to one of
//! its I/O threads, a `pwrite` and a `sync_file_range` that waits for the device, flush or
//! no flush. On a receiving member that was about 40% of its CPU. Single inserts only append
//! to the log buffer, which is written when full or flushed.
//!
//! Why it is atomic: sled recovers its log in order and stops at the first torn message, so
//! after a crash a write survives only with every write before it. If any write of a batch
//! survived, its journal record did too, and [`Journal::recover`] applies the whole batch
//! again when the store opens (putting the same sealed values and removing the same keys
//! twice is harmless). Once the record's removal survived, every write of the batch did.
//! The record holds what the batch writes (record keys, which are keyed hashes, and sealed
//! values), nothing in the clear that the records themselves do not show.

use crate::api::error::StoreError;

/// The name of the tree that holds the journal record, beside the client's one tree.
pub(super) const TREE: &[u8] = b"parley-journal";
/// The key of the one journal record.
pub(super) const KEY: &[u8] = b"batch";
/// The first byte of a journal record: its format.
const VERSION: u8 = 1;

/// One write of a batch as it goes to disk: the record's tree key, and its sealed value or
/// `None` for a removal.
pub(crate) type Write = (Vec<u8>, Option<Vec<u8>>);

/// Why a journal record could not be read back.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JournalError {
    /// The record is of a format this client does not know.
    #[error("unknown journal format")]
    Version,
    /// The record ends before a length it gives, or goes on after its last write.
    #[error("the journal record is cut short or too long")]
    Length,
    /// A write is neither a put nor a removal.
    #[error("a journal write of an unknown kind")]
    Kind,
}

impl From<JournalError> for StoreError {
    fn from(_: JournalError) -> Self {
        StoreError::Corrupt("the record of an unfinished write")
    }
}

/// The journal of one database.
#[derive(Clone)]
pub(super) struct Journal {
    tree: sled::Tree,
}

impl Journal {
    /// Opens the journal of `db`.
    pub(super) fn open(db: &sled::Db) -> Result<Journal, StoreError> {
        Ok(Journal {
            tree: db.open_tree(TREE)?,
        })
    }

    /// Applies `writes` to `tree` so that a crash leaves all of them or none (once
    /// [`Journal::recover`] ran). Callers must not run two at once. A write that fails
    /// leaves the record in place: sled fails on the disk's errors, and then keeps failing
    /// every later write (its global error), so the record is finished at the next opening.
    pub(super) fn apply(&self, tree: &sled::Tree, writes: &[Write]) -> Result<(), StoreError> {
        match writes {
            [] => return Ok(()),
            // One write is atomic by itself.
            [single] => return write_one(tree, single),
            _ => {}
        }
        self.tree.insert(KEY, encode(writes))?;
        failpoint_on_disk("store.after_journal", tree);
        for (index, write) in writes.iter().enumerate() {
            write_one(tree, write)?;
            if index + 2 == writes.len() {
                failpoint_on_disk("store.before_last_write", tree);
            }
        }
        self.tree.remove(KEY)?;
        Ok(())
    }

    /// Finishes the batch a crash interrupted, if any; true if there was one (the caller
    /// flushes before going on).
    pub(super) fn recover(&self, tree: &sled::Tree) -> Result<bool, StoreError> {
        let Some(record) = self.tree.get(KEY)? else {
            return Ok(false);
        };
        for write in decode(&record)? {
            write_one(tree, &write)?;
        }
        self.tree.remove(KEY)?;
        Ok(true)
    }

    /// Whether no batch is in the middle of being applied.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.tree.is_empty()
    }

    /// Writes `writes` as the journal record and applies only the first `applied` of them:
    /// the state a crash in the middle of [`Journal::apply`] leaves.
    #[cfg(test)]
    pub(super) fn interrupt(
        &self,
        tree: &sled::Tree,
        writes: &[Write],
        applied: usize,
    ) -> Result<(), StoreError> {
        self.tree.insert(KEY, encode(writes))?;
        writes
            .iter()
            .take(applied)
            .try_for_each(|w| write_one(tree, w))
    }
}

fn write_one(tree: &sled::Tree, (key, value): &Write) -> Result<(), StoreError> {
    match value {
        Some(value) => tree.insert(key.as_slice(), value.as_slice())?,
        None => tree.remove(key.as_slice())?,
    };
    Ok(())
}

/// In test builds, a failpoint that first puts what was written so far on disk (a power
/// cut after sled wrote its log that far), then aborts.
fn failpoint_on_disk(point: &str, tree: &sled::Tree) {
    #[cfg(feature = "test-support")]
    if crate::state::failpoint::armed(point) {
        let _ = tree.flush();
        crate::state::failpoint::hit(point);
    }
    #[cfg(not(feature = "test-support"))]
    let _ = (point, tree);
}

/// `VERSION | u32 count | count x (u32 key length | key | 0, or 1 | u32 value length | value)`,
/// lengths big-endian.
pub(crate) fn encode(writes: &[Write]) -> Vec<u8> {
    let size: usize = writes
        .iter()
        .map(|(key, value)| 9 + key.len() + value.as_ref().map_or(0, |v| 4 + v.len()))
        .sum();
    let mut out = Vec::with_capacity(5 + size);
    out.push(VERSION);
    push_len(&mut out, writes.len());
    for (key, value) in writes {
        push_len(&mut out, key.len());
        out.extend_from_slice(key);
        match value {
            None => out.push(0),
            Some(value) => {
                out.push(1);
                push_len(&mut out, value.len());
                out.extend_from_slice(value);
            }
        }
    }
    out
}

fn push_len(out: &mut Vec<u8>, len: usize) {
    // Record keys and sealed values are far below 4 GiB (a value is at most a few MiB).
    let len = u32::try_from(len).unwrap_or(u32::MAX);
    out.extend_from_slice(&len.to_be_bytes());
}

/// Reads a journal record back; anything but exactly what [`encode`] writes is refused.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Write>, JournalError> {
    let mut reader = Reader(bytes);
    if reader.take(1)? != [VERSION] {
        return Err(JournalError::Version);
    }
    let count = reader.len()?;
    // Each write takes at least 5 bytes: a count beyond that is a lie, not an allocation.
    let mut writes = Vec::with_capacity(count.min(bytes.len() / 5));
    for _ in 0..count {
        let key_len = reader.len()?;
        let key = reader.take(key_len)?.to_vec();
        let value = match reader.take(1)? {
            [0] => None,
            [1] => {
                let value_len = reader.len()?;
                Some(reader.take(value_len)?.to_vec())
            }
            _ => return Err(JournalError::Kind),
        };
        writes.push((key, value));
    }
    if !reader.0.is_empty() {
        return Err(JournalError::Length);
    }
    Ok(writes)
}

/// What is left of a record being read.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], JournalError> {
        if self.0.len() < n {
            return Err(JournalError::Length);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn len(&mut self) -> Result<usize, JournalError> {
        let bytes: [u8; 4] = self.take(4)?.try_into().map_err(|_| JournalError::Length)?;
        usize::try_from(u32::from_be_bytes(bytes)).map_err(|_| JournalError::Length)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Write> {
        vec![
            (b"k1".to_vec(), Some(b"sealed one".to_vec())),
            (b"k2".to_vec(), None),
            (Vec::new(), Some(Vec::new())),
        ]
    }

    #[test]
    fn a_record_reads_back_as_written() {
        assert_eq!(decode(&encode(&sample())).unwrap(), sample());
        assert_eq!(decode(&encode(&[])).unwrap(), Vec::<Write>::new());
    }

    #[test]
    fn a_damaged_record_is_refused_with_its_reason() {
        let good = encode(&sample());
        for cut in 0..good.len() {
            assert!(decode(&good[..cut]).is_err(), "cut at {cut} was read");
        }
        let mut longer = good.clone();
        longer.push(0);
        assert_eq!(decode(&longer), Err(JournalError::Length));
        let mut version = good.clone();
        version[0] = 2;
        assert_eq!(decode(&version), Err(JournalError::Version));
        let mut kind = good.clone();
        // VERSION, count, key length, "k1", then the kind byte.
        kind[1 + 4 + 4 + 2] = 7;
        assert_eq!(decode(&kind), Err(JournalError::Kind));
        let mut count = good;
        count[1..5].copy_from_slice(&u32::MAX.to_be_bytes());
        assert_eq!(decode(&count), Err(JournalError::Length));
    }
}
