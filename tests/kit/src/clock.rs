//! Time for tests: the real time, and a clock that moves only when the test moves it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use parley_crypto::clock::Clock;
use parley_relay::SystemClock;

/// Milliseconds since the Unix epoch, read as the relay reads them by default.
pub fn now_ms() -> u64 {
    SystemClock.now_ms()
}

/// A wall clock that stands still until the test moves it: hand a clone to a relay (see
/// [`TestRelayBuilder::clock`](crate::TestRelayBuilder::clock)) and keep one to move time
/// instead of sleeping. Clones share one time.
///
/// It starts at the real time, so timestamps that tests sign with [`now_ms`] are fresh to a
/// relay that has just been given it.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now_ms: Arc<AtomicU64>,
}

impl ManualClock {
    /// A clock reading the real time now.
    pub fn new() -> ManualClock {
        ManualClock {
            now_ms: Arc::new(AtomicU64::new(now_ms())),
        }
    }

    /// Moves the clock forward by `by` (whole milliseconds; the rest is dropped).
    pub fn advance(&self, by: Duration) {
        let by_ms = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        // The closure always returns Some, so the update cannot fail.
        let _ = self
            .now_ms
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |now| {
                Some(now.saturating_add(by_ms))
            });
    }

    /// Sets the clock to `ms` milliseconds since the Unix epoch, backwards too.
    pub fn set(&self, ms: u64) {
        self.now_ms.store(ms, Ordering::SeqCst);
    }

    /// What the clock reads: milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
}

impl Default for ManualClock {
    /// See [`ManualClock::new`].
    fn default() -> Self {
        ManualClock::new()
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> u64 {
        ManualClock::now_ms(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_one_time_that_moves_only_when_told() {
        let clock = ManualClock::new();
        let relay_side = clock.clone();
        let start = clock.now_ms();
        assert!(start.abs_diff(now_ms()) < 60_000, "starts at the real time");
        clock.advance(Duration::from_millis(1500));
        assert_eq!(relay_side.now_ms(), start + 1500);
        relay_side.set(42);
        assert_eq!(Clock::now_ms(&clock), 42);
    }
}
