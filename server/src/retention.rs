//! The retention sweeper: deletes inbox deliveries, group log entries and blobs older than
//! the configured retention, whether or not anyone read them.

use std::time::Duration;

use parley_crypto::clock::Clock;

use crate::store::Store;

/// Deletes everything stored more than `retention` before `clock`'s now (the clock that
/// stamped arrivals). Failures are logged and retried at the next sweep.
pub(crate) async fn sweep(store: &Store, retention: Duration, clock: &dyn Clock) {
    let retention_ms = u64::try_from(retention.as_millis()).unwrap_or(u64::MAX);
    let cutoff_ms = clock.now_ms().saturating_sub(retention_ms);
    let store = store.clone();
    // sled calls block; a large sweep must not stall a runtime worker.
    let swept = tokio::task::spawn_blocking(move || {
        let deliveries = store.expire_deliveries(cutoff_ms)?;
        let entries = store.expire_entries(cutoff_ms)?;
        let mut blobs = 0;
        loop {
            let batch = store.expire_blobs(cutoff_ms)?;
            blobs += batch;
            if batch == 0 {
                break;
            }
        }
        Ok::<_, crate::store::StoreError>((deliveries, entries, blobs))
    })
    .await;
    match swept {
        Ok(Ok((deliveries, entries, blobs))) => {
            if deliveries > 0 || entries > 0 || blobs > 0 {
                tracing::info!(
                    deliveries,
                    entries,
                    blobs,
                    "retention sweep deleted expired data"
                );
            }
        }
        Ok(Err(error)) => tracing::error!(%error, "retention sweep failed"),
        Err(_) => tracing::error!("retention sweep task failed"),
    }
}
