//! Prometheus metrics: counters and gauges over atomics, rendered in the text exposition
//! format and served on their own listener by [`serve_metrics`].
//!
//! Metrics carry no handle, group id, address or payload: only counts, sizes and durations.

mod histogram;
mod http;

use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use http::serve_metrics;

use histogram::Histogram;

/// What a message was: an inbox envelope or a group log entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A sealed envelope deposited in an inbox.
    Inbox = 0,
    /// A group log entry (post or commit).
    Group = 1,
}

const KINDS: [(Kind, &str); 2] = [(Kind::Inbox, "inbox"), (Kind::Group, "group")];

/// Why the relay refused a request for abuse reasons.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The source address ran out of request tokens.
    SourceRate = 0,
    /// The inbox holds its maximum number of pending deliveries.
    InboxMessages = 1,
    /// The inbox holds its maximum pending bytes.
    InboxBytes = 2,
    /// The target handle's KeyPackage claims ran out of tokens.
    ClaimRate = 3,
    /// All subscription slots are taken.
    Subscriptions = 4,
    /// The handle holds its maximum number of KeyPackages.
    KeyPackagesHeld = 5,
    /// Too many owner-auth challenges are outstanding.
    Challenges = 6,
    /// The data disk is below its free-space reserve.
    DiskReserve = 7,
    /// A blob larger than `max_blob_bytes` was offered.
    BlobSize = 8,
    /// The source address used up its blob upload quota.
    BlobQuota = 9,
}

const REASONS: [(Rejection, &str); 10] = [
    (Rejection::SourceRate, "source_rate"),
    (Rejection::InboxMessages, "inbox_messages"),
    (Rejection::InboxBytes, "inbox_bytes"),
    (Rejection::ClaimRate, "claim_rate"),
    (Rejection::Subscriptions, "subscriptions"),
    (Rejection::KeyPackagesHeld, "key_packages_held"),
    (Rejection::Challenges, "challenges"),
    (Rejection::DiskReserve, "disk_reserve"),
    (Rejection::BlobSize, "blob_size"),
    (Rejection::BlobQuota, "blob_quota"),
];

/// The metrics of one relay; cheap to clone, all clones share the same values.
///
/// Get it from [`Relay::metrics`](crate::Relay::metrics) and serve it with
/// [`serve_metrics`].
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Registry>,
}

#[derive(Debug, Default)]
struct Registry {
    accepted: [AtomicU64; 2],
    accepted_bytes: [AtomicU64; 2],
    delivered: [AtomicU64; 2],
    expired: [AtomicU64; 2],
    stored_bytes: [AtomicU64; 2],
    active_streams: [AtomicU64; 2],
    rejections: [AtomicU64; REASONS.len()],
    flush: Histogram,
    /// Measured at each scrape; `None` in unit tests without a database.
    data_dir: Option<PathBuf>,
}

impl Metrics {
    /// Fresh metrics; `parley_disk_bytes` measures the files under `data_dir`.
    pub(crate) fn new(data_dir: Option<PathBuf>) -> Metrics {
        Metrics {
            inner: Arc::new(Registry {
                data_dir,
                ..Registry::default()
            }),
        }
    }

    /// A message of `bytes` was stored durably.
    pub(crate) fn accepted(&self, kind: Kind, bytes: usize) {
        let i = kind as usize;
        self.inner.accepted[i].fetch_add(1, Ordering::Relaxed);
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.inner.accepted_bytes[i].fetch_add(bytes, Ordering::Relaxed);
    }

    /// `count` messages were sent to a reader.
    pub(crate) fn delivered(&self, kind: Kind, count: usize) {
        let count = u64::try_from(count).unwrap_or(u64::MAX);
        self.inner.delivered[kind as usize].fetch_add(count, Ordering::Relaxed);
    }

    /// The retention sweeper deleted `count` messages.
    pub(crate) fn expired(&self, kind: Kind, count: u64) {
        self.inner.expired[kind as usize].fetch_add(count, Ordering::Relaxed);
    }

    /// Stored payload bytes grew by `bytes`.
    pub(crate) fn stored_add(&self, kind: Kind, bytes: u64) {
        self.inner.stored_bytes[kind as usize].fetch_add(bytes, Ordering::Relaxed);
    }

    /// Stored payload bytes shrank by `bytes`.
    pub(crate) fn stored_sub(&self, kind: Kind, bytes: u64) {
        let _ = self.inner.stored_bytes[kind as usize].fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |now| Some(now.saturating_sub(bytes)),
        );
    }

    /// Sets stored payload bytes (counted when the database is opened).
    pub(crate) fn stored_set(&self, kind: Kind, bytes: u64) {
        self.inner.stored_bytes[kind as usize].store(bytes, Ordering::Relaxed);
    }

    /// A subscription stream opened.
    pub(crate) fn stream_opened(&self, kind: Kind) {
        self.inner.active_streams[kind as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A subscription stream closed.
    pub(crate) fn stream_closed(&self, kind: Kind) {
        let _ = self.inner.active_streams[kind as usize].fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |now| Some(now.saturating_sub(1)),
        );
    }

    /// A request was refused for `reason`.
    pub(crate) fn rejected(&self, reason: Rejection) {
        self.inner.rejections[reason as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// A write waited `elapsed` for its data to reach the disk.
    pub(crate) fn flushed(&self, elapsed: Duration) {
        self.inner.flush.observe(elapsed);
    }

    /// All metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let r = &*self.inner;
        let mut out = String::with_capacity(4096);
        per_kind(
            &mut out,
            "parley_messages_accepted_total",
            "counter",
            "Messages stored durably (inbox deposits, group posts and commits).",
            &r.accepted,
        );
        per_kind(
            &mut out,
            "parley_message_bytes_accepted_total",
            "counter",
            "Payload bytes of accepted messages.",
            &r.accepted_bytes,
        );
        per_kind(
            &mut out,
            "parley_messages_delivered_total",
            "counter",
            "Messages sent to readers (fetches, subscriptions, group reads).",
            &r.delivered,
        );
        per_kind(
            &mut out,
            "parley_messages_expired_total",
            "counter",
            "Messages deleted by the retention sweeper.",
            &r.expired,
        );
        per_kind(
            &mut out,
            "parley_stored_bytes",
            "gauge",
            "Payload bytes held: pending inbox deliveries and group log entries.",
            &r.stored_bytes,
        );
        per_kind(
            &mut out,
            "parley_active_streams",
            "gauge",
            "Open Subscribe streams.",
            &r.active_streams,
        );
        header(
            &mut out,
            "parley_rejections_total",
            "counter",
            "Requests refused by an abuse limit, by reason.",
        );
        for (reason, label) in REASONS {
            let value = r.rejections[reason as usize].load(Ordering::Relaxed);
            let _ = writeln!(out, "parley_rejections_total{{reason=\"{label}\"}} {value}");
        }
        header(
            &mut out,
            "parley_flush_duration_seconds",
            "histogram",
            "Time a write waits until its data is durable (shared group-commit flushes included).",
        );
        r.flush.render("parley_flush_duration_seconds", &mut out);
        if let Some(dir) = &r.data_dir {
            header(
                &mut out,
                "parley_disk_bytes",
                "gauge",
                "Bytes of the database files on disk.",
            );
            let _ = writeln!(out, "parley_disk_bytes {}", disk_usage(dir));
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn per_kind(out: &mut String, name: &str, kind: &str, help: &str, values: &[AtomicU64; 2]) {
    header(out, name, kind, help);
    for (k, label) in KINDS {
        let value = values[k as usize].load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}{{kind=\"{label}\"}} {value}");
    }
}

/// Total size of the regular files under `dir`; unreadable entries count as 0.
pub(crate) fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.file_type() {
            Ok(t) if t.is_dir() => disk_usage(&entry.path()),
            Ok(t) if t.is_file() => entry.metadata().map_or(0, |m| m.len()),
            _ => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_series_has_help_and_type() {
        let metrics = Metrics::new(None);
        metrics.accepted(Kind::Inbox, 10);
        metrics.rejected(Rejection::SourceRate);
        metrics.stream_opened(Kind::Group);
        metrics.stream_closed(Kind::Group);
        metrics.stream_closed(Kind::Group);
        let text = metrics.render();
        assert!(text.contains("parley_messages_accepted_total{kind=\"inbox\"} 1\n"));
        assert!(text.contains("parley_message_bytes_accepted_total{kind=\"inbox\"} 10\n"));
        assert!(text.contains("parley_rejections_total{reason=\"source_rate\"} 1\n"));
        assert!(text.contains("parley_active_streams{kind=\"group\"} 0\n"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let name = line.split(['{', ' ']).next().unwrap();
            assert!(name.starts_with("parley_"), "{line}");
            let family = name
                .trim_end_matches("_bucket")
                .trim_end_matches("_sum")
                .trim_end_matches("_count");
            assert!(text.contains(&format!("# TYPE {family} ")), "{line}");
        }
    }
}
