//! What the relay returns, checked and converted from the wire messages.

use parley_crypto::access::AccessKey;
use parley_crypto::mls::GroupId;
use parley_proto::v1 as proto;

use crate::api::error::RelayError;

/// One sealed envelope waiting in an inbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Delivery {
    /// Per-inbox sequence number, used to acknowledge it.
    pub(crate) id: u64,
    /// The sealed envelope as deposited.
    pub(crate) envelope: Vec<u8>,
    /// When the relay received it (relay clock, ms since the Unix epoch).
    pub(crate) received_at_ms: u64,
}

impl TryFrom<proto::Delivery> for Delivery {
    type Error = RelayError;

    fn try_from(d: proto::Delivery) -> Result<Self, Self::Error> {
        if d.envelope.is_empty() {
            return Err(RelayError::Protocol(format!(
                "inbox delivery {} has an empty envelope",
                d.id
            )));
        }
        Ok(Delivery {
            id: d.id,
            envelope: d.envelope,
            received_at_ms: d.received_at_ms,
        })
    }
}

/// One entry of a group log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    /// Position in the group log.
    pub(crate) seq: u64,
    /// The epoch the entry was posted in.
    pub(crate) epoch: u64,
    /// True if the entry is a commit that moved the group to `epoch + 1`.
    pub(crate) commit: bool,
    /// The padded MLS message.
    pub(crate) message: Vec<u8>,
}

/// Unchecked: the callers check the entry against what they asked for.
impl From<proto::Entry> for Entry {
    fn from(e: proto::Entry) -> Entry {
        Entry {
            seq: e.seq,
            epoch: e.epoch,
            commit: e.commit,
            message: e.message,
        }
    }
}

/// A page of one epoch's group log entries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ReadPage {
    /// Entries in sequence order.
    pub(crate) entries: Vec<Entry>,
    /// The group's epoch at the time of the read, as far as the key read with may know: the
    /// epoch read while it is current, the next one once a commit has closed it (the relay
    /// tells an old epoch's key nothing of later epochs).
    pub(crate) current_epoch: u64,
    /// The sequence number the next entry of the epoch read will get, or, once the epoch is
    /// closed, the one after its closing commit.
    pub(crate) next_seq: u64,
}

impl ReadPage {
    /// Checks what the relay promised: entries of the requested epoch, in increasing order,
    /// from `from_seq` on, below `next_seq`. A relay breaking this would make the client skip
    /// or replay messages, so it is a protocol error rather than something to paper over.
    pub(crate) fn from_wire(
        response: proto::ReadResponse,
        epoch: u64,
        from_seq: u64,
    ) -> Result<ReadPage, RelayError> {
        let mut previous: Option<u64> = None;
        let mut entries = Vec::with_capacity(response.entries.len());
        for e in response.entries {
            let in_order = previous.is_none_or(|p| e.seq > p);
            if e.epoch != epoch || e.seq < from_seq || e.seq >= response.next_seq || !in_order {
                return Err(RelayError::Protocol(format!(
                    "group log entry {} (epoch {}) does not fit a read of epoch {epoch} from {from_seq}",
                    e.seq, e.epoch
                )));
            }
            if e.message.is_empty() {
                return Err(RelayError::Protocol(format!(
                    "group log entry {} is empty",
                    e.seq
                )));
            }
            previous = Some(e.seq);
            entries.push(Entry::from(e));
        }
        Ok(ReadPage {
            entries,
            current_epoch: response.current_epoch,
            next_seq: response.next_seq,
        })
    }
}

/// One group to watch, with the access key of an epoch the caller holds.
#[derive(Clone, Copy)]
pub(crate) struct GroupSubscriptionRequest<'a> {
    /// The group.
    pub(crate) group_id: GroupId,
    /// The epoch whose access key is given.
    pub(crate) epoch: u64,
    /// That epoch's relay access key.
    pub(crate) access: &'a AccessKey,
}

/// A group log got a new entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupNotice {
    /// The group.
    pub(crate) group_id: GroupId,
    /// The new entry's sequence number.
    pub(crate) seq: u64,
    /// The entry itself, when the relay sent it along (small entries).
    pub(crate) entry: Option<Entry>,
}

impl GroupNotice {
    /// Checks a notice of a subscription made at `subscribed` (each group with its epoch):
    /// a subscribed group, and an entry (if any) that is the one named, of that epoch. A
    /// relay breaking this is confused or lying; acting on it could make us read a group we
    /// may not even know, or take an entry for another.
    pub(crate) fn from_wire(
        n: proto::GroupNotice,
        subscribed: &[(GroupId, u64)],
    ) -> Result<GroupNotice, RelayError> {
        let group_id: GroupId = n.group_id.as_slice().try_into().map_err(|_| {
            RelayError::Protocol(format!(
                "a group notice carries a group id of {} bytes instead of 32",
                n.group_id.len()
            ))
        })?;
        let Some(&(_, epoch)) = subscribed.iter().find(|(gid, _)| *gid == group_id) else {
            return Err(RelayError::Protocol(
                "the relay sent a notice for a group that was not subscribed".to_owned(),
            ));
        };
        let entry = match n.entry {
            None => None,
            Some(e) if e.seq == n.seq && e.epoch == epoch && !e.message.is_empty() => {
                Some(Entry::from(e))
            }
            Some(e) => {
                return Err(RelayError::Protocol(format!(
                    "a group notice of entry {} carries entry {} of epoch {} ({} bytes), \
                     not one of epoch {epoch}",
                    n.seq,
                    e.seq,
                    e.epoch,
                    e.message.len()
                )))
            }
        };
        Ok(GroupNotice {
            group_id,
            seq: n.seq,
            entry,
        })
    }
}

/// Checks a 32-byte field of a response.
pub(crate) fn exact_32(field: &str, bytes: &[u8]) -> Result<[u8; 32], RelayError> {
    bytes.try_into().map_err(|_| {
        RelayError::Protocol(format!(
            "the {field} is {} bytes instead of 32",
            bytes.len()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire_entry(seq: u64, epoch: u64) -> proto::Entry {
        proto::Entry {
            seq,
            epoch,
            commit: false,
            message: vec![1],
        }
    }

    fn wire_notice(group_id: Vec<u8>, seq: u64, entry: Option<proto::Entry>) -> proto::GroupNotice {
        proto::GroupNotice {
            group_id,
            seq,
            entry,
        }
    }

    #[test]
    fn notice_with_bad_group_id_is_a_protocol_error() {
        let subscribed = [([7; 32], 2)];
        let bad = wire_notice(vec![7; 31], 1, None);
        assert!(matches!(
            GroupNotice::from_wire(bad, &subscribed),
            Err(RelayError::Protocol(_))
        ));
        let good = wire_notice(vec![7; 32], 4, None);
        assert_eq!(
            GroupNotice::from_wire(good, &subscribed).unwrap(),
            GroupNotice {
                group_id: [7; 32],
                seq: 4,
                entry: None,
            }
        );
    }

    #[test]
    fn notice_of_a_group_not_subscribed_is_a_protocol_error() {
        let notice = wire_notice(vec![8; 32], 4, None);
        assert!(matches!(
            GroupNotice::from_wire(notice, &[([7; 32], 2)]),
            Err(RelayError::Protocol(_))
        ));
    }

    #[test]
    fn a_pushed_entry_must_be_the_one_named_in_the_subscribed_epoch() {
        let subscribed = [([7; 32], 2)];
        let pushed = |seq, entry| {
            GroupNotice::from_wire(wire_notice(vec![7; 32], seq, Some(entry)), &subscribed)
        };
        let entry = pushed(4, wire_entry(4, 2)).unwrap().entry.unwrap();
        assert_eq!((entry.seq, entry.epoch, entry.message), (4, 2, vec![1]));
        // Another position, another epoch (an old key must hear nothing newer), nothing.
        for bad in [wire_entry(5, 2), wire_entry(4, 3), wire_entry(4, 1)] {
            assert!(matches!(pushed(4, bad), Err(RelayError::Protocol(_))));
        }
        let mut empty = wire_entry(4, 2);
        empty.message.clear();
        assert!(matches!(pushed(4, empty), Err(RelayError::Protocol(_))));
    }

    #[test]
    fn empty_delivery_is_a_protocol_error() {
        let bad = proto::Delivery {
            id: 1,
            envelope: vec![],
            received_at_ms: 0,
        };
        assert!(matches!(
            Delivery::try_from(bad),
            Err(RelayError::Protocol(_))
        ));
    }

    #[test]
    fn read_pages_are_checked() {
        let page = |entries| proto::ReadResponse {
            entries,
            current_epoch: 3,
            next_seq: 10,
        };
        let ok = ReadPage::from_wire(page(vec![wire_entry(5, 2), wire_entry(7, 2)]), 2, 5).unwrap();
        assert_eq!(ok.entries.len(), 2);
        assert_eq!(ok.next_seq, 10);
        for bad in [
            vec![wire_entry(5, 1)],                   // wrong epoch
            vec![wire_entry(4, 2)],                   // before from_seq
            vec![wire_entry(10, 2)],                  // not below next_seq
            vec![wire_entry(7, 2), wire_entry(6, 2)], // out of order
            vec![wire_entry(7, 2), wire_entry(7, 2)], // repeated
        ] {
            assert!(matches!(
                ReadPage::from_wire(page(bad), 2, 5),
                Err(RelayError::Protocol(_))
            ));
        }
    }
}
