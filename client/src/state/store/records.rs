//! The records the client keeps, as stored (serde_json values).

use serde::{Deserialize, Serialize};

use crate::api::alert::Alert;

/// What `register` saved once the relay accepted the handle.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Settings {
    pub(crate) handle: String,
    /// Our identity public key, hex.
    pub(crate) identity_key: String,
    pub(crate) relay_url: String,
    pub(crate) relay_fingerprint: Option<String>,
    /// Whether the relay holds a last-resort KeyPackage of ours.
    pub(crate) last_resort_published: bool,
    /// The SOCKS5 proxy the relay is reached through, remembered so that a later session
    /// that forgets to name it does not connect directly (absent in older stores: none).
    #[serde(default)]
    pub(crate) proxy: Option<String>,
    /// When we last replaced all our KeyPackages on the relay (our clock, ms); absent in
    /// older stores, which rotate at their next top-up.
    #[serde(default)]
    pub(crate) key_packages_rotated_at_ms: Option<u64>,
}

/// A pinned directory record (trust on first use).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Contact {
    pub(crate) handle: String,
    pub(crate) identity_key: [u8; 32],
    pub(crate) inbox_key: [u8; 32],
    pub(crate) record_version: u64,
    /// The user compared safety numbers and confirmed this identity key.
    #[serde(default)]
    pub(crate) verified: bool,
    /// Another identity key seen for this handle, kept aside (never used) until the user
    /// accepts or verifies it; while present the contact's status is CHANGED.
    #[serde(default)]
    pub(crate) changed: Option<ChangedKey>,
    /// The signed directory record this pin came from, as served or carried (absent for
    /// pins made before records were kept, or adopted from a changed key): handed to the
    /// people we invite into a group with this contact, so they need no lookup.
    #[serde(default)]
    pub(crate) record: Option<Vec<u8>>,
    /// Identity keys this contact rotated away from (newest last, at most a few): a record
    /// of one of them served again is a rollback, and a group leaf still on one is theirs,
    /// waiting to be moved.
    #[serde(default)]
    pub(crate) previous_keys: Vec<[u8; 32]>,
}

/// An identity key that differs from the pinned one, as last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ChangedKey {
    pub(crate) identity_key: [u8; 32],
    /// Known when the change came from a directory record; a group member shows only its
    /// identity key.
    pub(crate) inbox_key: Option<[u8; 32]>,
    pub(crate) record_version: u64,
}

/// Whether a conversation is a 1:1 or a named group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum StoredKind {
    Direct,
    Group,
}

/// A conversation: one MLS group and what it is called here.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Conversation {
    pub(crate) group_id: [u8; 32],
    pub(crate) kind: StoredKind,
    /// Whose name for the group we use: us for our own groups, else the member who added us
    /// (the authenticated sender of the Welcome); for a 1:1, whoever started it.
    pub(crate) named_by: String,
    /// Direct: the other person's handle.
    pub(crate) peer: Option<String>,
    /// The name carried in Welcomes we send for this group (a group's name as its creator gave
    /// it; for a 1:1, the starter's handle).
    pub(crate) title: String,
    /// The local name of a conversation that is not a live 1:1, unique among them: our own
    /// group's title, `inviter/title` for a group we were added to, `peer (old key)` for a
    /// retired 1:1. A live 1:1 is always shown by its peer's handle.
    pub(crate) name: String,
    /// False once we were removed (or closed a retired 1:1).
    pub(crate) active: bool,
    /// A 1:1 that holds a key the user no longer trusts (replaced by an accepted new key):
    /// never a target of `send` again, shown apart from the live 1:1.
    pub(crate) retired: bool,
    /// A retired 1:1 whose closing commit (removing the old key) has not reached the relay.
    pub(crate) close_pending: bool,
}

/// The content of a history entry.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum StoredBody {
    Text(String),
    /// A document shared in the conversation (its content is fetched on demand).
    Document(StoredDocument),
    Unsupported {
        kind: u8,
    },
    /// We joined: created the conversation (sender = us) or were added by the sender.
    Joined {
        members: Vec<String>,
        /// The sender was not pinned (no earlier contact) when the invitation arrived.
        stranger: bool,
    },
    /// The sender changed the members.
    Membership {
        added: Vec<String>,
        removed: Vec<String>,
    },
    /// The sender changed the conversation's retention (seconds, 0 for off).
    Retention {
        secs: u64,
    },
    /// The sender made these members admins.
    Promoted {
        admins: Vec<String>,
    },
    /// The sender, a facilitator, changed a workshop's roster or policies (a sentence each).
    RosterChanged {
        changes: Vec<String>,
    },
    /// A version of a workshop's negotiating text (also kept in its chain).
    TextVersion {
        number: u32,
        previous: [u8; 32],
        text: String,
    },
    /// A comment on a paragraph of a version of the negotiating text.
    TextComment {
        version: u32,
        para: u32,
        text: String,
    },
    /// A facilitator exported the workshop's record.
    RecordExported,
    /// A version of a workshop's negotiating text too long to go inline: a document holding
    /// the text (also kept in the chain, by its hash, until fetched).
    TextVersionDocument {
        number: u32,
        previous: [u8; 32],
        document: StoredDocument,
    },
}

impl StoredBody {
    /// The number of a version of a workshop's negotiating text (inline or as a document);
    /// `None` for anything else.
    pub(crate) fn text_version_number(&self) -> Option<u32> {
        match self {
            StoredBody::TextVersion { number, .. }
            | StoredBody::TextVersionDocument { number, .. } => Some(*number),
            _ => None,
        }
    }

    /// The document the entry shares, if it shares one (a document, or a version of the
    /// negotiating text kept as one).
    pub(crate) fn document(&self) -> Option<&StoredDocument> {
        match self {
            StoredBody::Document(document) | StoredBody::TextVersionDocument { document, .. } => {
                Some(document)
            }
            _ => None,
        }
    }
}

/// One entry of a conversation's history: a message or a change of members.
/// A shared document: where it is, how to open it and how to check it. Holds the document's
/// key, so it is neither `Clone` nor shown by `Debug`, and the key is wiped when dropped.
#[derive(Serialize, Deserialize, zeroize::ZeroizeOnDrop)]
pub(crate) struct StoredDocument {
    #[zeroize(skip)]
    pub(crate) blob_id: [u8; 32],
    pub(crate) key: [u8; 32],
    #[zeroize(skip)]
    pub(crate) sha256: [u8; 32],
    #[zeroize(skip)]
    pub(crate) size: u64,
    #[zeroize(skip)]
    pub(crate) name: String,
    #[zeroize(skip)]
    pub(crate) media_type: String,
}

impl From<parley_crypto::document::DocumentReference> for StoredDocument {
    fn from(reference: parley_crypto::document::DocumentReference) -> Self {
        StoredDocument {
            blob_id: *reference.blob_id.as_bytes(),
            key: *reference.key.to_bytes(),
            sha256: reference.sha256,
            size: reference.size,
            name: reference.name.clone(),
            media_type: reference.media_type.clone(),
        }
    }
}

impl StoredDocument {
    /// The reference an MLS message carries for this document.
    pub(crate) fn reference(&self) -> parley_crypto::document::DocumentReference {
        use parley_crypto::document::{BlobId, DocumentKey, DocumentReference};
        DocumentReference {
            blob_id: BlobId::from_bytes(self.blob_id),
            key: DocumentKey::from_bytes(self.key),
            sha256: self.sha256,
            size: self.size,
            name: self.name.clone(),
            media_type: self.media_type.clone(),
        }
    }
}

/// Where a document's message is in its conversation's history.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(crate) struct DocumentAt {
    pub(crate) group_id: [u8; 32],
    pub(crate) index: u64,
}

impl std::fmt::Debug for StoredDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredDocument")
            .field("blob_id", &hex::encode(self.blob_id))
            .field("size", &self.size)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HistoryEntry {
    pub(crate) sender: String,
    pub(crate) sent_at_ms: u64,
    pub(crate) body: StoredBody,
    /// When it was stored here (our clock; 0 in entries stored before retention existed):
    /// an entry expires by the earlier of this and `sent_at_ms`, so a sender's clock set
    /// ahead cannot keep a message past the conversation's retention.
    #[serde(default)]
    pub(crate) stored_at_ms: u64,
}

/// What enforcing a conversation's agreed retention keeps track of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RetentionState {
    /// The MLS epoch last seen, and when we first saw it (our clock).
    pub(crate) epoch: u64,
    pub(crate) epoch_seen_ms: u64,
    /// The past epochs' secrets were dropped while in `epoch`.
    pub(crate) past_forgotten: bool,
    /// The retention the relay was last told, in seconds (0: none).
    pub(crate) told_relay_secs: u64,
    /// The index the next history entry gets at least: expiry may delete the latest ones,
    /// and an index is never given twice.
    pub(crate) next_history_index: u64,
}

/// A history entry not yet shown by `read`, `read --follow` or `chat`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct UnreadMark {
    pub(crate) group_id: [u8; 32],
    pub(crate) index: u64,
}

/// A commit handed to the relay whose outcome we may not know yet (crash, network error).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct PendingCommit {
    pub(crate) group_id: [u8; 32],
    /// The epoch the commit starts from.
    pub(crate) epoch: u64,
    /// SHA-256 of the padded commit frame, to recognise it in the group log.
    pub(crate) commit_hash: [u8; 32],
    /// TLS-serialized Welcome for the added members, hex.
    pub(crate) welcome: Option<String>,
    /// Handles that get the Welcome.
    pub(crate) recipients: Vec<String>,
    /// Handles the commit removes.
    #[serde(default)]
    pub(crate) removed: Vec<String>,
    /// The conversation name carried in the Welcome.
    pub(crate) welcome_name: String,
    /// A conversation that becomes visible only once the commit is merged (a new 1:1/group).
    pub(crate) conversation: Option<Conversation>,
    /// The change is in the history already (merged, Welcomes perhaps not yet sent).
    #[serde(default)]
    pub(crate) recorded: bool,
    /// The retention the commit sets, in seconds (0: off), if it changes it.
    #[serde(default)]
    pub(crate) retention_secs: Option<u64>,
    /// Handles the commit makes admins.
    #[serde(default)]
    pub(crate) promoted: Vec<String>,
    /// What the commit changes in a workshop's roster or policies, a sentence each.
    #[serde(default)]
    pub(crate) roster_changes: Vec<String>,
}

/// A security alert as stored: structured since schema 2; the words of an earlier version
/// otherwise.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct StoredAlert {
    pub(crate) at_ms: u64,
    #[serde(alias = "text", deserialize_with = "alert_or_text")]
    pub(crate) alert: Alert,
}

/// Reads an alert, or the text an earlier version stored in its place.
fn alert_or_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Alert, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        Alert(Alert),
        Text(String),
    }
    Ok(match Either::deserialize(deserializer)? {
        Either::Alert(alert) => alert,
        Either::Text(text) => Alert::Earlier { text },
    })
}

/// A delivery whose sender's key changed: it cannot be authenticated against the pinned key,
/// and waits (sealed, as delivered) until the user accepts or verifies the new key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HeldDelivery {
    pub(crate) sender: String,
    pub(crate) at_ms: u64,
    /// The sealed envelope, hex.
    pub(crate) envelope: String,
}

/// A message the user wrote while the relay could not be reached, waiting in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct QueuedRecord {
    /// The peer's handle for a 1:1 (started when it is sent if there is none yet).
    #[serde(default)]
    pub(crate) peer: Option<String>,
    /// The group, hex, when it was written to a group (or an existing 1:1 by id).
    #[serde(default)]
    pub(crate) group_id: Option<String>,
    pub(crate) text: String,
    pub(crate) queued_at_ms: u64,
    /// Why sending failed for a reason other than the network; it is then kept, not retried.
    #[serde(default)]
    pub(crate) failed: Option<String>,
}
