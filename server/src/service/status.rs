//! Mapping internal failures to gRPC statuses without leaking details to clients.

use tonic::Status;

use crate::store::StoreError;

/// Logs a storage failure for the operator and returns a generic status for the client.
pub(super) fn storage(error: StoreError) -> Status {
    tracing::error!(%error, "storage failure");
    match error {
        StoreError::Corrupt(_) => Status::internal("internal error"),
        _ => Status::unavailable("storage unavailable, try again later"),
    }
}
