//! The engine's error type. OpenMLS errors are mapped to a few variants the client can act
//! on; their details (which may describe key material) never leave this module.

use openmls::framing::errors::{MessageDecryptionError, SecretTreeError};
use openmls::prelude::{
    KeyPackageVerifyError, MlsGroupStateError, ProcessMessageError, ValidationError, WelcomeError,
};
use openmls_rust_crypto::MemoryStorageError;

use crate::handle::Handle;

/// Why an MLS operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MlsError {
    /// No group with this id is stored.
    #[error("unknown group")]
    UnknownGroup,
    /// A group with this id is already stored.
    #[error("a group with this id already exists")]
    GroupExists,
    /// We are not, or no longer, a member of the group.
    #[error("not a member of this group")]
    NotAMember,
    /// The message (or commit) belongs to an epoch it cannot be processed in: a future one,
    /// or a past one for anything but an application message (or one whose sender's leaf
    /// changed hands since).
    #[error("message for another epoch")]
    WrongEpoch,
    /// The message was already processed (its key was used and deleted).
    #[error("message already processed")]
    AlreadyProcessed,
    /// The message is older than the keys kept for reading late messages (three epochs, and
    /// OpenMLS's window of out-of-order messages within an epoch).
    #[error("message too old to read")]
    TooOld,
    /// The bytes are not the expected MLS structure (or padding frame).
    #[error("malformed MLS message")]
    Malformed,
    /// The message belongs to another group than the one it was processed for.
    #[error("message for another group")]
    WrongGroup,
    /// Decryption, signature or another validity check of the message failed.
    #[error("invalid MLS message")]
    InvalidMessage,
    /// The KeyPackage is malformed, badly signed or expired.
    #[error("invalid key package")]
    InvalidKeyPackage,
    /// The KeyPackage's lifetime ended before the time we were given.
    #[error("the key package has expired")]
    KeyPackageExpired,
    /// The KeyPackage's lifetime starts after the time we were given.
    #[error("the key package is not valid yet")]
    KeyPackageNotYetValid,
    /// The KeyPackage or Welcome uses another ciphersuite than Parley's.
    #[error("unsupported ciphersuite")]
    UnsupportedCiphersuite,
    /// A leaf credential is not a BasicCredential carrying a valid handle, or its key is
    /// not an Ed25519 identity key.
    #[error("invalid member credential")]
    InvalidCredential,
    /// The handle to remove is not a member of the group.
    #[error("{0} is not a member of the group")]
    UnknownMember(Handle),
    /// The KeyPackage's handle or identity key already has a leaf in the group.
    #[error("{0} is already a member of the group")]
    AlreadyMember(Handle),
    /// A member cannot remove itself with a commit.
    #[error("cannot remove ourselves from a group")]
    CannotRemoveSelf,
    /// An existing member's leaf changed its handle, or its identity key other than by its
    /// own commit.
    #[error("a member's identity changed")]
    IdentityChanged,
    /// Moving to the current identity was asked for, but no rotation left a previous one.
    #[error("no previous identity to move from")]
    NoPreviousIdentity,
    /// The commit covers proposals Parley does not use (PSK, re-init, extensions, ...).
    #[error("commit contains unsupported proposals")]
    UnsupportedProposal,
    /// A commit of ours awaits the relay's verdict; merge or abort it first.
    #[error("a commit of ours is pending")]
    PendingCommit,
    /// There is no commit of ours to merge.
    #[error("no pending commit")]
    NoPendingCommit,
    /// No KeyPackage of ours matches the Welcome (already used, or not for us).
    #[error("no matching key package for this welcome")]
    NoMatchingKeyPackage,
    /// An empty list was given where at least one entry is needed.
    #[error("nothing to do")]
    EmptyInput,
    /// The group context holds a retention value that does not decode or is out of range.
    #[error("the group's retention setting is invalid")]
    InvalidRetention,
    /// A member's software does not support agreed retention (its leaf does not list the
    /// extension), so the group cannot carry one.
    #[error("a member's software does not support disappearing messages yet")]
    RetentionUnsupported,
    /// The group context holds a list of admins that does not decode.
    #[error("the group's list of admins is invalid")]
    InvalidRoles,
    /// A change only an admin may make (adding, removing, promoting) was asked for, or
    /// committed, by a member who is not one.
    #[error(
        "only an admin can change who is in the group or who its admins are ({0} is not an admin)"
    )]
    NotAdmin(Handle),
    /// The change would leave the group without an admin, or name as admin someone who
    /// would not be a member.
    #[error("a group keeps at least one admin, and its admins are members")]
    AdminsNotMembers,
    /// The group was made before roles existed: it has no admins to promote to.
    #[error("this group was made before roles existed; start it again to have admins")]
    NoRoles,
    /// The group context holds a workshop that does not decode (or a list of admins beside
    /// it: a room's facilitators are its admins).
    #[error("the workshop this room belongs to is described invalidly")]
    InvalidWorkshop,
    /// A change to a workshop's room only a facilitator may make (adding, removing, moving
    /// someone, changing a role or a policy) was asked for, or committed, by someone else.
    #[error("only a facilitator can change the room ({0} is not a facilitator)")]
    NotFacilitator(Handle),
    /// After the change, the room would hold someone the workshop's roster does not put in
    /// it (a member of another side in a caucus, an observer outside the plenary).
    #[error("{0} does not belong in this room by the workshop's roster")]
    NotInRoster(Handle),
    /// The group is not a room of a workshop.
    #[error("this group is not a room of a workshop")]
    NotAWorkshop,
    /// The in-memory key/value storage failed (e.g. a stored value did not decode).
    #[error("MLS storage error")]
    Storage,
    /// OpenMLS reported an internal error during the named operation.
    #[error("MLS library error during {0}")]
    Internal(&'static str),
}

impl From<MemoryStorageError> for MlsError {
    fn from(_: MemoryStorageError) -> Self {
        MlsError::Storage
    }
}

impl From<MlsGroupStateError> for MlsError {
    fn from(e: MlsGroupStateError) -> Self {
        match e {
            MlsGroupStateError::UseAfterEviction => MlsError::NotAMember,
            MlsGroupStateError::PendingCommit => MlsError::PendingCommit,
            MlsGroupStateError::NoPendingCommit => MlsError::NoPendingCommit,
            _ => MlsError::Internal("group state"),
        }
    }
}

impl From<KeyPackageVerifyError> for MlsError {
    fn from(_: KeyPackageVerifyError) -> Self {
        MlsError::InvalidKeyPackage
    }
}

impl From<ValidationError> for MlsError {
    fn from(e: ValidationError) -> Self {
        match e {
            ValidationError::WrongEpoch | ValidationError::NoPastEpochData => MlsError::WrongEpoch,
            ValidationError::WrongGroupId => MlsError::WrongGroup,
            ValidationError::UnableToDecrypt(MessageDecryptionError::SecretTreeError(
                SecretTreeError::SecretReuseError,
            )) => MlsError::AlreadyProcessed,
            ValidationError::UnableToDecrypt(MessageDecryptionError::SecretTreeError(
                SecretTreeError::TooDistantInThePast,
            )) => MlsError::TooOld,
            ValidationError::UnableToDecrypt(MessageDecryptionError::MalformedContent) => {
                MlsError::Malformed
            }
            ValidationError::LibraryError(_) => MlsError::Internal("message validation"),
            _ => MlsError::InvalidMessage,
        }
    }
}

impl From<ProcessMessageError<MemoryStorageError>> for MlsError {
    fn from(e: ProcessMessageError<MemoryStorageError>) -> Self {
        match e {
            ProcessMessageError::ValidationError(v) => v.into(),
            ProcessMessageError::GroupStateError(s) => s.into(),
            ProcessMessageError::StorageError(_) => MlsError::Storage,
            ProcessMessageError::LibraryError(_) => MlsError::Internal("message processing"),
            _ => MlsError::InvalidMessage,
        }
    }
}

impl From<WelcomeError<MemoryStorageError>> for MlsError {
    fn from(e: WelcomeError<MemoryStorageError>) -> Self {
        match e {
            WelcomeError::NoMatchingKeyPackage | WelcomeError::NoMatchingEncryptionKey => {
                MlsError::NoMatchingKeyPackage
            }
            WelcomeError::CiphersuiteMismatch | WelcomeError::UnsupportedCiphersuite(_) => {
                MlsError::UnsupportedCiphersuite
            }
            WelcomeError::GroupAlreadyExists => MlsError::GroupExists,
            WelcomeError::NotAWelcomeMessage | WelcomeError::MalformedWelcomeMessage => {
                MlsError::Malformed
            }
            WelcomeError::StorageError(_) => MlsError::Storage,
            WelcomeError::LibraryError(_) => MlsError::Internal("welcome"),
            _ => MlsError::InvalidMessage,
        }
    }
}
