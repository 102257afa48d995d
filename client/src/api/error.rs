//! Errors of the client API, worded for the person using the application. Each keeps its
//! cause as its [`source`](std::error::Error::source), never flattened into a string.

use parley_crypto::handle::Handle;

use super::handle_list::list_handles;
use super::proxy_url::ProxyUrlError;

/// Why a client operation failed. Each message is one sentence meant for the end user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Only the group's admins may add or remove people or name other admins.
    #[error(
        "only an admin of {conversation} can change who is in it or who its admins are; ask {}",
        list_handles(admins)
    )]
    NotAdmin {
        /// The group.
        conversation: String,
        /// Its admins.
        admins: Vec<Handle>,
    },
    /// We are the only admin of a group others are still in: leaving would leave it with
    /// nobody who can change it.
    #[error("you are the only admin of {0}; make another member an admin before you leave")]
    LastAdmin(String),
    /// The member is an admin already.
    #[error("{0} is already an admin")]
    AlreadyAdmin(Handle),
    /// A workshop operation failed (see [`WorkshopError`](crate::WorkshopError)).
    #[error(transparent)]
    Workshop(#[from] super::workshop_error::WorkshopError),
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
    /// The relay address or the pinned fingerprint given to the builder is not acceptable.
    #[error("the relay address or fingerprint is not valid")]
    InvalidRelay(#[source] RelayError),
    /// The proxy address given to the builder is not a SOCKS5 address.
    #[error("the proxy address is not valid: {0}")]
    InvalidProxy(#[source] ProxyUrlError),
    /// The text is not a valid handle.
    #[error("\"{0}\" is not a valid handle: use 3 to 32 characters from a-z, 0-9, '.', '_' and '-', starting with a letter or digit")]
    InvalidHandle(String),
    /// A document cannot be sent as described (a name or media type the format refuses, a
    /// size beyond the limit, content shorter than its size).
    #[error("the document cannot be sent: {0}")]
    InvalidDocument(String),
    /// Reading the document to send, or writing the one fetched, failed.
    #[error("reading or writing the document failed: {0}")]
    DocumentIo(#[source] std::io::Error),
    /// No document with this id was shared in any of our conversations.
    #[error("no document with id {0} was shared with you")]
    UnknownDocument(String),
    /// What the relay served is not the document that was shared (altered, cut short, out
    /// of order or another one): refused, and nothing of it should be kept.
    #[error("the document served by the relay is not the one that was shared; refused")]
    DocumentDamaged,
    /// A rotation of our keys was refused: the relay holds another record for our handle
    /// (it was released and registered again, or the keys were rotated from another copy of
    /// this folder). The current keys stay in use.
    #[error("the relay refused the new keys: it holds another record for your handle; your keys are unchanged")]
    RotationRefused,
    /// Some conversations are still on the keys of the last rotation (the relay could not
    /// be reached, or commits kept racing); they move at the next sync, then keys can be
    /// rotated again.
    #[error("some conversations have not moved to your last new keys yet; run `parley sync` and try again")]
    RotationUnfinished,
    /// Someone else already registered this handle on the relay.
    #[error("the handle {0} is already taken on this relay; choose another one")]
    HandleTaken(Handle),
    /// The relay has no directory record for this handle.
    #[error("the relay does not know anyone called {0}")]
    UnknownContact(Handle),
    /// The contact exists but has no KeyPackage to be added with.
    #[error("{0} cannot be added right now because they have no published keys; ask them to open Parley")]
    ContactUnavailable(Handle),
    /// The keys the relay handed out for adding the contact are outside their lifetime by our
    /// clock: expired (they have not opened Parley for weeks), or not valid yet.
    #[error("{0} cannot be added right now because the keys the relay has for them have expired (or this computer's clock is wrong); ask them to open Parley")]
    ContactKeysExpired(Handle),
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
    /// A conversation with this name exists already, or the name is a contact's handle.
    #[error("a conversation called \"{0}\" already exists; choose another name")]
    ConversationExists(String),
    /// A group name must be 1 to 64 bytes of printable text, without `/` or a leading `@`.
    #[error(
        "a group name must be 1 to 64 characters, without '/', a leading '@' or control characters"
    )]
    InvalidConversationName,
    /// The contact's identity key differs from the one pinned on first use.
    #[error("{0}'s identity key has changed since you last verified it; sending is blocked until you re-verify")]
    KeyChanged(Handle),
    /// A member of the group has a key the user has not accepted; nothing was sent.
    #[error("{handle}'s identity key in {conversation} is not the one you trust; nothing is sent to {conversation} until you verify or accept the key, or remove {handle}")]
    MemberKeyChanged {
        /// The group, by its local name.
        conversation: String,
        /// The member whose key changed.
        handle: Handle,
    },
    /// A member could not be verified against the directory and was refused.
    #[error("{0} could not be verified, so the change to the conversation was refused")]
    UntrustedMember(Handle),
    /// The handle is not (or no longer) a member of the conversation.
    #[error("{0} is not a member of this conversation")]
    NotAMember(Handle),
    /// The handle is already a member of the conversation.
    #[error("{0} is already a member of this conversation")]
    AlreadyAMember(Handle),
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
    #[error(transparent)]
    Relay(RelayError),
    /// The local store failed.
    #[error("the local store failed")]
    Store(#[from] StoreError),
    /// Data failed a cryptographic check or could not be processed (malformed or forged
    /// input, or a bug); the cause says which.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
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
    /// The variant's name alone (`KeyChanged`), for logs: error messages name people and
    /// conversations, which stay out of logs above debug.
    pub(crate) fn kind(&self) -> String {
        let debug = format!("{self:?}");
        debug
            .split(|c: char| !c.is_ascii_alphanumeric())
            .next()
            .unwrap_or_default()
            .to_owned()
    }

    /// Errors that say nothing about the data being processed: retrying later may succeed,
    /// so the input must not be marked as processed.
    pub(crate) fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::RelayUnreachable(_) | ClientError::Store(_) | ClientError::Relay(_)
        )
    }
}

/// Which cryptographic step failed. The variants carry the crypto crate's typed errors, whose
/// messages hold no secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// An MLS operation (the conversation engine) failed.
    #[error(transparent)]
    Mls(#[from] parley_crypto::mls::MlsError),
    /// A delivery could not be opened with our inbox key (not for us, or damaged).
    #[error("a delivery could not be decrypted")]
    DeliveryUnreadable(#[source] parley_crypto::envelope::OpenError),
    /// A delivery claims a sender whose key did not seal it.
    #[error("a delivery claiming to be from {0} is not authentic")]
    DeliveryNotAuthentic(Handle),
    /// An envelope could not be sealed.
    #[error("an envelope could not be sealed")]
    Seal(#[from] parley_crypto::envelope::SealError),
    /// An inbox message could not be encoded.
    #[error("an inbox message could not be encoded")]
    InboxEncode(#[from] parley_crypto::inbox_message::EncodeError),
    /// An inbox message could not be decoded.
    #[error("an inbox message could not be decoded")]
    InboxDecode(#[from] parley_crypto::inbox_message::DecodeError),
    /// A message payload could not be encoded.
    #[error("a message could not be encoded")]
    PayloadEncode(#[from] parley_crypto::payload::EncodeError),
    /// A public key could not be read.
    #[error("a public key could not be read")]
    Key(#[from] parley_crypto::identity::KeyError),
    /// A directory record could not be made.
    #[error("a directory record could not be made")]
    Record(#[from] parley_crypto::directory::RecordError),
    /// A key rotation could not be made.
    #[error("a key rotation could not be made")]
    Rotation(#[from] parley_crypto::rotation::RotationError),
}

impl From<parley_crypto::mls::MlsError> for ClientError {
    fn from(error: parley_crypto::mls::MlsError) -> Self {
        ClientError::Crypto(CryptoError::Mls(error))
    }
}

/// Why talking to the relay failed.
///
/// Each variant's `Display` is one sentence a person can act on. Messages quoted from the
/// relay are its own words; nothing secret is ever put into them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The relay could not be reached, or the connection broke.
    #[error("the relay is unreachable: {0}")]
    Unreachable(String),
    /// The relay does not know the handle, group or key package asked for.
    #[error("the relay has no such entry")]
    NotFound,
    /// The handle or group id is already taken on the relay.
    #[error("the relay already has an entry with that name")]
    AlreadyExists,
    /// The group is no longer at the epoch the request was made for (someone else committed
    /// first); sync the group and retry.
    #[error("the group moved on to a newer epoch on the relay; sync and retry")]
    EpochConflict,
    /// The relay did not accept the request's proof of authority.
    #[error("the relay refused the request: permission denied")]
    PermissionDenied,
    /// The relay found the request malformed.
    #[error("the relay rejected the request as invalid: {0}")]
    InvalidArgument(String),
    /// A relay limit (rate, inbox size, key packages) was reached.
    #[error("a relay limit was reached; try again later")]
    ResourceExhausted,
    /// The relay URL or the pinned fingerprint is not acceptable.
    #[error("invalid relay address: {0}")]
    InvalidUrl(String),
    /// The TLS connection to the relay could not be established or verified.
    #[error("the secure connection to the relay failed: {0}")]
    Tls(String),
    /// The relay answered with something that does not follow the protocol.
    #[error("the relay sent a malformed response: {0}")]
    Protocol(String),
    /// The relay answered with an error this client does not expect.
    #[error("the relay answered with an unexpected error ({code}): {message}")]
    Other {
        /// The gRPC status code, by name.
        code: String,
        /// The relay's message.
        message: String,
    },
}

/// Why the local store could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database failed (disk full, permissions, another process holds the lock, ...).
    #[error("the database failed: {0}")]
    Database(#[from] sled::Error),
    /// The home directory could not be created.
    #[error("the home directory could not be created: {0}")]
    Io(#[from] std::io::Error),
    /// A stored record could not be decoded; the store is damaged or from another version.
    #[error("a stored record is damaged ({0})")]
    Corrupt(&'static str),
    /// The key derivation parameters given for a new store are out of range.
    #[error("the key derivation parameters are out of range")]
    KdfParams,
    /// A background flush task was cancelled.
    #[error("writing to disk was interrupted")]
    Interrupted,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kind_of_an_error_names_nobody() {
        let handle = Handle::parse("zanzibar-k").unwrap();
        assert_eq!(ClientError::KeyChanged(handle.clone()).kind(), "KeyChanged");
        assert_eq!(
            ClientError::UnknownConversation("caucus-north".to_owned()).kind(),
            "UnknownConversation"
        );
        assert_eq!(
            ClientError::Crypto(CryptoError::DeliveryNotAuthentic(handle)).kind(),
            "Crypto"
        );
        assert_eq!(ClientError::NotInitialized.kind(), "NotInitialized");
    }
}
