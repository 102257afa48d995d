//! The wall clock a client reads when it is given no other.

use std::time::{SystemTime, UNIX_EPOCH};

use parley_crypto::clock::Clock;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Milliseconds since the Unix epoch (0 if the clock is before 1970, which the relay
    /// refuses).
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}
