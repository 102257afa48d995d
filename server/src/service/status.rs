//! Mapping internal failures to gRPC statuses without leaking details to clients.

use tonic::Status;

use crate::store::StoreError;

/// Logs a storage failure for the operator and returns a generic status for the client.
pub(crate) fn storage(error: StoreError) -> Status {
    // A refusal for want of disk space is logged once when it starts, by the store.
    if !matches!(error, StoreError::DiskReserve) {
        tracing::error!(%error, "storage failure");
    }
    match error {
        StoreError::Corrupt(_) => Status::internal("internal error"),
        _ => Status::unavailable("storage unavailable, try again later"),
    }
}
