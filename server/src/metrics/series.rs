//! The relay's metric families, registered once with a prometheus-client [`Registry`].
//!
//! Every labelled series is created here, before the first scrape, so a count that is still 0
//! is exposed as 0 rather than missing (a missing series breaks `rate()` and alerts on it).
//! The handles kept alongside the registry share their values with it, so counting or setting
//! a level touches one atomic and never looks up a label set.

use std::fmt::Debug;
use std::path::PathBuf;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeMetric;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::TypedMetric;
use prometheus_client::registry::Registry;

use super::labels::{KindLabel, ReasonLabel, KINDS, REASONS};

/// A gauge of a quantity that is never negative (bytes, open streams).
pub(super) type Level = Gauge<u64, AtomicU64>;

/// Upper bounds of the flush-duration buckets, in seconds: from half a millisecond (a flush on
/// fast storage) to seconds (a stalled disk). Dashboards and alerts select buckets by these
/// `le` values, so they must not change.
const FLUSH_BOUNDS: [f64; 13] = [
    0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];

/// The registry and a handle on each series in it, indexed by [`Kind`](super::Kind) or
/// [`Rejection`](super::Rejection).
#[derive(Debug)]
pub(super) struct Series {
    /// What a scrape encodes, in registration order.
    pub(super) registry: Registry,
    /// `parley_messages_accepted_total{kind}`.
    pub(super) accepted: [Counter; 2],
    /// `parley_message_bytes_accepted_total{kind}`.
    pub(super) accepted_bytes: [Counter; 2],
    /// `parley_messages_delivered_total{kind}`.
    pub(super) delivered: [Counter; 2],
    /// `parley_messages_expired_total{kind}`.
    pub(super) expired: [Counter; 2],
    /// `parley_stored_bytes{kind}`.
    pub(super) stored_bytes: [Level; 2],
    /// `parley_active_streams{kind}`.
    pub(super) active_streams: [Level; 2],
    /// `parley_rejections_total{reason}`.
    pub(super) rejections: [Counter; REASONS.len()],
    /// `parley_flush_duration_seconds`.
    pub(super) flush: Histogram,
    /// `parley_disk_bytes` and the directory it measures at each scrape; `None` without a
    /// local database (unit tests, PostgreSQL).
    pub(super) disk: Option<(Level, PathBuf)>,
}

impl Series {
    /// Registers every family, in the order the relay has always exposed them.
    ///
    /// Names are given without `_total` and help texts without a final full stop because
    /// prometheus-client appends both; the exposed names are those in docs/OPERATING.md.
    pub(super) fn new(data_dir: Option<PathBuf>) -> Series {
        let mut registry = Registry::default();
        let accepted = per_kind(
            &mut registry,
            "parley_messages_accepted",
            "Messages stored durably (inbox deposits, group posts and commits)",
        );
        let accepted_bytes = per_kind(
            &mut registry,
            "parley_message_bytes_accepted",
            "Payload bytes of accepted messages",
        );
        let delivered = per_kind(
            &mut registry,
            "parley_messages_delivered",
            "Messages sent to readers (fetches, subscriptions, group reads)",
        );
        let expired = per_kind(
            &mut registry,
            "parley_messages_expired",
            "Messages deleted by the retention sweeper",
        );
        let stored_bytes = per_kind(
            &mut registry,
            "parley_stored_bytes",
            "Payload bytes held: pending inbox deliveries and group log entries",
        );
        let active_streams = per_kind(
            &mut registry,
            "parley_active_streams",
            "Open Subscribe streams",
        );
        let reasons = Family::<ReasonLabel, Counter>::default();
        let rejections =
            REASONS.map(|(_, reason)| reasons.get_or_create_owned(&ReasonLabel { reason }));
        registry.register(
            "parley_rejections",
            "Requests refused by an abuse limit, by reason",
            reasons,
        );
        let flush = Histogram::new(FLUSH_BOUNDS);
        registry.register(
            "parley_flush_duration_seconds",
            "Time a write waits until its data is durable (shared group-commit flushes included)",
            flush.clone(),
        );
        let disk = data_dir.map(|dir| {
            let gauge = Level::default();
            registry.register(
                "parley_disk_bytes",
                "Bytes of the database files on disk",
                gauge.clone(),
            );
            (gauge, dir)
        });
        Series {
            registry,
            accepted,
            accepted_bytes,
            delivered,
            expired,
            stored_bytes,
            active_streams,
            rejections,
            flush,
            disk,
        }
    }
}

/// Registers a family labelled by `kind` with both of its series, and returns their handles
/// in [`KINDS`] order.
fn per_kind<M>(registry: &mut Registry, name: &str, help: &str) -> [M; 2]
where
    M: EncodeMetric + TypedMetric + Default + Clone + Send + Sync + Debug + 'static,
{
    let family = Family::<KindLabel, M>::default();
    let handles = KINDS.map(|(_, kind)| family.get_or_create_owned(&KindLabel { kind }));
    registry.register(name, help, family);
    handles
}
