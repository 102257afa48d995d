//! Library errors as they cross the daemon's socket.
//!
//! The command must react to a failure exactly as if it had called the library itself: the
//! same words, the same hint, the same exit code, and the same branches (an unknown
//! conversation, a changed key, an unreachable relay). So every error that is plain data
//! travels as itself and becomes the same `ClientError` again on the command's side. The
//! rest (a failing disk, a cryptographic failure) cannot be rebuilt: they travel as the
//! failure the daemon would have printed, worded for the same folder.

use parley_client::{ClientError, Handle, RelayError};
use serde::{Deserialize, Serialize};

use crate::failure::Failure;

/// A library error on the wire.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum RemoteError {
    /// An error that is plain data: rebuilt as it was.
    Client(PlainError),
    /// Anything else, as the daemon describes it.
    Described {
        /// The `error:` line.
        message: String,
        /// The `hint:` line, if any.
        hint: Option<String>,
        /// The exit code.
        code: u8,
    },
}

/// The variants of `ClientError` that are plain data, one for one.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
pub(crate) enum PlainError {
    NotInitialized,
    AlreadyInitialized,
    PassphraseRequired,
    WrongPassphrase,
    MissingHome,
    MissingRelay,
    InvalidRelay {
        relay: PlainRelayError,
    },
    InvalidHandle {
        text: String,
    },
    InvalidDocument {
        why: String,
    },
    UnknownDocument {
        id: String,
    },
    DocumentDamaged,
    HandleTaken {
        handle: Handle,
    },
    UnknownContact {
        handle: Handle,
    },
    ContactUnavailable {
        handle: Handle,
    },
    ContactKeysExpired {
        handle: Handle,
    },
    UnknownConversation {
        name: String,
    },
    AmbiguousName {
        name: String,
        options: Vec<String>,
    },
    NotAGroup {
        name: String,
    },
    Retired {
        name: String,
    },
    ConversationExists {
        name: String,
    },
    InvalidConversationName,
    KeyChanged {
        handle: Handle,
    },
    MemberKeyChanged {
        conversation: String,
        handle: Handle,
    },
    UntrustedMember {
        handle: Handle,
    },
    NotAMember {
        handle: Handle,
    },
    AlreadyAMember {
        handle: Handle,
    },
    CannotMessageSelf,
    CannotRemoveSelf,
    EmptyMessage,
    MessageTooLong,
    Busy {
        name: String,
    },
    RelayUnreachable {
        why: String,
    },
    Relay {
        relay: PlainRelayError,
    },
}

/// `RelayError`, one for one.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(missing_docs)]
pub(crate) enum PlainRelayError {
    Unreachable { why: String },
    NotFound,
    AlreadyExists,
    EpochConflict,
    PermissionDenied,
    InvalidArgument { why: String },
    ResourceExhausted,
    InvalidUrl { why: String },
    Tls { why: String },
    Protocol { why: String },
    Other { code: String, message: String },
}

impl RemoteError {
    /// The error as the command's side sends it, described for `failure` when it is not
    /// plain data.
    pub(crate) fn of(error: &ClientError, failure: impl FnOnce() -> Failure) -> RemoteError {
        match PlainError::of(error) {
            Some(plain) => RemoteError::Client(plain),
            None => {
                let failure = failure();
                RemoteError::Described {
                    message: failure.message().to_owned(),
                    hint: failure.hint_text().map(str::to_owned),
                    code: failure.exit_code(),
                }
            }
        }
    }
}

impl PlainError {
    fn of(error: &ClientError) -> Option<PlainError> {
        use ClientError as E;
        let handle = |h: &Handle| h.clone();
        Some(match error {
            E::NotInitialized => PlainError::NotInitialized,
            E::AlreadyInitialized => PlainError::AlreadyInitialized,
            E::PassphraseRequired => PlainError::PassphraseRequired,
            E::WrongPassphrase => PlainError::WrongPassphrase,
            E::MissingHome => PlainError::MissingHome,
            E::MissingRelay => PlainError::MissingRelay,
            E::InvalidRelay(relay) => PlainError::InvalidRelay {
                relay: PlainRelayError::of(relay)?,
            },
            E::InvalidHandle(text) => PlainError::InvalidHandle { text: text.clone() },
            E::InvalidDocument(why) => PlainError::InvalidDocument { why: why.clone() },
            E::UnknownDocument(id) => PlainError::UnknownDocument { id: id.clone() },
            E::DocumentDamaged => PlainError::DocumentDamaged,
            E::HandleTaken(h) => PlainError::HandleTaken { handle: handle(h) },
            E::UnknownContact(h) => PlainError::UnknownContact { handle: handle(h) },
            E::ContactUnavailable(h) => PlainError::ContactUnavailable { handle: handle(h) },
            E::ContactKeysExpired(h) => PlainError::ContactKeysExpired { handle: handle(h) },
            E::UnknownConversation(name) => PlainError::UnknownConversation { name: name.clone() },
            E::AmbiguousName { name, options } => PlainError::AmbiguousName {
                name: name.clone(),
                options: options.clone(),
            },
            E::NotAGroup(name) => PlainError::NotAGroup { name: name.clone() },
            E::Retired(name) => PlainError::Retired { name: name.clone() },
            E::ConversationExists(name) => PlainError::ConversationExists { name: name.clone() },
            E::InvalidConversationName => PlainError::InvalidConversationName,
            E::KeyChanged(h) => PlainError::KeyChanged { handle: handle(h) },
            E::MemberKeyChanged {
                conversation,
                handle: h,
            } => PlainError::MemberKeyChanged {
                conversation: conversation.clone(),
                handle: handle(h),
            },
            E::UntrustedMember(h) => PlainError::UntrustedMember { handle: handle(h) },
            E::NotAMember(h) => PlainError::NotAMember { handle: handle(h) },
            E::AlreadyAMember(h) => PlainError::AlreadyAMember { handle: handle(h) },
            E::CannotMessageSelf => PlainError::CannotMessageSelf,
            E::CannotRemoveSelf => PlainError::CannotRemoveSelf,
            E::EmptyMessage => PlainError::EmptyMessage,
            E::MessageTooLong => PlainError::MessageTooLong,
            E::Busy(name) => PlainError::Busy { name: name.clone() },
            E::RelayUnreachable(why) => PlainError::RelayUnreachable { why: why.clone() },
            E::Relay(relay) => PlainError::Relay {
                relay: PlainRelayError::of(relay)?,
            },
            _ => return None,
        })
    }

    /// The library error again.
    pub(crate) fn into_client_error(self) -> ClientError {
        use ClientError as E;
        match self {
            PlainError::NotInitialized => E::NotInitialized,
            PlainError::AlreadyInitialized => E::AlreadyInitialized,
            PlainError::PassphraseRequired => E::PassphraseRequired,
            PlainError::WrongPassphrase => E::WrongPassphrase,
            PlainError::MissingHome => E::MissingHome,
            PlainError::MissingRelay => E::MissingRelay,
            PlainError::InvalidRelay { relay } => E::InvalidRelay(relay.into_relay_error()),
            PlainError::InvalidHandle { text } => E::InvalidHandle(text),
            PlainError::InvalidDocument { why } => E::InvalidDocument(why),
            PlainError::UnknownDocument { id } => E::UnknownDocument(id),
            PlainError::DocumentDamaged => E::DocumentDamaged,
            PlainError::HandleTaken { handle } => E::HandleTaken(handle),
            PlainError::UnknownContact { handle } => E::UnknownContact(handle),
            PlainError::ContactUnavailable { handle } => E::ContactUnavailable(handle),
            PlainError::ContactKeysExpired { handle } => E::ContactKeysExpired(handle),
            PlainError::UnknownConversation { name } => E::UnknownConversation(name),
            PlainError::AmbiguousName { name, options } => E::AmbiguousName { name, options },
            PlainError::NotAGroup { name } => E::NotAGroup(name),
            PlainError::Retired { name } => E::Retired(name),
            PlainError::ConversationExists { name } => E::ConversationExists(name),
            PlainError::InvalidConversationName => E::InvalidConversationName,
            PlainError::KeyChanged { handle } => E::KeyChanged(handle),
            PlainError::MemberKeyChanged {
                conversation,
                handle,
            } => E::MemberKeyChanged {
                conversation,
                handle,
            },
            PlainError::UntrustedMember { handle } => E::UntrustedMember(handle),
            PlainError::NotAMember { handle } => E::NotAMember(handle),
            PlainError::AlreadyAMember { handle } => E::AlreadyAMember(handle),
            PlainError::CannotMessageSelf => E::CannotMessageSelf,
            PlainError::CannotRemoveSelf => E::CannotRemoveSelf,
            PlainError::EmptyMessage => E::EmptyMessage,
            PlainError::MessageTooLong => E::MessageTooLong,
            PlainError::Busy { name } => E::Busy(name),
            PlainError::RelayUnreachable { why } => E::RelayUnreachable(why),
            PlainError::Relay { relay } => E::Relay(relay.into_relay_error()),
        }
    }
}

impl PlainRelayError {
    fn of(error: &RelayError) -> Option<PlainRelayError> {
        use RelayError as R;
        Some(match error {
            R::Unreachable(why) => PlainRelayError::Unreachable { why: why.clone() },
            R::NotFound => PlainRelayError::NotFound,
            R::AlreadyExists => PlainRelayError::AlreadyExists,
            R::EpochConflict => PlainRelayError::EpochConflict,
            R::PermissionDenied => PlainRelayError::PermissionDenied,
            R::InvalidArgument(why) => PlainRelayError::InvalidArgument { why: why.clone() },
            R::ResourceExhausted => PlainRelayError::ResourceExhausted,
            R::InvalidUrl(why) => PlainRelayError::InvalidUrl { why: why.clone() },
            R::Tls(why) => PlainRelayError::Tls { why: why.clone() },
            R::Protocol(why) => PlainRelayError::Protocol { why: why.clone() },
            R::Other { code, message } => PlainRelayError::Other {
                code: code.clone(),
                message: message.clone(),
            },
            _ => return None,
        })
    }

    fn into_relay_error(self) -> RelayError {
        use RelayError as R;
        match self {
            PlainRelayError::Unreachable { why } => R::Unreachable(why),
            PlainRelayError::NotFound => R::NotFound,
            PlainRelayError::AlreadyExists => R::AlreadyExists,
            PlainRelayError::EpochConflict => R::EpochConflict,
            PlainRelayError::PermissionDenied => R::PermissionDenied,
            PlainRelayError::InvalidArgument { why } => R::InvalidArgument(why),
            PlainRelayError::ResourceExhausted => R::ResourceExhausted,
            PlainRelayError::InvalidUrl { why } => R::InvalidUrl(why),
            PlainRelayError::Tls { why } => R::Tls(why),
            PlainRelayError::Protocol { why } => R::Protocol(why),
            PlainRelayError::Other { code, message } => R::Other { code, message },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every plain error comes back with the same words.
    #[test]
    fn plain_errors_round_trip_with_their_words() {
        let bob: Handle = "bob".parse().unwrap();
        let errors = [
            ClientError::UnknownConversation("team".into()),
            ClientError::KeyChanged(bob.clone()),
            ClientError::MemberKeyChanged {
                conversation: "team".into(),
                handle: bob.clone(),
            },
            ClientError::AmbiguousName {
                name: "bob".into(),
                options: vec!["@bob".into(), "me/bob".into()],
            },
            ClientError::Relay(RelayError::Other {
                code: "Internal".into(),
                message: "boom".into(),
            }),
            ClientError::RelayUnreachable("connection refused".into()),
            ClientError::InvalidRelay(RelayError::InvalidUrl("x".into())),
            ClientError::InvalidDocument("invalid document name".into()),
            ClientError::UnknownDocument("7f3c1a2b".into()),
            ClientError::DocumentDamaged,
        ];
        for error in errors {
            let wire =
                serde_json::to_string(&RemoteError::of(&error, unreachable_failure)).unwrap();
            let RemoteError::Client(plain) = serde_json::from_str(&wire).unwrap() else {
                panic!("{error:?} did not travel as itself");
            };
            assert_eq!(plain.into_client_error().to_string(), error.to_string());
        }
    }

    fn unreachable_failure() -> Failure {
        panic!("a plain error must not be described")
    }
}
