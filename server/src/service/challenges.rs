//! Single-use owner-auth challenges, kept in memory for a short time.

use std::collections::{HashSet, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rand::RngCore;

/// How long a challenge stays valid.
const CHALLENGE_TTL: Duration = Duration::from_secs(120);
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
}

#[derive(Default)]
struct Inner {
    live: HashSet<[u8; 32]>,
    /// Issue times in issue order, for expiry; consumed challenges stay here until they
    /// expire, which bounds issuance rather than only outstanding challenges.
    issued: VecDeque<(Instant, [u8; 32])>,
}

impl Inner {
    fn expire(&mut self, now: Instant) {
        while let Some((at, challenge)) = self.issued.front().copied() {
            if now.duration_since(at) < CHALLENGE_TTL {
                break;
            }
            self.issued.pop_front();
            self.live.remove(&challenge);
        }
    }
}

impl Challenges {
    pub(super) fn new() -> Self {
        Challenges {
            inner: Mutex::new(Inner::default()),
        }
    }

    /// Issues a fresh random challenge.
    pub(super) fn issue(&self) -> Result<[u8; 32], ChallengesExhausted> {
        let mut challenge = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        let now = Instant::now();
        // Every mutation is a single call on the collections, so a poisoned lock still holds
        // consistent data.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now);
        if inner.issued.len() >= MAX_CHALLENGES {
            return Err(ChallengesExhausted);
        }
        inner.live.insert(challenge);
        inner.issued.push_back((now, challenge));
        Ok(challenge)
    }

    /// Uses up `challenge`: true if it was issued, unexpired and not used before.
    pub(super) fn consume(&self, challenge: &[u8; 32]) -> bool {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(Instant::now());
        inner.live.remove(challenge)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_challenge_is_good_once() {
        let challenges = Challenges::new();
        let c = challenges.issue().unwrap();
        assert!(challenges.consume(&c));
        assert!(!challenges.consume(&c));
        assert!(!challenges.consume(&[0; 32]));
    }

    #[test]
    fn expired_challenges_are_refused() {
        let challenges = Challenges::new();
        let c = challenges.issue().unwrap();
        {
            let mut inner = challenges.inner.lock().unwrap();
            let past = Instant::now() - CHALLENGE_TTL - Duration::from_secs(1);
            inner.issued[0].0 = past;
        }
        assert!(!challenges.consume(&c));
    }
}
