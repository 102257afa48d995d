//! The retention sweeper: deletes inbox deliveries, group log entries and blobs older than
//! the configured retention, whether or not anyone read them, and group log entries older
//! than their group's own agreed retention.

use std::time::Duration;

use parley_crypto::clock::Clock;

use crate::store::{SharedStore, StoreError};

/// Deletes everything stored more than `retention` (if any) before `clock`'s now (the
/// clock that stamped arrivals), and each group's entries older than its own retention.
/// Failures are logged and retried at the next sweep.
pub(crate) async fn sweep(store: &SharedStore, retention: Option<Duration>, clock: &dyn Clock) {
    let now_ms = clock.now_ms();
    let retention_ms = retention.map(|r| u64::try_from(r.as_millis()).unwrap_or(u64::MAX));
    let swept = async {
        let entries = store.expire_entries(now_ms, retention_ms).await?;
        let mut blobs = 0;
        loop {
            let batch = store.expire_blobs(now_ms, retention_ms).await?;
            blobs += batch;
            if batch == 0 {
                break;
            }
        }
        let deliveries = match retention_ms {
            Some(retention_ms) => {
                store
                    .expire_deliveries(now_ms.saturating_sub(retention_ms))
                    .await?
            }
            None => 0,
        };
        // Spent challenges and remembered requests of a store nodes share.
        store.expire_tokens(now_ms).await?;
        Ok::<_, StoreError>((deliveries, entries, blobs))
    }
    .await;
    match swept {
        Ok((deliveries, entries, blobs)) => {
            if deliveries > 0 || entries > 0 || blobs > 0 {
                tracing::info!(
                    deliveries,
                    entries,
                    blobs,
                    "retention sweep deleted expired data"
                );
            }
        }
        Err(error) => tracing::error!(%error, "retention sweep failed"),
    }
}
