//! The token buckets' view of the relay clock: time that only moves forward.
//!
//! A token bucket remembers when it will next be full. Were it to read the wall clock
//! directly, a clock stepped back by an hour (a bad NTP source, a VM restored from a
//! snapshot) would leave every bucket that was busy before the step empty for that hour.
//! So the buckets see the wall clock's forward steps only: the sum of every positive
//! difference between two readings. A backward step then costs nothing and a forward step
//! refills buckets early, which only errs on the side of serving.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use parley_crypto::clock::Clock;

/// A monotonic clock for `governor`, driven by the relay's wall clock.
#[derive(Clone)]
pub(crate) struct BucketClock {
    wall: Arc<dyn Clock>,
    readings: Arc<Mutex<Readings>>,
}

/// The last wall-clock reading and the forward time summed up to it.
#[derive(Clone, Copy)]
struct Readings {
    last_wall_ms: u64,
    elapsed_ms: u64,
}

impl BucketClock {
    /// Starts at zero elapsed time, now.
    pub(crate) fn new(wall: Arc<dyn Clock>) -> Self {
        let last_wall_ms = wall.now_ms();
        BucketClock {
            wall,
            readings: Arc::new(Mutex::new(Readings {
                last_wall_ms,
                elapsed_ms: 0,
            })),
        }
    }

    /// Forward time since this clock was made.
    fn elapsed(&self) -> Duration {
        let wall_ms = self.wall.now_ms();
        // Both fields are written together under the lock, so a poisoned lock still holds
        // consistent readings.
        let mut readings = self.readings.lock().unwrap_or_else(PoisonError::into_inner);
        let step = wall_ms.saturating_sub(readings.last_wall_ms);
        readings.elapsed_ms = readings.elapsed_ms.saturating_add(step);
        readings.last_wall_ms = wall_ms;
        Duration::from_millis(readings.elapsed_ms)
    }
}

impl governor::clock::Clock for BucketClock {
    // `governor` measures a `Duration` reference point as time since its own start.
    type Instant = Duration;

    fn now(&self) -> Duration {
        self.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use governor::clock::Clock as _;
    use parley_testkit::ManualClock;

    use super::*;

    #[test]
    fn only_forward_steps_count() {
        let wall = ManualClock::new();
        let clock = BucketClock::new(Arc::new(wall.clone()));
        assert_eq!(clock.now(), Duration::ZERO);
        wall.advance(Duration::from_millis(500));
        assert_eq!(clock.now(), Duration::from_millis(500));
        // An hour back: the buckets' time stands still rather than running backwards...
        wall.set(wall.now_ms() - 3_600_000);
        assert_eq!(clock.now(), Duration::from_millis(500));
        // ...and moves on with the wall clock from there.
        wall.advance(Duration::from_millis(250));
        assert_eq!(clock.now(), Duration::from_millis(750));
    }
}
