//! Single-use owner-auth challenges, kept in memory for a short time.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};

use parley_crypto::clock::Clock;
use rand::RngCore;

/// How long a challenge stays valid, in milliseconds of the relay clock: one issued at `t` is
/// accepted while the clock reads less than `t + CHALLENGE_TTL_MS`.
const CHALLENGE_TTL_MS: u64 = 120_000;
/// Challenges issued within one TTL; beyond that the relay refuses to issue more, so memory
/// stays bounded whatever the request rate.
const MAX_CHALLENGES: usize = 100_000;

/// Too many challenges are outstanding.
#[derive(Debug, thiserror::Error)]
#[error("too many outstanding challenges")]
pub(super) struct ChallengesExhausted;

/// The set of issued, unused, unexpired challenges.
pub(super) struct Challenges {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
}

#[derive(Default)]
struct Inner {
    live: HashSet<[u8; 32]>,
    /// Issue times (relay clock, ms) in issue order, for expiry; consumed challenges stay
    /// here until they expire, which bounds issuance rather than only outstanding challenges.
    issued: VecDeque<(u64, [u8; 32])>,
}

impl Inner {
    fn expire(&mut self, now_ms: u64) {
        // A clock stepped back makes `now_ms - at` saturate to 0: the challenges then live
        // longer than their TTL by the step, and the count bound above still holds.
        while let Some((at, challenge)) = self.issued.front().copied() {
            if now_ms.saturating_sub(at) < CHALLENGE_TTL_MS {
                break;
            }
            self.issued.pop_front();
            self.live.remove(&challenge);
        }
    }
}

impl Challenges {
    /// No challenges yet; time is read from `clock`.
    pub(super) fn new(clock: Arc<dyn Clock>) -> Self {
        Challenges {
            inner: Mutex::new(Inner::default()),
            clock,
        }
    }

    /// Issues a fresh random challenge.
    pub(super) fn issue(&self) -> Result<[u8; 32], ChallengesExhausted> {
        let mut challenge = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        let now_ms = self.clock.now_ms();
        // Every mutation is a single call on the collections, so a poisoned lock still holds
        // consistent data.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now_ms);
        if inner.issued.len() >= MAX_CHALLENGES {
            return Err(ChallengesExhausted);
        }
        inner.live.insert(challenge);
        inner.issued.push_back((now_ms, challenge));
        Ok(challenge)
    }

    /// Uses up `challenge`: true if it was issued, unexpired and not used before.
    pub(super) fn consume(&self, challenge: &[u8; 32]) -> bool {
        let now_ms = self.clock.now_ms();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now_ms);
        inner.live.remove(challenge)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use parley_testkit::ManualClock;

    use super::*;

    #[test]
    fn a_challenge_is_good_once() {
        let challenges = Challenges::new(Arc::new(ManualClock::new()));
        let c = challenges.issue().unwrap();
        assert!(challenges.consume(&c));
        assert!(!challenges.consume(&c));
        assert!(!challenges.consume(&[0; 32]));
    }

    #[test]
    fn a_challenge_expires_after_its_ttl() {
        let clock = ManualClock::new();
        let challenges = Challenges::new(Arc::new(clock.clone()));
        let early = challenges.issue().unwrap();
        let late = challenges.issue().unwrap();
        clock.advance(Duration::from_millis(CHALLENGE_TTL_MS - 1));
        assert!(challenges.consume(&early));
        clock.advance(Duration::from_millis(1));
        assert!(!challenges.consume(&late));
    }

    #[test]
    fn a_clock_stepped_back_expires_nothing() {
        let clock = ManualClock::new();
        let challenges = Challenges::new(Arc::new(clock.clone()));
        let c = challenges.issue().unwrap();
        clock.set(clock.now_ms() - 3_600_000);
        assert!(challenges.consume(&c));
    }
}
