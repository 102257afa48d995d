//! The label values the relay's metrics may carry: message kinds and rejection reasons.
//!
//! Both are closed sets of constants, so no label can ever hold a handle, group id, address
//! or payload.

use prometheus_client::encoding::EncodeLabelSet;

/// What a message was: an inbox envelope or a group log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A sealed envelope deposited in an inbox.
    Inbox = 0,
    /// A group log entry (post or commit).
    Group = 1,
}

/// Every kind with its `kind` label value, in index order.
pub(super) const KINDS: [(Kind, &str); 2] = [(Kind::Inbox, "inbox"), (Kind::Group, "group")];

/// Why the relay refused a request for abuse reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The source address ran out of request tokens.
    SourceRate = 0,
    /// The inbox holds its maximum number of pending deliveries.
    InboxMessages = 1,
    /// The inbox holds its maximum pending bytes.
    InboxBytes = 2,
    /// The target handle's KeyPackage claims ran out of tokens.
    ClaimRate = 3,
    /// All subscription slots are taken.
    Subscriptions = 4,
    /// The handle holds its maximum number of KeyPackages.
    KeyPackagesHeld = 5,
    /// Too many owner-auth challenges are outstanding.
    Challenges = 6,
    /// The data disk is below its free-space reserve.
    DiskReserve = 7,
    /// A blob larger than `max_blob_bytes` was offered.
    BlobSize = 8,
    /// The source address used up its blob upload quota.
    BlobQuota = 9,
}

/// Every rejection with its `reason` label value, in index order.
pub(super) const REASONS: [(Rejection, &str); 10] = [
    (Rejection::SourceRate, "source_rate"),
    (Rejection::InboxMessages, "inbox_messages"),
    (Rejection::InboxBytes, "inbox_bytes"),
    (Rejection::ClaimRate, "claim_rate"),
    (Rejection::Subscriptions, "subscriptions"),
    (Rejection::KeyPackagesHeld, "key_packages_held"),
    (Rejection::Challenges, "challenges"),
    (Rejection::DiskReserve, "disk_reserve"),
    (Rejection::BlobSize, "blob_size"),
    (Rejection::BlobQuota, "blob_quota"),
];

/// The label set of the per-kind series: `{kind="inbox"}` or `{kind="group"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct KindLabel {
    /// A value from [`KINDS`].
    pub(super) kind: &'static str,
}

/// The label set of the rejection series: `{reason="source_rate"}` and so on.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub(super) struct ReasonLabel {
    /// A value from [`REASONS`].
    pub(super) reason: &'static str,
}
