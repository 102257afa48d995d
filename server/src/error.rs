//! Errors of opening and serving a relay.

use std::net::SocketAddr;

use crate::tls::TlsError;

/// Opening or serving a relay failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// The data directory could not be created or the listener's address read.
    #[error("I/O error")]
    Io(#[from] std::io::Error),
    /// The database could not be opened or flushed.
    #[error("database error: {0}")]
    Database(String),
    /// The TLS certificate or key could not be loaded or created.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// Plaintext was requested on a listener that is not bound to a loopback address.
    #[error("refusing plaintext on non-loopback address {0}: configure TLS or listen on 127.0.0.1 / ::1")]
    PlaintextNotLoopback(SocketAddr),
    /// The server reflection service could not be built from the protocol's descriptors.
    #[error("cannot build the reflection service: {0}")]
    Reflection(String),
    /// A value of [`LimitsConfig`](crate::LimitsConfig) is unusable; names the field.
    #[error("invalid configuration: {0}")]
    Limits(String),
    /// The text is not a valid handle.
    #[error("{0:?} is not a valid handle")]
    InvalidHandle(String),
    /// The gRPC server failed.
    #[error("the gRPC server failed")]
    Transport(#[from] tonic::transport::Error),
}

impl From<crate::store::StoreError> for RelayError {
    fn from(error: crate::store::StoreError) -> Self {
        use crate::store::StoreError;
        match error {
            // sled reports its file lock only as an `Other` I/O error with this text.
            StoreError::Database(sled::Error::Io(io))
                if io.to_string().contains("could not acquire lock") =>
            {
                RelayError::Database(
                    "the database is locked; is another relay running on this data directory?"
                        .to_owned(),
                )
            }
            StoreError::Database(inner) => RelayError::Database(inner.to_string()),
            other => RelayError::Database(other.to_string()),
        }
    }
}
