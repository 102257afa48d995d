//! The layout of the client's one sled tree: every key the client writes is built here.
//!
//! Keeping the layout in one place lets a later change (hashing every key so that handles and
//! group ids do not show on disk) stay local to this module.

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;

/// One record of the store, by kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    /// Relay address, pinned fingerprint, our handle.
    Settings,
    /// Our identity and inbox secret keys.
    Identity,
    /// The pinned directory record of a contact.
    Contact(&'a Handle),
    /// A conversation, by its local name.
    Conversation(&'a str),
    /// Group id -> local conversation name.
    GroupName(&'a GroupId),
    /// The next group-log sequence number to read.
    Cursor(&'a GroupId),
    /// One message of a conversation's history, by position.
    History(&'a GroupId, u64),
    /// A processed ciphertext (group entry or inbox delivery), by SHA-256.
    Seen(&'a [u8; 32]),
    /// One key of the MLS engine's key/value state.
    Mls(&'a [u8]),
    /// A commit sent to the relay whose outcome is not yet known.
    PendingCommit(&'a GroupId),
    /// A security alert, by position.
    Alert(u64),
}

/// A range of records scanned together, in key order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Prefix<'a> {
    /// All conversations.
    Conversations,
    /// The history of one group.
    History(&'a GroupId),
    /// All MLS state.
    Mls,
    /// All pending commits.
    PendingCommits,
    /// All alerts.
    Alerts,
}

impl Key<'_> {
    /// The tree key of this record.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Key::Settings => b"settings".to_vec(),
            Key::Identity => b"identity".to_vec(),
            Key::Contact(handle) => join(b"contact/", handle.as_str().as_bytes()),
            Key::Conversation(name) => join(b"conv/", name.as_bytes()),
            Key::GroupName(gid) => join(b"gid/", &gid[..]),
            Key::Cursor(gid) => join(b"cursor/", &gid[..]),
            Key::History(gid, idx) => {
                let mut key = Prefix::History(gid).encode();
                key.extend_from_slice(&idx.to_be_bytes());
                key
            }
            Key::Seen(hash) => join(b"seen/", &hash[..]),
            Key::Mls(key) => join(b"mls/", key),
            Key::PendingCommit(gid) => join(b"pending_commit/", &gid[..]),
            Key::Alert(idx) => join(b"alerts/", &idx.to_be_bytes()),
        }
    }
}

impl Prefix<'_> {
    /// The common start of every tree key in this range.
    pub(crate) fn encode(&self) -> Vec<u8> {
        match self {
            Prefix::Conversations => b"conv/".to_vec(),
            Prefix::History(gid) => {
                let mut key = join(b"hist/", &gid[..]);
                key.push(b'/');
                key
            }
            Prefix::Mls => b"mls/".to_vec(),
            Prefix::PendingCommits => b"pending_commit/".to_vec(),
            Prefix::Alerts => b"alerts/".to_vec(),
        }
    }
}

fn join(prefix: &[u8], rest: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + rest.len());
    key.extend_from_slice(prefix);
    key.extend_from_slice(rest);
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_keys_sort_by_index_within_their_group() {
        let gid = [7u8; 32];
        let a = Key::History(&gid, 2).encode();
        let b = Key::History(&gid, 256).encode();
        assert!(a < b);
        assert!(a.starts_with(&Prefix::History(&gid).encode()));
    }

    #[test]
    fn prefixes_do_not_overlap_other_kinds() {
        let handle = Handle::parse("conv").unwrap();
        let contact = Key::Contact(&handle).encode();
        assert!(!contact.starts_with(&Prefix::Conversations.encode()));
    }
}
