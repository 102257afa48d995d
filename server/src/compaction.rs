//! The operator's work on a relay's data: compaction (`parley-relay compact`) and freeing a
//! handle (`parley-relay handle release`) on sled while the relay is stopped; freeing a handle
//! and probing the database (`parley-relay check-config`) on PostgreSQL while nodes serve.

use std::path::Path;

use parley_crypto::handle::Handle;

use crate::error::RelayError;
use crate::store::{self, Compacted, FlushPolicy, PgStore, Released, StoreProbe};

/// Returns the disk space of removed data to the file system: copies the live data of the
/// database in `data_dir` to a fresh database and swaps it in (crash-safe; an interrupted
/// compaction is completed or discarded when the relay next opens the directory).
///
/// The relay must not be running on `data_dir`; if it is, this fails with
/// [`RelayError::Database`] ("the database is locked") and changes nothing, as it does when
/// `data_dir` holds no database. A relay also compacts by itself at start when the files
/// exceed [`LimitsConfig::compact_on_open_ratio`](crate::LimitsConfig::compact_on_open_ratio)
/// times the live data.
pub fn compact(data_dir: &Path) -> Result<Compacted, RelayError> {
    Ok(store::compact_dir(&data_dir.join("db"))?)
}

/// Frees `handle` on the relay whose data is in `data_dir`: its directory record, its
/// KeyPackages and the deliveries waiting in its inbox are deleted, so that it can be
/// registered again, with a new key, by whoever asks first (after a lost laptop, say).
/// Everyone who pinned the old key sees the new one as CHANGED. Stop the relay first.
pub fn release_handle(data_dir: &Path, handle: &str) -> Result<Released, RelayError> {
    let handle = Handle::parse(handle).map_err(|_| RelayError::InvalidHandle(handle.to_owned()))?;
    let db = data_dir.join("db");
    if !db.exists() {
        return Err(RelayError::Database(format!(
            "no relay database in {}",
            data_dir.display()
        )));
    }
    store::recover(&db)?;
    let store = store::SledStore::open(&db, FlushPolicy::PerWrite)?;
    Ok(store.release_handle(&handle)?)
}

/// Frees `handle` in the PostgreSQL database `url` names, as [`release_handle`] does on sled:
/// its record, rotations, KeyPackages and waiting deliveries go, in one transaction. Relay
/// nodes on the database may keep serving.
pub async fn release_handle_postgres(url: &str, handle: &str) -> Result<Released, RelayError> {
    let handle = Handle::parse(handle).map_err(|_| RelayError::InvalidHandle(handle.to_owned()))?;
    Ok(PgStore::new(url)?.release_handle(&handle).await?)
}

/// Connects to the PostgreSQL database `url` names and reads its schema version, changing
/// nothing: whether the relay's store is reachable and which relay migrated it.
pub async fn probe_postgres(url: &str) -> Result<StoreProbe, RelayError> {
    Ok(PgStore::new(url)?.probe().await?)
}
