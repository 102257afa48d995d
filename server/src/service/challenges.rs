//! Single-use owner-auth challenges, kept in memory for a short time.
//!
//! Anyone may ask for one, so the pool is shared out: at most [`MAX_CHALLENGES`] issued per
//! TTL over all clients, at most a configured share per source address, and a challenge is
//! bound to the handle it is for. A handle keeps only its [`MAX_PER_HANDLE`] latest unused
//! challenges (older ones are dropped, not refused): strangers asking in a handle's name
//! only churn that handle's few, while its owner uses a fresh one at once.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

use parley_crypto::clock::Clock;
use parley_crypto::handle::Handle;
use rand::RngCore;

use crate::limits::forget_one;

/// How long a challenge stays valid, in milliseconds of the relay clock: one issued at `t` is
/// accepted while the clock reads less than `t + CHALLENGE_TTL_MS`.
pub(super) const CHALLENGE_TTL_MS: u64 = 120_000;
/// Challenges issued within one TTL; beyond that the relay refuses to issue more, so memory
/// stays bounded whatever the request rate.
const MAX_CHALLENGES: usize = 100_000;
/// Unused challenges kept per handle; a newer one drops the oldest.
const MAX_PER_HANDLE: usize = 16;

/// Why no challenge was issued.
#[derive(Debug, thiserror::Error)]
pub(super) enum ChallengesExhausted {
    /// The relay-wide pool is full.
    #[error("too many outstanding challenges, try again later")]
    Relay,
    /// This source has used its share.
    #[error("too many challenges for this address, try again later")]
    Source,
}

/// The set of issued, unused, unexpired challenges.
pub(super) struct Challenges {
    inner: Mutex<Inner>,
    clock: Arc<dyn Clock>,
    /// Challenges one source may be issued within a TTL (0: no share).
    per_source: usize,
}

/// An issued challenge still usable.
struct Live {
    handle: Handle,
}

#[derive(Default)]
struct Inner {
    live: HashMap<[u8; 32], Live>,
    /// Issue times (relay clock, ms) and sources in issue order, for expiry; consumed
    /// challenges stay here until they expire, which bounds issuance rather than only
    /// outstanding challenges.
    issued: VecDeque<(u64, [u8; 32], IpAddr)>,
    /// Challenges issued to each source within the TTL.
    by_source: HashMap<IpAddr, usize>,
    /// Each handle's unused challenges, oldest first.
    by_handle: HashMap<Handle, VecDeque<[u8; 32]>>,
}

impl Inner {
    fn expire(&mut self, now_ms: u64) {
        // A clock stepped back makes `now_ms - at` saturate to 0: the challenges then live
        // longer than their TTL by the step, and the count bounds still hold.
        while let Some((at, challenge, source)) = self.issued.front().copied() {
            if now_ms.saturating_sub(at) < CHALLENGE_TTL_MS {
                break;
            }
            self.issued.pop_front();
            self.forget(&challenge);
            forget_one(&mut self.by_source, source);
        }
    }

    /// Takes `challenge` out of the usable ones, returning the handle it was for.
    fn forget(&mut self, challenge: &[u8; 32]) -> Option<Handle> {
        let live = self.live.remove(challenge)?;
        if let Some(queue) = self.by_handle.get_mut(&live.handle) {
            queue.retain(|c| c != challenge);
            if queue.is_empty() {
                self.by_handle.remove(&live.handle);
            }
        }
        Some(live.handle)
    }
}

impl Challenges {
    /// No challenges yet; time is read from `clock`; a source may be issued `per_source`
    /// within a TTL (0: no share).
    pub(super) fn new(clock: Arc<dyn Clock>, per_source: usize) -> Self {
        Challenges {
            inner: Mutex::new(Inner::default()),
            clock,
            per_source,
        }
    }

    /// Issues a fresh random challenge to `source` for `handle`.
    pub(super) fn issue(
        &self,
        source: IpAddr,
        handle: &Handle,
    ) -> Result<[u8; 32], ChallengesExhausted> {
        let mut challenge = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut challenge);
        let now_ms = self.clock.now_ms();
        // Every mutation keeps the collections consistent at each step, so a poisoned lock
        // still holds usable data.
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now_ms);
        if inner.issued.len() >= MAX_CHALLENGES {
            return Err(ChallengesExhausted::Relay);
        }
        let from_source = inner.by_source.get(&source).copied().unwrap_or(0);
        if self.per_source > 0 && from_source >= self.per_source {
            return Err(ChallengesExhausted::Source);
        }
        *inner.by_source.entry(source).or_insert(0) += 1;
        inner.issued.push_back((now_ms, challenge, source));
        inner.live.insert(
            challenge,
            Live {
                handle: handle.clone(),
            },
        );
        let queue = inner.by_handle.entry(handle.clone()).or_default();
        queue.push_back(challenge);
        let dropped = (queue.len() > MAX_PER_HANDLE)
            .then(|| queue.pop_front())
            .flatten();
        if let Some(dropped) = dropped {
            inner.live.remove(&dropped);
        }
        Ok(challenge)
    }

    /// Uses up `challenge`: true if it was issued for `handle`, is unexpired and was not used
    /// before. A challenge shown for another handle is used up too (never tried twice).
    pub(super) fn consume(&self, challenge: &[u8; 32], handle: &Handle) -> bool {
        let now_ms = self.clock.now_ms();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.expire(now_ms);
        inner
            .forget(challenge)
            .is_some_and(|issued_for| issued_for == *handle)
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

    fn h(text: &str) -> Handle {
        Handle::parse(text).unwrap()
    }

    #[test]
    fn a_challenge_is_good_once_and_for_its_handle_only() {
        let challenges = Challenges::new(Arc::new(ManualClock::new()), 0);
        let c = challenges.issue(ip(1), &h("alice")).unwrap();
        assert!(challenges.consume(&c, &h("alice")));
        assert!(!challenges.consume(&c, &h("alice")));
        assert!(!challenges.consume(&[0; 32], &h("alice")));
        let other = challenges.issue(ip(1), &h("alice")).unwrap();
        assert!(!challenges.consume(&other, &h("bob")));
        assert!(
            !challenges.consume(&other, &h("alice")),
            "used up by the wrong try"
        );
    }

    #[test]
    fn a_challenge_expires_after_its_ttl() {
        let clock = ManualClock::new();
        let challenges = Challenges::new(Arc::new(clock.clone()), 0);
        let early = challenges.issue(ip(1), &h("alice")).unwrap();
        let late = challenges.issue(ip(1), &h("alice")).unwrap();
        clock.advance(Duration::from_millis(CHALLENGE_TTL_MS - 1));
        assert!(challenges.consume(&early, &h("alice")));
        clock.advance(Duration::from_millis(1));
        assert!(!challenges.consume(&late, &h("alice")));
    }

    #[test]
    fn a_clock_stepped_back_expires_nothing() {
        let clock = ManualClock::new();
        let challenges = Challenges::new(Arc::new(clock.clone()), 0);
        let c = challenges.issue(ip(1), &h("alice")).unwrap();
        clock.set(clock.now_ms() - 3_600_000);
        assert!(challenges.consume(&c, &h("alice")));
    }

    #[test]
    fn a_source_gets_its_share_and_others_theirs() {
        let clock = ManualClock::new();
        let challenges = Challenges::new(Arc::new(clock.clone()), 3);
        for _ in 0..3 {
            challenges.issue(ip(2), &h("alice")).unwrap();
        }
        assert!(matches!(
            challenges.issue(ip(2), &h("bob")),
            Err(ChallengesExhausted::Source)
        ));
        let calm = challenges.issue(ip(1), &h("alice")).unwrap();
        assert!(challenges.consume(&calm, &h("alice")));
        clock.advance(Duration::from_millis(CHALLENGE_TTL_MS));
        challenges.issue(ip(2), &h("alice")).unwrap();
    }

    #[test]
    fn strangers_asking_in_a_handles_name_only_churn_its_latest_few() {
        let challenges = Challenges::new(Arc::new(ManualClock::new()), 0);
        let owners = challenges.issue(ip(1), &h("alice")).unwrap();
        for last in 2..40 {
            challenges.issue(ip(last), &h("alice")).unwrap();
        }
        // The owner's challenge was dropped by the flood, not kept at the flood's expense...
        assert!(!challenges.consume(&owners, &h("alice")));
        // ...and a fresh one, used at once, works whatever the flood did.
        let fresh = challenges.issue(ip(1), &h("alice")).unwrap();
        assert!(challenges.consume(&fresh, &h("alice")));
        let held: usize = challenges
            .inner
            .lock()
            .unwrap()
            .by_handle
            .values()
            .map(VecDeque::len)
            .sum();
        assert!(held <= MAX_PER_HANDLE);
    }
}
