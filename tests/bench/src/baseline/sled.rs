//! Sled with one durable write at a time: what a relay without group commit would pay per
//! deposit, held against the relay's batched writes.

use std::path::Path;
use std::time::{Duration, Instant};

/// Each of `writes` inserts of `payload` bytes (keys: a counter, big-endian, so they append)
/// into a sled database in `dir`, each followed by a `flush`, timed together.
pub(crate) fn insert_flush(
    dir: &Path,
    payload: usize,
    writes: usize,
) -> anyhow::Result<Vec<Duration>> {
    let db = sled::Config::new().path(dir).open()?;
    let value = vec![0x5au8; payload];
    let mut samples = Vec::with_capacity(writes);
    for counter in 0..writes as u64 {
        let start = Instant::now();
        db.insert(counter.to_be_bytes(), value.as_slice())?;
        db.flush()?;
        samples.push(start.elapsed());
    }
    Ok(samples)
}
