//! The disk's own flush latency, sampled while a scenario runs: a small write and an
//! `fdatasync` every few milliseconds into a file in the temporary directory, the filesystem
//! that holds the clients' homes and the data of a relay the bench starts.
//!
//! Why: every message waits for two flushes (the sender's ratchet step, the relay's group
//! commit). When the disk stalls every flush on it for tens of milliseconds, the delivery
//! tail shows the disk, not Parley; this puts the disk's own tail beside the delivery's, from
//! the same seconds.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Context};
use tempfile::NamedTempFile;

use crate::report::Figure;
use crate::stats::{ms, quantile_of};

/// How often the probe flushes while a scenario runs.
const INTERVAL: Duration = Duration::from_millis(10);
/// A flush slower than this is counted as a stall: as long as the p99 delivery target, so a
/// message whose flushes fall in one misses the target by the disk alone.
const STALL: Duration = Duration::from_millis(10);

/// Bytes written before each flush: one page.
const WRITE: usize = 4096;
/// The probe overwrites the same 256 pages in turn, so its file stays at 1 MiB.
const PAGES: u64 = 256;

/// A thread flushing a small write to disk every `interval` until [`FlushProbe::finish`]
/// (or the probe's drop, when a scenario fails before it finishes).
pub(crate) struct FlushProbe {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<anyhow::Result<Vec<Duration>>>>,
}

impl FlushProbe {
    /// Starts probing a new file in the temporary directory, one flush every [`INTERVAL`].
    pub(crate) fn start() -> anyhow::Result<FlushProbe> {
        FlushProbe::every(INTERVAL)
    }

    fn every(interval: Duration) -> anyhow::Result<FlushProbe> {
        // The thread owns the file: it is removed when the thread ends.
        let file = NamedTempFile::new().context("creating the disk flush probe's file")?;
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("disk-flush-probe".into())
            .spawn(move || probe(file.as_file(), interval, &flag))
            .context("starting the disk flush probe")?;
        Ok(FlushProbe {
            stop,
            thread: Some(thread),
        })
    }

    /// Stops the probe; every flush's duration, in the order taken.
    pub(crate) fn finish(mut self) -> anyhow::Result<Vec<Duration>> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .ok_or_else(|| anyhow!("the disk flush probe was finished twice"))?
            .join()
            .map_err(|_| anyhow!("the disk flush probe panicked"))?
    }
}

impl Drop for FlushProbe {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// The probe's figures: its p50, p99 and slowest flush, how many flushes it made and how many
/// of them stalled.
pub(crate) fn figures(mut samples: Vec<Duration>) -> Vec<Figure> {
    samples.sort();
    let label = format!(
        "disk flush ({} KiB + fdatasync in TMPDIR, every {} ms)",
        WRITE / 1024,
        INTERVAL.as_millis()
    );
    let stalls = samples.iter().filter(|d| **d > STALL).count();
    vec![
        Figure::plain(
            format!("{label} p50"),
            ms(quantile_of(&samples, 0.50)),
            "ms",
        ),
        Figure::plain(
            format!("{label} p99"),
            ms(quantile_of(&samples, 0.99)),
            "ms",
        ),
        Figure::plain(
            format!("{label} max"),
            ms(samples.last().copied().unwrap_or_default()),
            "ms",
        ),
        Figure::plain("disk flushes sampled", samples.len() as f64, ""),
        Figure::plain(
            format!("disk flushes over {} ms", STALL.as_millis()),
            stalls as f64,
            "",
        ),
    ]
}

fn probe(file: &File, interval: Duration, stop: &AtomicBool) -> anyhow::Result<Vec<Duration>> {
    let page = [0xa5u8; WRITE];
    let mut samples = Vec::new();
    let mut n: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        file.write_all_at(&page, (n % PAGES) * WRITE as u64)
            .context("writing the disk flush probe's file")?;
        let start = Instant::now();
        file.sync_data()
            .context("flushing the disk flush probe's file")?;
        samples.push(start.elapsed());
        n += 1;
        std::thread::sleep(interval);
    }
    Ok(samples)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    #[test]
    fn samples_every_flush_until_stopped() {
        let probe = FlushProbe::every(Duration::from_millis(5)).unwrap();
        std::thread::sleep(Duration::from_millis(300));
        let samples = probe.finish().unwrap();
        // 300 ms at one flush per 5 ms and more: at least a few, never hundreds.
        assert!(samples.len() >= 3, "{} samples", samples.len());
        assert!(samples.len() <= 60, "{} samples", samples.len());
        assert!(samples.iter().all(|d| *d < Duration::from_secs(30)));
    }

    #[test]
    fn counts_the_flushes_over_the_stall_line() {
        let samples = vec![
            Duration::from_millis(1),
            Duration::from_millis(50),
            Duration::from_millis(2),
            Duration::from_millis(11),
        ];
        let figures = figures(samples);
        assert_eq!(figures.len(), 5);
        assert_eq!(figures[2].value, 50.0);
        assert_eq!(figures[3].value, 4.0);
        assert_eq!(figures[4].name, "disk flushes over 10 ms");
        assert_eq!(figures[4].value, 2.0);
    }
}
