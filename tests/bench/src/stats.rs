//! Latency samples and their percentiles.

use std::time::{Duration, Instant};

/// Delivery latencies, each with the moment it was taken (for the plot over time).
#[derive(Debug, Clone, Default)]
pub(crate) struct Latencies {
    /// (seconds since the scenario began, latency).
    samples: Vec<(f64, Duration)>,
}

impl Latencies {
    /// Records `latency`, taken at `at`, in a run that began at `start`.
    pub(crate) fn push(&mut self, start: Instant, at: Instant, latency: Duration) {
        self.samples
            .push((at.saturating_duration_since(start).as_secs_f64(), latency));
    }

    /// How many samples.
    pub(crate) fn len(&self) -> usize {
        self.samples.len()
    }

    /// The `q` quantile (0 to 1), nearest rank; zero without samples.
    pub(crate) fn quantile(&self, q: f64) -> Duration {
        let mut sorted: Vec<Duration> = self.samples.iter().map(|(_, d)| *d).collect();
        sorted.sort();
        quantile_of(&sorted, q)
    }

    /// (seconds since the start, milliseconds) of every sample, in the order taken.
    pub(crate) fn points(&self) -> Vec<(f64, f64)> {
        self.samples
            .iter()
            .map(|(t, d)| (*t, d.as_secs_f64() * 1000.0))
            .collect()
    }
}

/// The `q` quantile of `sorted`, nearest rank; zero when empty.
pub(crate) fn quantile_of(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Milliseconds, for reports.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let sorted: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile_of(&sorted, 0.5), Duration::from_millis(50));
        assert_eq!(quantile_of(&sorted, 0.99), Duration::from_millis(99));
        assert_eq!(quantile_of(&sorted, 1.0), Duration::from_millis(100));
        assert_eq!(quantile_of(&sorted[..1], 0.99), Duration::from_millis(1));
        assert_eq!(quantile_of(&[], 0.5), Duration::ZERO);
    }
}
