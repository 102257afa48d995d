//! Who we are and how far we trust others: verification status, contacts, safety numbers
//! and group codes.

use parley_crypto::handle::Handle;

use crate::api::conversation::{ConversationId, MemberInfo};
use crate::api::fingerprint::Fingerprint;
use crate::api::relay_url::RelayUrl;
use crate::api::verification::Verification;

/// Who this client is, as [`crate::Client::whoami`] tells.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct WhoAmI {
    /// Our handle.
    pub handle: Handle,
    /// Our identity public key (Ed25519), hex.
    pub identity_key: String,
    /// The relay we registered with.
    pub relay_url: RelayUrl,
    /// The relay TLS fingerprint we pinned, if any.
    pub relay_fingerprint: Option<Fingerprint>,
}

/// What [`crate::Client::rotate_keys`] did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct RotationReport {
    /// The identity key replaced, hex.
    pub old_identity_key: String,
    /// The new identity key, hex (the directory now serves it, endorsed by the old one).
    pub new_identity_key: String,
    /// Conversations moved to the new key.
    pub conversations_moved: usize,
    /// Conversations not moved yet (retried at each sync).
    pub conversations_waiting: usize,
}

/// A pinned contact as listed by [`crate::Client::contacts`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct ContactInfo {
    /// The contact's handle.
    pub handle: Handle,
    /// The pinned identity public key, hex (the key in use, not a changed one).
    pub identity_key: String,
    /// How far the key is trusted.
    pub status: Verification,
}

/// The safety number shared with a contact, as shown by [`crate::Client::verification`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct SafetyNumberView {
    /// The contact's handle.
    pub handle: Handle,
    /// The 60 digits as 12 groups of 5 separated by spaces.
    pub grouped: String,
    /// The 60 digits without separators.
    pub digits: String,
    /// The contact's status. When CHANGED, the number is computed with the new key: it is the
    /// number to compare before accepting it.
    pub status: Verification,
}

/// The code over a conversation's whole roster and MLS epoch, as shown by
/// [`crate::Client::group_code`]. Members in step see the same code.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct GroupCode {
    /// The conversation.
    pub conversation: ConversationId,
    /// Its local name.
    pub name: String,
    /// The 60 digits as 12 groups of 5 separated by spaces.
    pub grouped: String,
    /// The 60 digits without separators.
    pub digits: String,
    /// The MLS epoch the code is for; it changes with every membership change.
    pub epoch: u64,
    /// The members the code covers, us included, sorted by handle.
    pub members: Vec<MemberInfo>,
}

/// A message that could not be processed and was set aside, as listed by
/// [`crate::Client::quarantined`].
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct QuarantinedMessage {
    /// When it was set aside (milliseconds since the Unix epoch).
    pub at_ms: u64,
    /// The local name of the conversation it arrived in; `None` for the inbox.
    pub conversation: Option<String>,
    /// Why it could not be processed (for a count above one, the first of them).
    pub reason: String,
    /// How many were set aside for this reason: refused inbox deliveries are counted by
    /// cause rather than kept one by one (anyone can deposit into an inbox).
    #[serde(default = "one")]
    pub count: u64,
}

fn one() -> u64 {
    1
}
