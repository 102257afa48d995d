//! The records the client keeps, as stored (serde_json values).

use serde::{Deserialize, Serialize};

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

/// A conversation: a local name for an MLS group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Conversation {
    /// Local, unique name (the peer's handle for a 1:1).
    pub(crate) name: String,
    /// The name carried in Welcomes we send for this group (the creator's name for a group).
    pub(crate) title: String,
    pub(crate) group_id: [u8; 32],
    pub(crate) kind: StoredKind,
    /// False once we were removed.
    pub(crate) active: bool,
}

/// The content of a history entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) enum StoredBody {
    Text(String),
    Unsupported { kind: u8 },
}

/// One message of a conversation's history.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct HistoryEntry {
    pub(crate) sender: String,
    pub(crate) sent_at_ms: u64,
    pub(crate) body: StoredBody,
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
    /// The conversation name carried in the Welcome.
    pub(crate) welcome_name: String,
    /// A conversation that becomes visible only once the commit is merged (a new 1:1/group).
    pub(crate) conversation: Option<Conversation>,
}

/// A security-relevant event shown to the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Alert {
    pub(crate) at_ms: u64,
    pub(crate) text: String,
}
