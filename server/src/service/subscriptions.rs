//! Bounds the Subscribe streams open at once over all clients.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tonic::Status;

use crate::metrics::{Kind, Metrics, Rejection};

/// Counts open subscription streams against a maximum.
pub(super) struct Subscriptions {
    open: Arc<AtomicU32>,
    max: u32,
    metrics: Metrics,
}

/// One open subscription; frees its slot when dropped (when the stream ends or the client
/// goes away).
pub(super) struct Slot {
    open: Arc<AtomicU32>,
    kind: Kind,
    metrics: Metrics,
}

impl Subscriptions {
    pub(super) fn new(max: u32, metrics: Metrics) -> Self {
        Subscriptions {
            open: Arc::new(AtomicU32::new(0)),
            max,
            metrics,
        }
    }

    /// Takes a slot, or RESOURCE_EXHAUSTED when all are taken.
    pub(super) fn open(&self, kind: Kind) -> Result<Slot, Status> {
        let max = self.max;
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .map_err(|_| {
                self.metrics.rejected(Rejection::Subscriptions);
                Status::resource_exhausted("the relay has too many open subscriptions; retry later")
            })?;
        self.metrics.stream_opened(kind);
        Ok(Slot {
            open: self.open.clone(),
            kind,
            metrics: self.metrics.clone(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.open.fetch_sub(1, Ordering::AcqRel);
        self.metrics.stream_closed(self.kind);
    }
}
