//! Bounds the Subscribe streams open at once: over all clients, and per source address, so
//! that a few sources cannot take every slot (each gets at most its share).

use std::net::IpAddr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tonic::Status;

use crate::limits::{ShareSlot, SourceShares};
use crate::metrics::{Kind, Metrics, Rejection};

/// Counts open subscription streams against a maximum, overall and per source.
pub(super) struct Subscriptions {
    open: Arc<AtomicU32>,
    max: u32,
    per_source: SourceShares,
    metrics: Metrics,
}

/// One open subscription; frees its slots when dropped (when the stream ends or the client
/// goes away).
pub(super) struct Slot {
    open: Arc<AtomicU32>,
    _share: ShareSlot,
    kind: Kind,
    metrics: Metrics,
}

impl Subscriptions {
    /// At most `max` streams in all and `max_per_source` (0: no share) from one source.
    pub(super) fn new(max: u32, max_per_source: u32, metrics: Metrics) -> Self {
        Subscriptions {
            open: Arc::new(AtomicU32::new(0)),
            max,
            per_source: SourceShares::new(usize::try_from(max_per_source).unwrap_or(usize::MAX)),
            metrics,
        }
    }

    /// Takes a slot for a stream from `source`, or RESOURCE_EXHAUSTED when the source has
    /// used its share or all slots are taken.
    pub(super) fn open(&self, kind: Kind, source: IpAddr) -> Result<Slot, Status> {
        let Some(share) = self.per_source.take(source) else {
            self.metrics.rejected(Rejection::Subscriptions);
            return Err(Status::resource_exhausted(
                "too many open subscriptions from this address; retry later",
            ));
        };
        let max = self.max;
        self.open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < max).then_some(open + 1)
            })
            .map_err(|_| {
                // `share` is dropped here, giving the source's slot back.
                self.metrics.rejected(Rejection::Subscriptions);
                Status::resource_exhausted("the relay has too many open subscriptions; retry later")
            })?;
        self.metrics.stream_opened(kind);
        Ok(Slot {
            open: self.open.clone(),
            _share: share,
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
