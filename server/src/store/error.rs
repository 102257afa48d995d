//! Storage failures.

/// A storage operation failed. Shown to clients only as a generic UNAVAILABLE or INTERNAL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum StoreError {
    /// The database reported an error (I/O, corruption detected by sled).
    #[error("database error: {0}")]
    Database(#[from] sled::Error),
    /// A stored value does not have the layout this relay writes.
    #[error("stored {0} is malformed")]
    Corrupt(&'static str),
    /// The blocking flush task did not complete (panicked or cancelled at shutdown).
    #[error("flush task failed")]
    FlushTask,
    /// Flushing the database to disk failed; the write may not survive a crash.
    #[error("flushing the database failed")]
    FlushFailed,
    /// The data disk has less free space than `limits.min_free_disk_bytes`; nothing was
    /// written.
    #[error("data disk below its free-space reserve")]
    DiskReserve,
    /// The PostgreSQL backend failed (connection, query, schema).
    #[error(transparent)]
    Postgres(#[from] super::postgres::PgError),
}

impl From<sled::transaction::TransactionError<StoreError>> for StoreError {
    fn from(error: sled::transaction::TransactionError<StoreError>) -> Self {
        match error {
            sled::transaction::TransactionError::Abort(inner) => inner,
            sled::transaction::TransactionError::Storage(inner) => StoreError::Database(inner),
        }
    }
}
