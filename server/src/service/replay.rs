//! Remembers accepted group-auth transcripts so that none is accepted twice.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// A transcript's timestamp may be up to 300 s ahead of or behind the relay clock, so it stays
/// acceptable for at most 600 s after the relay first sees it; remembering it that long is
/// enough to refuse every replay.
const REMEMBER_FOR: Duration = Duration::from_secs(600);
/// Bounds memory; when full, group-auth requests are refused until entries expire, because
/// forgetting early would let replays through.
const MAX_REMEMBERED: usize = 1_000_000;

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
}

/// Digests of recently accepted transcripts.
pub(super) struct ReplayCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    seen: HashSet<[u8; 32]>,
    order: VecDeque<(Instant, [u8; 32])>,
}

impl ReplayCache {
    pub(super) fn new() -> Self {
        ReplayCache {
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Records `digest`, refusing it if it was recorded within the last 600 s.
    pub(super) fn check_and_insert(&self, digest: [u8; 32]) -> Result<(), ReplayError> {
        let now = Instant::now();
        // Every mutation is a single call on the collections, so a poisoned lock still holds
        // consistent data.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some((at, old)) = inner.order.front().copied() {
            if now.duration_since(at) < REMEMBER_FOR {
                break;
            }
            inner.order.pop_front();
            inner.seen.remove(&old);
        }
        if inner.seen.contains(&digest) {
            return Err(ReplayError::Replayed);
        }
        if inner.order.len() >= MAX_REMEMBERED {
            return Err(ReplayError::Full);
        }
        inner.seen.insert(digest);
        inner.order.push_back((now, digest));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_sighting_is_refused() {
        let cache = ReplayCache::new();
        cache.check_and_insert([1; 32]).unwrap();
        cache.check_and_insert([2; 32]).unwrap();
        assert!(matches!(
            cache.check_and_insert([1; 32]),
            Err(ReplayError::Replayed)
        ));
    }
}
