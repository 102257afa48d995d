//! The relay's wall clock: the operating system's, unless the embedder hands the relay
//! another [`Clock`] in [`RelayConfig::clock`](crate::RelayConfig::clock) (tests move time
//! that way instead of sleeping).
//!
//! Everything that decides with time reads this one clock: challenge expiry, the replay
//! window and the timestamp freshness of group requests, the token buckets, the arrival
//! times stored with deliveries and log entries, and the retention sweep. Reading one clock
//! for the replay window and the freshness check is what lets the first forget a transcript
//! exactly when the second starts refusing it (see `service/replay.rs`).

use std::time::{SystemTime, UNIX_EPOCH};

use parley_crypto::clock::Clock;

/// The operating system's wall clock, the relay's default.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    /// Milliseconds since the Unix epoch; 0 if the system clock is before 1970, which only
    /// makes timestamped requests fail their freshness check rather than crash the relay.
    fn now_ms(&self) -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
            .unwrap_or(0)
    }
}
