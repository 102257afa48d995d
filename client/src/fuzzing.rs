//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): not a stable API.
//!
//! What the relay returns is decoded by prost, then checked before anything acts on it (a
//! page of a group's log, a pushed notice, an inbox delivery). These wrappers hand those
//! checks what a hostile relay could send and verify the promise each passed check makes to
//! the code after it: an `Err` here is a broken promise, which the fuzz target turns into a
//! crash. A refused response is `Ok(false)`. The local store's journal record, read back
//! when a store opens, is checked the same way, and so is a stored record of MLS state.

use parley_crypto::mls::GroupId;
use parley_proto::v1 as proto;

use crate::state::relay::types::{Delivery, GroupNotice, ReadPage};
use crate::state::store::{journal, mls_record};

/// Checks a read of epoch `epoch` from `from_seq`; when it passes, every entry must be of
/// that epoch, from `from_seq` on, below the page's `next_seq`, in increasing order and not
/// empty: what the group log's processing relies on to neither skip nor replay.
pub fn read_page(response: proto::ReadResponse, epoch: u64, from_seq: u64) -> Result<bool, String> {
    let Ok(page) = ReadPage::from_wire(response, epoch, from_seq) else {
        return Ok(false);
    };
    let mut previous: Option<u64> = None;
    for entry in &page.entries {
        let fits = entry.epoch == epoch
            && entry.seq >= from_seq
            && entry.seq < page.next_seq
            && previous.is_none_or(|p| entry.seq > p)
            && !entry.message.is_empty();
        if !fits {
            return Err(format!(
                "a page read from {from_seq} in epoch {epoch} (next {}) passed with entry {} of epoch {}",
                page.next_seq, entry.seq, entry.epoch
            ));
        }
        previous = Some(entry.seq);
    }
    Ok(true)
}

/// Checks a notice of a subscription to `subscribed` (each group with its epoch); when it
/// passes, its group must be one of them and its entry, if any, the one it names, of that
/// group's epoch and not empty: what taking a pushed entry without a read relies on.
pub fn group_notice(
    notice: proto::GroupNotice,
    subscribed: &[(GroupId, u64)],
) -> Result<bool, String> {
    let Ok(checked) = GroupNotice::from_wire(notice, subscribed) else {
        return Ok(false);
    };
    let Some(&(_, epoch)) = subscribed.iter().find(|(gid, _)| *gid == checked.group_id) else {
        return Err("a notice of a group not subscribed passed".to_owned());
    };
    if let Some(entry) = &checked.entry {
        if entry.seq != checked.seq || entry.epoch != epoch || entry.message.is_empty() {
            return Err(format!(
                "a notice of entry {} in epoch {epoch} passed carrying entry {} of epoch {}",
                checked.seq, entry.seq, entry.epoch
            ));
        }
    }
    Ok(true)
}

/// Checks an inbox delivery; when it passes, its envelope must not be empty.
pub fn delivery(delivery: proto::Delivery) -> Result<bool, String> {
    match Delivery::try_from(delivery) {
        Err(_) => Ok(false),
        Ok(checked) if checked.envelope.is_empty() => Err(format!(
            "delivery {} passed with an empty envelope",
            checked.id
        )),
        Ok(_) => Ok(true),
    }
}

/// Reads a journal record of the local store (the writes of a batch a crash may have
/// interrupted, read back when the store opens); when it reads, writing its writes again
/// must give exactly the record: nothing skipped, nothing invented.
pub fn store_journal(record: &[u8]) -> Result<bool, String> {
    let Ok(writes) = journal::decode(record) else {
        return Ok(false);
    };
    if journal::encode(&writes) != record {
        return Err(format!(
            "a journal record of {} bytes read as {} writes that encode differently",
            record.len(),
            writes.len()
        ));
    }
    Ok(true)
}

/// Reads a stored MLS record (OpenMLS's JSON with its byte arrays packed, or JSON written
/// before packing) as a damaged or tampered disk would hold it. When a packed record reads,
/// its text packed again must read as exactly that text: what OpenMLS is handed when the
/// store opens is what was stored.
pub fn store_mls_record(record: &[u8]) -> Result<bool, String> {
    let Ok(text) = mls_record::to_json(record) else {
        return Ok(false);
    };
    if record.first() != Some(&mls_record::FORMAT) {
        return Ok(true);
    }
    let again = mls_record::pack(&text)
        .map_err(|e| format!("the text a packed record read as cannot be packed: {e}"))?;
    match mls_record::to_json(&again) {
        Ok(same) if same == text => Ok(true),
        Ok(_) => Err("a packed record's text reads differently once packed again".into()),
        Err(e) => Err(format!(
            "a packed record's text packed again does not read: {e}"
        )),
    }
}
