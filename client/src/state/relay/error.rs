//! How gRPC statuses and connection failures map onto [`RelayError`].

use std::error::Error as StdError;

use tonic::{Code, Status};

use super::connector::ConnectFailure;

use crate::api::error::RelayError;

impl From<Status> for RelayError {
    fn from(status: Status) -> Self {
        match status.code() {
            Code::NotFound => RelayError::NotFound,
            Code::AlreadyExists => RelayError::AlreadyExists,
            Code::FailedPrecondition => RelayError::EpochConflict,
            Code::PermissionDenied | Code::Unauthenticated => RelayError::PermissionDenied,
            Code::InvalidArgument => RelayError::InvalidArgument(status.message().to_owned()),
            Code::ResourceExhausted => RelayError::ResourceExhausted,
            Code::Unavailable => RelayError::Unreachable(status_reason(&status)),
            // Statuses decoded from the relay's answer never carry a source; one that does
            // was made locally from a broken or unusable connection.
            _ if status.source().is_some() => RelayError::Unreachable(status_reason(&status)),
            code => RelayError::Other {
                code: format!("{code:?}"),
                message: status.message().to_owned(),
            },
        }
    }
}

/// The message of a status, or of its underlying transport error when the status is only
/// a wrapper around one (tonic reports broken connections that way).
fn status_reason(status: &Status) -> String {
    match (status.source(), status.message()) {
        (Some(source), _) => error_chain(source),
        (None, "") => "the connection was closed".to_owned(),
        (None, message) => message.to_owned(),
    }
}

/// Classifies a failure of the initial connection: our connector reports TLS failures
/// distinctly, everything else (refused, timed out, DNS) means the relay is unreachable.
pub(crate) fn from_connect_error(error: &(dyn StdError + 'static)) -> RelayError {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(err) = current {
        if let Some(failure) = err.downcast_ref::<ConnectFailure>() {
            return failure.to_relay_error();
        }
        current = err.source();
    }
    RelayError::Unreachable(error_chain(error))
}

/// Joins an error and its sources into one line, skipping repeated messages (tonic and hyper
/// often wrap an error in one that says the same thing).
pub(crate) fn error_chain(error: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(err) = current {
        let text = err.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = err.source();
    }
    if parts.is_empty() {
        "unknown transport error".to_owned()
    } else {
        parts.join(": ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_map_to_variants() {
        assert!(matches!(
            RelayError::from(Status::not_found("x")),
            RelayError::NotFound
        ));
        assert!(matches!(
            RelayError::from(Status::already_exists("x")),
            RelayError::AlreadyExists
        ));
        assert!(matches!(
            RelayError::from(Status::failed_precondition("x")),
            RelayError::EpochConflict
        ));
        assert!(matches!(
            RelayError::from(Status::unauthenticated("x")),
            RelayError::PermissionDenied
        ));
        assert!(matches!(
            RelayError::from(Status::permission_denied("x")),
            RelayError::PermissionDenied
        ));
        assert!(matches!(
            RelayError::from(Status::resource_exhausted("x")),
            RelayError::ResourceExhausted
        ));
        match RelayError::from(Status::invalid_argument("bad handle")) {
            RelayError::InvalidArgument(m) => assert_eq!(m, "bad handle"),
            other => panic!("unexpected {other:?}"),
        }
        match RelayError::from(Status::unavailable("gone")) {
            RelayError::Unreachable(m) => assert_eq!(m, "gone"),
            other => panic!("unexpected {other:?}"),
        }
        match RelayError::from(Status::internal("boom")) {
            RelayError::Other { code, message } => {
                assert_eq!(code, "Internal");
                assert_eq!(message, "boom");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn local_transport_failures_are_unreachable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let status = Status::from_error(Box::new(io));
        match RelayError::from(status) {
            RelayError::Unreachable(m) => assert!(m.contains("reset by peer"), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn display_is_a_sentence() {
        let text = RelayError::Unreachable("connection refused".into()).to_string();
        assert_eq!(text, "the relay is unreachable: connection refused");
    }
}
