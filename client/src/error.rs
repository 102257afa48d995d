//! Errors of the client API, worded for the person using the application.

use crate::relay::RelayError;
use crate::store::StoreError;

/// Why a client operation failed. Each message is one sentence meant for the end user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// No handle has been registered in this home directory yet.
    #[error("this client has no identity yet; register a handle first")]
    NotInitialized,
    /// `register` was called but this home directory already holds an identity.
    #[error("this client already has an identity; use another home directory to register a second handle")]
    AlreadyInitialized,
    /// The builder was given no passphrase (or an empty one); the local store needs one.
    #[error("a passphrase is needed to open or create the local store")]
    PassphraseRequired,
    /// The passphrase does not unlock the local store; nothing was changed.
    #[error("the passphrase is wrong")]
    WrongPassphrase,
    /// The builder was given no home directory.
    #[error("no home directory was given for the client's data")]
    MissingHome,
    /// `register` needs a relay address and none was given or stored.
    #[error("no relay address is known; give one when setting up the client")]
    MissingRelay,
    /// The relay address is not one the client accepts.
    #[error("the relay address is not valid: {0}")]
    InvalidRelayUrl(String),
    /// The text is not a valid handle.
    #[error("\"{0}\" is not a valid handle: use 3 to 32 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    InvalidHandle(String),
    /// Someone else already registered this handle on the relay.
    #[error("the handle {0} is already taken on this relay; choose another one")]
    HandleTaken(String),
    /// The relay has no directory record for this handle.
    #[error("the relay does not know anyone called {0}")]
    UnknownContact(String),
    /// The contact exists but has no KeyPackage to be added with.
    #[error("{0} cannot be added right now because they have no published keys; ask them to open Parley")]
    ContactUnavailable(String),
    /// No conversation has this name and it is not a handle either.
    #[error("there is no conversation called \"{0}\"")]
    UnknownConversation(String),
    /// The name could mean two conversations (a person and a group); nothing was done.
    #[error("\"{name}\" could mean more than one conversation: {}", options.join(", or "))]
    AmbiguousName {
        /// The name as given.
        name: String,
        /// What it could mean, each as the unambiguous name to use and what it is.
        options: Vec<String>,
    },
    /// A group operation was asked of a 1:1.
    #[error("\"{0}\" is a private conversation with one person, not a group")]
    NotAGroup(String),
    /// The conversation is a 1:1 retired after its peer's key changed; it is read-only.
    #[error("\"{0}\" holds a key you no longer use and is kept read-only; write to the person's handle instead")]
    Retired(String),
    /// A member of the group has a key the user has not accepted; nothing was sent.
    #[error("{handle}'s identity key in {conversation} is not the one you trust; nothing is sent to {conversation} until you verify or accept the key, or remove {handle}")]
    MemberKeyChanged {
        /// The group, by its local name.
        conversation: String,
        /// The member whose key changed.
        handle: String,
    },
    /// A conversation with this name exists already.
    #[error("a conversation called \"{0}\" already exists; choose another name")]
    ConversationExists(String),
    /// A group name must be 1 to 64 bytes of text.
    #[error("a conversation name must be 1 to 64 characters long")]
    InvalidConversationName,
    /// The contact's identity key differs from the one pinned on first use.
    #[error("{0}'s identity key has changed since you last verified it; sending is blocked until you re-verify")]
    KeyChanged(String),
    /// A member could not be verified against the directory and was refused.
    #[error("{0} could not be verified, so the change to the conversation was refused")]
    UntrustedMember(String),
    /// The handle is not (or no longer) a member of the conversation.
    #[error("{0} is not a member of this conversation")]
    NotAMember(String),
    /// The handle is already a member of the conversation.
    #[error("{0} is already a member of this conversation")]
    AlreadyAMember(String),
    /// A conversation with oneself was requested.
    #[error("you cannot start a conversation with yourself")]
    CannotMessageSelf,
    /// Removing oneself from a group is not supported.
    #[error("you cannot remove yourself from a conversation")]
    CannotRemoveSelf,
    /// The message has no visible text.
    #[error("the message is empty; type some text to send")]
    EmptyMessage,
    /// The message is over 64 KiB.
    #[error("the message is longer than 64 KiB; split it into shorter messages")]
    MessageTooLong,
    /// Others kept changing the conversation while we tried to change or post to it.
    #[error("the conversation {0} is changing too quickly right now; try again in a moment")]
    Busy(String),
    /// The relay could not be reached.
    #[error(
        "the relay could not be reached ({0}); check the address and your network, then try again"
    )]
    RelayUnreachable(String),
    /// The relay answered with an error.
    #[error("the relay refused the request: {0}")]
    Relay(RelayError),
    /// The local store failed.
    #[error("the local store failed: {0}")]
    Store(#[from] StoreError),
    /// A cryptographic operation failed (malformed or forged data, or a bug).
    #[error("a cryptographic operation failed: {0}")]
    Crypto(String),
    /// `events()` was called outside a tokio runtime.
    #[error("event streams need a running tokio runtime")]
    NoRuntime,
}

impl From<RelayError> for ClientError {
    fn from(error: RelayError) -> Self {
        match error {
            RelayError::Unreachable(why) => ClientError::RelayUnreachable(why),
            other => ClientError::Relay(other),
        }
    }
}

impl ClientError {
    /// Errors that say nothing about the data being processed: retrying later may succeed,
    /// so the input must not be marked as processed.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::RelayUnreachable(_) | ClientError::Store(_) | ClientError::Relay(_)
        )
    }
}

/// Maps a parley-crypto error to [`ClientError::Crypto`]; their messages carry no secrets.
pub(crate) fn crypto(error: impl std::fmt::Display) -> ClientError {
    ClientError::Crypto(error.to_string())
}
