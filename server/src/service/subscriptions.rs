//! Bounds the Subscribe streams open at once: over all clients, and per source address, so
//! that a few sources cannot take every slot (each gets at most its share).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use tonic::Status;

use crate::metrics::{Kind, Metrics, Rejection};

/// Counts open subscription streams against a maximum, overall and per source.
pub(super) struct Subscriptions {
    open: Arc<AtomicU32>,
    max: u32,
    per_source: Arc<Mutex<HashMap<IpAddr, u32>>>,
    max_per_source: u32,
    metrics: Metrics,
}

/// One open subscription; frees its slot when dropped (when the stream ends or the client
/// goes away).
pub(super) struct Slot {
    open: Arc<AtomicU32>,
    per_source: Arc<Mutex<HashMap<IpAddr, u32>>>,
    source: IpAddr,
    kind: Kind,
    metrics: Metrics,
}

impl Subscriptions {
    /// At most `max` streams in all and `max_per_source` (0: no share) from one source.
    pub(super) fn new(max: u32, max_per_source: u32, metrics: Metrics) -> Self {
        Subscriptions {
            open: Arc::new(AtomicU32::new(0)),
            max,
            per_source: Arc::new(Mutex::new(HashMap::new())),
            max_per_source,
            metrics,
        }
    }

    /// Takes a slot for a stream from `source`, or RESOURCE_EXHAUSTED when the source has
    /// used its share or all slots are taken.
    pub(super) fn open(&self, kind: Kind, source: IpAddr) -> Result<Slot, Status> {
        {
            // Every mutation is one call on the map, so a poisoned lock still holds a
            // consistent count.
            let mut per_source = self
                .per_source
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            let held = per_source.entry(source).or_insert(0);
            if self.max_per_source > 0 && *held >= self.max_per_source {
                self.metrics.rejected(Rejection::Subscriptions);
                return Err(Status::resource_exhausted(
                    "too many open subscriptions from this address; retry later",
                ));
            }
            *held += 1;
        }
        let max = self.max;
        let taken = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            });
        if taken.is_err() {
            release(&self.per_source, source);
            self.metrics.rejected(Rejection::Subscriptions);
            return Err(Status::resource_exhausted(
                "the relay has too many open subscriptions; retry later",
            ));
        }
        self.metrics.stream_opened(kind);
        Ok(Slot {
            open: self.open.clone(),
            per_source: self.per_source.clone(),
            source,
            kind,
            metrics: self.metrics.clone(),
        })
    }
}

/// Gives one of `source`'s slots back, forgetting sources that hold none.
fn release(per_source: &Mutex<HashMap<IpAddr, u32>>, source: IpAddr) {
    let mut per_source = per_source.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some(held) = per_source.get_mut(&source) {
        *held = held.saturating_sub(1);
        if *held == 0 {
            per_source.remove(&source);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
        release(&self.per_source, self.source);
        self.metrics.stream_closed(self.kind);
    }
}
