//! Remembers accepted group-auth transcripts so that none is accepted twice.
//!
//! The rules, with both times read from the relay clock (`group_auth.rs` checks the first):
//! - freshness: a transcript is refused if its timestamp `ts` is more than
//!   [`MAX_CLOCK_SKEW_MS`] away from the clock, so it can be accepted only while
//!   `now <= ts + MAX_CLOCK_SKEW_MS`;
//! - replay: a transcript accepted when the clock read `at` (with `at >= ts - MAX_CLOCK_SKEW_MS`,
//!   by freshness) is refused as a replay while `now - at <= REMEMBER_FOR_MS`, then
//!   forgotten.
//!
//! Forgotten means `now > at + REMEMBER_FOR_MS >= ts + MAX_CLOCK_SKEW_MS`: the freshness check
//! refuses the transcript from then on, so no replay is ever accepted. The window is closed at
//! both ends on purpose: were the cache to forget at `now - at == REMEMBER_FOR_MS`, a
//! transcript signed `MAX_CLOCK_SKEW_MS` ahead could be replayed in that very millisecond.

use std::collections::{HashMap, HashSet, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use parley_crypto::clock::Clock;

use super::group_auth::MAX_CLOCK_SKEW_MS;
use crate::limits::forget_one;

/// A transcript stays acceptable for at most twice the allowed skew after the relay first
/// sees it; remembering it that long is enough to refuse every replay.
pub(super) const REMEMBER_FOR_MS: u64 = 2 * MAX_CLOCK_SKEW_MS;
/// Bounds memory; when full, group-auth requests are refused until entries expire, because
/// forgetting early would let replays through.
const MAX_REMEMBERED: usize = 1_000_000;
/// One source address's share of [`MAX_REMEMBERED`], so that a few sources cannot fill the
/// cache and lock every group out (a heavy client syncing 256 groups every 15 s remembers
/// about 10,000 within the window).
const MAX_REMEMBERED_PER_SOURCE: usize = 100_000;

/// Why a transcript was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub(super) enum ReplayError {
    /// This transcript was accepted before.
    #[error("request replayed")]
    Replayed,
    /// The cache is full.
    #[error("too many recent requests")]
    Full,
    /// This source has used its share of the cache.
    #[error("too many recent requests from this address")]
    SourceFull,
}

/// Digests of recently accepted transcripts.
pub(super) struct ReplayCache {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<[u8; 32]>,
    /// Acceptance times (relay clock, ms) and sources in acceptance order.
    order: VecDeque<(u64, [u8; 32], IpAddr)>,
    /// Entries remembered per source.
    by_source: HashMap<IpAddr, usize>,
}

impl ReplayCache {
    /// An empty cache; time is read from `clock`, the clock of the freshness check.
    pub(super) fn new(clock: Arc<dyn Clock>) -> Self {
        ReplayCache {
            inner: Mutex::new(Inner::default()),
            clock,
        }
    }

    /// Records `digest` (a request from `source`), refusing it if it was recorded within the
    /// last [`REMEMBER_FOR_MS`] (inclusive).
    pub(super) fn check_and_insert(
        &self,
        digest: [u8; 32],
        source: IpAddr,
    ) -> Result<(), ReplayError> {
        let now_ms = self.clock.now_ms();
        // Every mutation is a single call on the collections, so a poisoned lock still holds
        // consistent data.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        // A clock stepped back makes `now_ms - at` saturate to 0 and keeps entries longer,
        // which errs on the side of refusing.
        while let Some((at, old, from)) = inner.order.front().copied() {
            if now_ms.saturating_sub(at) <= REMEMBER_FOR_MS {
                break;
            }
            inner.order.pop_front();
            inner.seen.remove(&old);
            forget_one(&mut inner.by_source, from);
        }
        if inner.seen.contains(&digest) {
            return Err(ReplayError::Replayed);
        }
        if inner.order.len() >= MAX_REMEMBERED {
            return Err(ReplayError::Full);
        }
        let from_source = inner.by_source.entry(source).or_insert(0);
        if *from_source >= MAX_REMEMBERED_PER_SOURCE {
            return Err(ReplayError::SourceFull);
        }
        *from_source += 1;
        inner.seen.insert(digest);
        inner.order.push_back((now_ms, digest, source));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use parley_testkit::ManualClock;

    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, last))
    }

    #[test]
    fn a_source_fills_only_its_share() {
        let cache = ReplayCache::new(Arc::new(ManualClock::new()));
        for i in 0..MAX_REMEMBERED_PER_SOURCE {
            let mut digest = [0u8; 32];
            digest[..8].copy_from_slice(&(i as u64).to_be_bytes());
            cache.check_and_insert(digest, ip(2)).unwrap();
        }
        assert!(matches!(
            cache.check_and_insert([0xff; 32], ip(2)),
            Err(ReplayError::SourceFull)
        ));
        cache.check_and_insert([0xff; 32], ip(1)).unwrap();
    }

    #[test]
    fn second_sighting_is_refused() {
        let cache = ReplayCache::new(Arc::new(ManualClock::new()));
        cache.check_and_insert([1; 32], ip(1)).unwrap();
        cache.check_and_insert([2; 32], ip(1)).unwrap();
        assert!(matches!(
            cache.check_and_insert([1; 32], ip(1)),
            Err(ReplayError::Replayed)
        ));
    }

    #[test]
    fn entries_are_forgotten_just_after_the_window() {
        let clock = ManualClock::new();
        let cache = ReplayCache::new(Arc::new(clock.clone()));
        cache.check_and_insert([1; 32], ip(1)).unwrap();
        clock.advance(Duration::from_millis(REMEMBER_FOR_MS));
        assert!(matches!(
            cache.check_and_insert([1; 32], ip(1)),
            Err(ReplayError::Replayed)
        ));
        clock.advance(Duration::from_millis(1));
        cache.check_and_insert([1; 32], ip(1)).unwrap();
    }
}
