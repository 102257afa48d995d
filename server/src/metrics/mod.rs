//! Prometheus metrics: prometheus-client counters, gauges and a histogram, encoded in the
//! Prometheus text exposition format (0.0.4) and served on their own listener by
//! [`serve_metrics`].
//!
//! Metrics carry no handle, group id, address or payload: only counts, sizes and durations.

mod http;
mod labels;
mod series;

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::prometheus_text;

pub use http::serve_metrics;
pub(crate) use labels::{Kind, Rejection};

use series::Series;

/// The metrics of one relay; cheap to clone, all clones share the same values.
///
/// Get it from [`Relay::metrics`](crate::Relay::metrics) and serve it with
/// [`serve_metrics`].
#[derive(Clone, Debug)]
pub struct Metrics {
    inner: Arc<Series>,
}

impl Metrics {
    /// Fresh metrics; `parley_disk_bytes` measures the files under `data_dir`.
    pub(crate) fn new(data_dir: Option<PathBuf>) -> Metrics {
        Metrics {
            inner: Arc::new(Series::new(data_dir)),
        }
    }

    /// A message of `bytes` was stored durably.
    pub(crate) fn accepted(&self, kind: Kind, bytes: usize) {
        let i = kind as usize;
        self.inner.accepted[i].inc();
        let bytes = u64::try_from(bytes).unwrap_or(u64::MAX);
        self.inner.accepted_bytes[i].inc_by(bytes);
    }

    /// `count` messages were sent to a reader.
    pub(crate) fn delivered(&self, kind: Kind, count: usize) {
        let count = u64::try_from(count).unwrap_or(u64::MAX);
        self.inner.delivered[kind as usize].inc_by(count);
    }

    /// The retention sweeper deleted `count` messages.
    pub(crate) fn expired(&self, kind: Kind, count: u64) {
        self.inner.expired[kind as usize].inc_by(count);
    }

    /// Stored payload bytes grew by `bytes`.
    pub(crate) fn stored_add(&self, kind: Kind, bytes: u64) {
        self.inner.stored_bytes[kind as usize].inc_by(bytes);
    }

    /// Stored payload bytes shrank by `bytes`.
    pub(crate) fn stored_sub(&self, kind: Kind, bytes: u64) {
        // Saturating: a release counted twice must show 0, not wrap to 2^64.
        let _ = self.inner.stored_bytes[kind as usize].inner().fetch_update(
            Ordering::Relaxed,
            Ordering::Relaxed,
            |now| Some(now.saturating_sub(bytes)),
        );
    }

    /// Sets stored payload bytes (counted when the database is opened).
    pub(crate) fn stored_set(&self, kind: Kind, bytes: u64) {
        self.inner.stored_bytes[kind as usize].set(bytes);
    }

    /// A subscription stream opened.
    pub(crate) fn stream_opened(&self, kind: Kind) {
        self.inner.active_streams[kind as usize].inc();
    }

    /// A subscription stream closed.
    pub(crate) fn stream_closed(&self, kind: Kind) {
        // Saturating, as in `stored_sub`.
        let _ = self.inner.active_streams[kind as usize]
            .inner()
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_sub(1))
            });
    }

    /// A request was refused for `reason`.
    pub(crate) fn rejected(&self, reason: Rejection) {
        self.inner.rejections[reason as usize].inc();
    }

    /// A write waited `elapsed` for its data to reach the disk.
    pub(crate) fn flushed(&self, elapsed: Duration) {
        self.inner.flush.observe(elapsed.as_secs_f64());
    }

    /// All metrics in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let series = &*self.inner;
        // Measured now rather than kept up to date: walking the data directory is too costly
        // for every write, and a scrape is the only reader.
        if let Some((gauge, dir)) = &series.disk {
            gauge.set(disk_usage(dir));
        }
        let mut out = String::with_capacity(4096);
        // Writing to a String cannot fail and every label is a constant, so an error here
        // would be a bug in the encoder; a partial scrape is still better than none.
        if let Err(error) = prometheus_text::encode(&mut out, &series.registry) {
            tracing::error!(%error, "cannot encode the metrics");
        }
        out
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

    /// The names, types and help texts scrapers and dashboards rely on, exactly as the relay
    /// exposed them before it used prometheus-client (which appends `_total` and a full stop).
    #[test]
    fn families_keep_their_names_types_and_help() {
        let dir = std::env::temp_dir();
        let text = Metrics::new(Some(dir)).render();
        let types: Vec<&str> = text.lines().filter(|l| l.starts_with("# TYPE ")).collect();
        assert_eq!(
            types,
            [
                "# TYPE parley_messages_accepted_total counter",
                "# TYPE parley_message_bytes_accepted_total counter",
                "# TYPE parley_messages_delivered_total counter",
                "# TYPE parley_messages_expired_total counter",
                "# TYPE parley_stored_bytes gauge",
                "# TYPE parley_active_streams gauge",
                "# TYPE parley_rejections_total counter",
                "# TYPE parley_flush_duration_seconds histogram",
                "# TYPE parley_disk_bytes gauge",
            ]
        );
        assert!(text.contains("# HELP parley_active_streams Open Subscribe streams.\n"));
        assert!(!text.contains(".."), "{text}");
        assert!(!text.contains("# EOF"), "{text}");
        for (_, kind) in labels::KINDS {
            assert!(text.contains(&format!("parley_stored_bytes{{kind=\"{kind}\"}} 0\n")));
        }
        for (_, reason) in labels::REASONS {
            let line = format!("parley_rejections_total{{reason=\"{reason}\"}} 0\n");
            assert!(text.contains(&line), "{line}");
        }
    }

    #[test]
    fn flush_buckets_are_cumulative() {
        let metrics = Metrics::new(None);
        metrics.flushed(Duration::from_micros(300));
        metrics.flushed(Duration::from_millis(3));
        metrics.flushed(Duration::from_secs(60));
        let text = metrics.render();
        let x = "parley_flush_duration_seconds";
        assert!(text.contains(&format!("{x}_bucket{{le=\"0.0005\"}} 1\n")));
        assert!(text.contains(&format!("{x}_bucket{{le=\"0.005\"}} 2\n")));
        assert!(text.contains(&format!("{x}_bucket{{le=\"5\"}} 2\n")));
        assert!(text.contains(&format!("{x}_bucket{{le=\"+Inf\"}} 3\n")));
        assert!(text.contains(&format!("{x}_count 3\n")));
        assert_eq!(text.matches(&format!("{x}_bucket")).count(), 14);
    }

    #[test]
    fn levels_do_not_go_below_zero() {
        let metrics = Metrics::new(None);
        metrics.stored_set(Kind::Inbox, 10);
        metrics.stored_sub(Kind::Inbox, 25);
        metrics.stream_closed(Kind::Inbox);
        let text = metrics.render();
        assert!(text.contains("parley_stored_bytes{kind=\"inbox\"} 0\n"));
        assert!(text.contains("parley_active_streams{kind=\"inbox\"} 0\n"));
    }
}
