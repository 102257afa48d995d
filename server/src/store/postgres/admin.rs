//! The operator's commands against a PostgreSQL store: freeing a handle and probing the
//! database for `check-config`. Unlike sled's, these run while relay nodes serve: the nodes
//! keep no counters of their own that a deletion behind their back would leave wrong.

use parley_crypto::handle::Handle;

use super::{PgError, PgStore, SCHEMA_VERSION};
use crate::store::{Released, StoreError};

/// What `check-config` learned from the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreProbe {
    /// The schema version the database is at; `None` before any relay migrated it.
    pub schema_version: Option<i32>,
    /// The schema version this relay migrates to at start.
    pub relay_schema_version: i32,
}

/// Connects, and reads the schema version without changing anything.
pub(crate) async fn probe(store: &PgStore) -> Result<StoreProbe, StoreError> {
    let client = store.client().await?;
    let migrated = client
        .query_one("SELECT to_regclass('parley_schema') IS NOT NULL", &[])
        .await
        .map_err(PgError::from)?
        .try_get::<_, bool>(0)
        .map_err(PgError::from)?;
    let schema_version = if migrated {
        let row = client
            .query_one("SELECT MAX(version) FROM parley_schema", &[])
            .await
            .map_err(PgError::from)?;
        row.try_get::<_, Option<i32>>(0).map_err(PgError::from)?
    } else {
        None
    };
    Ok(StoreProbe {
        schema_version,
        relay_schema_version: SCHEMA_VERSION,
    })
}

/// Removes `handle`'s record, rotations, KeyPackages, outstanding challenges and waiting
/// deliveries in one transaction. The inbox's id counter stays, so ids are never reused and
/// a subscriber's cursor never skips a new owner's first delivery.
pub(crate) async fn release_handle(
    store: &PgStore,
    handle: &Handle,
) -> Result<Released, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let name = handle.as_str();
    let record = tx
        .execute("DELETE FROM directory WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    tx.execute("DELETE FROM rotations WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    let one_time = tx
        .execute("DELETE FROM key_packages WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    let last_resort = tx
        .execute("DELETE FROM last_resort WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    tx.execute("DELETE FROM challenges WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    let deliveries = tx
        .execute("DELETE FROM deliveries WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    tx.execute(
        "UPDATE inboxes SET pending = 0, pending_bytes = 0 WHERE handle = $1",
        &[&name],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(Released {
        record: record > 0,
        key_packages: one_time.saturating_add(last_resort),
        deliveries,
    })
}
