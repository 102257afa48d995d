//! Offline compaction of a relay's database (`parley-relay compact`).

use std::path::Path;

use crate::error::RelayError;
use crate::store::{self, Compacted};

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
