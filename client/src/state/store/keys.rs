//! The layout of the client's one sled tree: every key the client writes is built here.
//!
//! No id appears on disk: a record key is
//! `key_hash("prefix", kind)[16] | key_hash(kind, id)[16] | position u64 BE`, where the id
//! part is absent for single records (settings, identity) and the position only for ordered
//! ranges (history, alerts). The hashes are keyed by the store key (see
//! [`parley_crypto::vault::Vault::key_hash`]), so nobody without the passphrase can test a
//! guessed handle or conversation name against the disk. A range scan is a prefix scan over
//! the first 16 bytes (a kind) or 32 bytes (one group's history); position suffixes are
//! big-endian so records of a range sort by position. Where a scan needs the original id
//! (MLS keys), it is kept inside the sealed value (see [`Slot::kept_id`]).

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;
use parley_crypto::vault::Vault;

/// The domain of the hashes that name a record kind.
const PREFIX_DOMAIN: &[u8] = b"prefix";

/// One record of the store, by kind.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Key<'a> {
    /// Relay address, pinned fingerprint, our handle.
    Settings,
    /// Our identity and inbox secret keys.
    Identity,
    /// Our own signed directory record, as registered: sealed deliveries carry it.
    OwnRecord,
    /// The identity and inbox secret keys a rotation replaced, and until when they are kept
    /// (for groups not yet moved and deliveries sealed to the old inbox key).
    PreviousIdentity,
    /// A rotation of our keys sent (or about to be sent) to the relay, with its new secret
    /// keys, until the relay's answer is known: a crash in between must not lose them.
    PendingRotation,
    /// The pinned directory record of a contact.
    Contact(&'a Handle),
    /// A conversation, by the id of its MLS group.
    Conversation(&'a GroupId),
    /// A conversation as stores kept it before schema 2, by local name (read by the
    /// migration only).
    LegacyConversation(&'a str),
    /// Group id -> local name, before schema 2 (removed by the migration).
    LegacyGroupName(&'a GroupId),
    /// The layout version of the store's records.
    Schema,
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
    /// A message that failed to process and was set aside, by position.
    Quarantine(u64),
    /// A history entry not yet shown by `read`, `read --follow` or `chat`, by arrival.
    Unread(u64),
    /// A delivery from a contact whose key changed, kept until the user decides, by arrival.
    Held(u64),
    /// A message waiting to be sent (the relay could not be reached), in the order written.
    Outbox(u64),
    /// Where a shared document's message is, by blob id.
    Document(&'a [u8; 32]),
    /// The tally of refused inbox deliveries, by cause (one record).
    InboxRefusals,
    /// What enforcing a conversation's agreed retention keeps track of, by group.
    Retention(&'a GroupId),
    /// Members who asked to leave a group and whom no commit has removed yet, by group.
    LeaveRequests(&'a GroupId),
    /// The versions of a workshop's negotiating text, by plenary group.
    WorkshopText(&'a GroupId),
    /// The comments on a workshop's negotiating text, by plenary group.
    WorkshopComments(&'a GroupId),
}

/// A range of records scanned together, in key order.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Prefix<'a> {
    /// All pinned contacts.
    Contacts,
    /// All conversations.
    Conversations,
    /// All conversations as stores kept them before schema 2.
    LegacyConversations,
    /// The history of one group.
    History(&'a GroupId),
    /// All MLS state.
    Mls,
    /// All pending commits.
    PendingCommits,
    /// All alerts.
    Alerts,
    /// All quarantined messages.
    Quarantine,
    /// All unread marks, in arrival order.
    Unread,
    /// All held deliveries, in arrival order.
    Held,
    /// All messages waiting to be sent, in the order written.
    Outbox,
    /// Where every shared document's message is.
    Documents,
}

/// The kinds of record; each name is the hash domain of its ids and never changes.
mod kind {
    pub(super) const SETTINGS: &[u8] = b"settings";
    pub(super) const IDENTITY: &[u8] = b"identity";
    pub(super) const OWN_RECORD: &[u8] = b"own_record";
    pub(super) const PREVIOUS_IDENTITY: &[u8] = b"previous_identity";
    pub(super) const PENDING_ROTATION: &[u8] = b"pending_rotation";
    pub(super) const CONTACT: &[u8] = b"contact";
    pub(super) const CONVERSATION: &[u8] = b"conversation";
    pub(super) const LEGACY_CONVERSATION: &[u8] = b"conv";
    pub(super) const LEGACY_GROUP_NAME: &[u8] = b"gid";
    pub(super) const SCHEMA: &[u8] = b"schema";
    pub(super) const CURSOR: &[u8] = b"cursor";
    pub(super) const HISTORY: &[u8] = b"hist";
    pub(super) const SEEN: &[u8] = b"seen";
    pub(super) const MLS: &[u8] = b"mls";
    pub(super) const PENDING_COMMIT: &[u8] = b"pending_commit";
    pub(super) const ALERT: &[u8] = b"alerts";
    pub(super) const QUARANTINE: &[u8] = b"quarantine";
    pub(super) const UNREAD: &[u8] = b"unread";
    pub(super) const HELD: &[u8] = b"held";
    pub(super) const OUTBOX: &[u8] = b"outbox";
    pub(super) const INBOX_REFUSALS: &[u8] = b"inbox_refusals";
    pub(super) const DOCUMENT: &[u8] = b"document";
    pub(super) const RETENTION: &[u8] = b"retention";
    pub(super) const LEAVE_REQUESTS: &[u8] = b"leave_requests";
    pub(super) const WORKSHOP_TEXT: &[u8] = b"workshop_text";
    pub(super) const WORKSHOP_COMMENTS: &[u8] = b"workshop_comments";
}

/// A record key before hashing, owned so that it can wait in a batch until the vault seals it.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    kind: &'static [u8],
    id: Option<Vec<u8>>,
    position: Option<u64>,
    keeps_id: bool,
}

impl Slot {
    /// Whether this is a conversation record's key (what the kept conversation list is
    /// made of).
    pub(crate) fn is_conversation(&self) -> bool {
        self.kind == kind::CONVERSATION
    }

    /// Whether this is a pinned contact's key (what the kept contacts are made of).
    pub(crate) fn is_contact(&self) -> bool {
        self.kind == kind::CONTACT
    }
}

impl Key<'_> {
    /// The parts this key is built from.
    pub(crate) fn slot(&self) -> Slot {
        let (kind, id, position): (_, Option<&[u8]>, _) = match self {
            Key::Settings => (kind::SETTINGS, None, None),
            Key::Identity => (kind::IDENTITY, None, None),
            Key::OwnRecord => (kind::OWN_RECORD, None, None),
            Key::PreviousIdentity => (kind::PREVIOUS_IDENTITY, None, None),
            Key::PendingRotation => (kind::PENDING_ROTATION, None, None),
            Key::Contact(handle) => (kind::CONTACT, Some(handle.as_str().as_bytes()), None),
            Key::Conversation(gid) => (kind::CONVERSATION, Some(&gid[..]), None),
            Key::LegacyConversation(name) => {
                (kind::LEGACY_CONVERSATION, Some(name.as_bytes()), None)
            }
            Key::LegacyGroupName(gid) => (kind::LEGACY_GROUP_NAME, Some(&gid[..]), None),
            Key::Schema => (kind::SCHEMA, None, None),
            Key::Cursor(gid) => (kind::CURSOR, Some(&gid[..]), None),
            Key::History(gid, idx) => (kind::HISTORY, Some(&gid[..]), Some(*idx)),
            Key::Seen(hash) => (kind::SEEN, Some(&hash[..]), None),
            Key::Mls(key) => (kind::MLS, Some(*key), None),
            Key::PendingCommit(gid) => (kind::PENDING_COMMIT, Some(&gid[..]), None),
            Key::Alert(idx) => (kind::ALERT, None, Some(*idx)),
            Key::Quarantine(idx) => (kind::QUARANTINE, None, Some(*idx)),
            Key::Unread(idx) => (kind::UNREAD, None, Some(*idx)),
            Key::Held(idx) => (kind::HELD, None, Some(*idx)),
            Key::Outbox(idx) => (kind::OUTBOX, None, Some(*idx)),
            Key::InboxRefusals => (kind::INBOX_REFUSALS, None, None),
            Key::Document(blob_id) => (kind::DOCUMENT, Some(&blob_id[..]), None),
            Key::Retention(gid) => (kind::RETENTION, Some(&gid[..]), None),
            Key::LeaveRequests(gid) => (kind::LEAVE_REQUESTS, Some(&gid[..]), None),
            Key::WorkshopText(gid) => (kind::WORKSHOP_TEXT, Some(&gid[..]), None),
            Key::WorkshopComments(gid) => (kind::WORKSHOP_COMMENTS, Some(&gid[..]), None),
        };
        Slot {
            kind,
            id: id.map(<[u8]>::to_vec),
            position,
            keeps_id: matches!(self, Key::Mls(_)),
        }
    }

    /// The tree key of this record.
    pub(crate) fn encode(&self, vault: &Vault) -> Vec<u8> {
        self.slot().encode(vault)
    }
}

impl Slot {
    /// The tree key: hashed kind, hashed id, position.
    pub(crate) fn encode(&self, vault: &Vault) -> Vec<u8> {
        let mut key = vault.key_hash(PREFIX_DOMAIN, self.kind).to_vec();
        if let Some(id) = &self.id {
            key.extend_from_slice(&vault.key_hash(self.kind, id));
        }
        if let Some(position) = self.position {
            key.extend_from_slice(&position.to_be_bytes());
        }
        key
    }

    /// Whether the value is padded before sealing: records whose length would tell what a
    /// message said (its length) to whoever reads the disk without the passphrase. MLS state,
    /// contacts and cursors are not: their lengths follow from keys and group sizes.
    pub(crate) fn padded_at_rest(&self) -> bool {
        [
            kind::HISTORY,
            kind::OUTBOX,
            kind::HELD,
            kind::QUARANTINE,
            kind::ALERT,
            kind::PENDING_COMMIT,
            kind::INBOX_REFUSALS,
            kind::WORKSHOP_TEXT,
            kind::WORKSHOP_COMMENTS,
        ]
        .contains(&self.kind)
    }

    /// The id to keep inside the sealed value, for kinds whose scans must return it (the MLS
    /// engine reloads its state as id/value pairs); empty for the others.
    pub(crate) fn kept_id(&self) -> &[u8] {
        match (&self.id, self.keeps_id) {
            (Some(id), true) => id,
            _ => &[],
        }
    }
}

impl Prefix<'_> {
    /// The common start of every tree key in this range.
    pub(crate) fn encode(&self, vault: &Vault) -> Vec<u8> {
        let kind = match self {
            Prefix::Contacts => kind::CONTACT,
            Prefix::Conversations => kind::CONVERSATION,
            Prefix::LegacyConversations => kind::LEGACY_CONVERSATION,
            Prefix::History(_) => kind::HISTORY,
            Prefix::Mls => kind::MLS,
            Prefix::PendingCommits => kind::PENDING_COMMIT,
            Prefix::Alerts => kind::ALERT,
            Prefix::Quarantine => kind::QUARANTINE,
            Prefix::Unread => kind::UNREAD,
            Prefix::Held => kind::HELD,
            Prefix::Outbox => kind::OUTBOX,
            Prefix::Documents => kind::DOCUMENT,
        };
        let mut key = vault.key_hash(PREFIX_DOMAIN, kind).to_vec();
        if let Prefix::History(gid) = self {
            key.extend_from_slice(&vault.key_hash(kind, &gid[..]));
        }
        key
    }
}

#[cfg(test)]
mod tests {
    use parley_crypto::vault::StoreKey;
    use rand::rngs::OsRng;

    use super::*;

    fn vault() -> Vault {
        Vault::new(&StoreKey::generate(&mut OsRng))
    }

    #[test]
    fn history_keys_sort_by_index_within_their_group() {
        let v = vault();
        let gid = [7u8; 32];
        let a = Key::History(&gid, 2).encode(&v);
        let b = Key::History(&gid, 256).encode(&v);
        assert!(a < b);
        assert!(a.starts_with(&Prefix::History(&gid).encode(&v)));
        assert!(!a.starts_with(&Prefix::History(&[8u8; 32]).encode(&v)));
        assert_eq!(a.len(), 16 + 16 + 8);
    }

    #[test]
    fn each_kind_has_its_own_range() {
        let v = vault();
        let handle = Handle::parse("conv").unwrap();
        let contact = Key::Contact(&handle).encode(&v);
        assert!(contact.starts_with(&v.key_hash(PREFIX_DOMAIN, kind::CONTACT)));
        assert!(!contact.starts_with(&Prefix::Conversations.encode(&v)));
        let conv = Key::LegacyConversation("conv").encode(&v);
        assert!(conv.starts_with(&Prefix::LegacyConversations.encode(&v)));
        assert!(!conv.starts_with(&Prefix::Conversations.encode(&v)));
        assert_ne!(contact[16..], conv[16..]);
        assert_eq!(Key::Alert(0).encode(&v).len(), 16 + 8);
    }

    #[test]
    fn keys_hide_their_ids_and_depend_on_the_store_key() {
        let (v, w) = (vault(), vault());
        let handle = Handle::parse("zq-alice-77").unwrap();
        let key = Key::Contact(&handle).encode(&v);
        assert_eq!(key.len(), 32);
        assert!(!key.windows(5).any(|w| w == b"alice"));
        assert_ne!(key, Key::Contact(&handle).encode(&w));
        assert_eq!(Key::Settings.encode(&v).len(), 16);
    }

    #[test]
    fn only_mls_keys_are_kept_in_the_value() {
        assert_eq!(Key::Mls(b"abc").slot().kept_id(), b"abc");
        assert!(Key::Conversation(&[1u8; 32]).slot().kept_id().is_empty());
    }
}
