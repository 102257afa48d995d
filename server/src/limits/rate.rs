//! Token buckets keyed by source address or by target handle (the `governor` crate), refilled
//! by the relay clock.

use std::hash::Hash;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::middleware::NoOpMiddleware;
use governor::state::keyed::HashMapStateStore;
use governor::{Quota, RateLimiter};
use parley_crypto::clock::Clock;

use super::bucket_clock::BucketClock;

/// Keyed buckets in a `Mutex<HashMap>`, timed by the relay clock.
type Buckets<K> = RateLimiter<K, HashMapStateStore<K>, BucketClock, NoOpMiddleware<Duration>>;

/// One token bucket per key; `None` when the limit is disabled.
pub(crate) struct KeyedLimiter<K: Hash + Eq + Clone> {
    limiter: Option<Buckets<K>>,
}

impl<K: Hash + Eq + Clone> KeyedLimiter<K> {
    /// `rate` tokens per `per`, at most `burst` at once, refilled as `clock` moves forward; a
    /// rate of 0 admits everything.
    pub(crate) fn new(rate: u32, per: Duration, burst: u32, clock: Arc<dyn Clock>) -> Self {
        let quota = NonZeroU32::new(rate)
            .and_then(|rate| Quota::with_period(per / rate.get()))
            .map(|quota| quota.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)));
        KeyedLimiter {
            limiter: quota.map(|quota| Buckets::hashmap_with_clock(quota, BucketClock::new(clock))),
        }
    }

    /// Takes a token from `key`'s bucket: false if it is empty.
    pub(crate) fn check(&self, key: &K) -> bool {
        self.limiter
            .as_ref()
            .is_none_or(|limiter| limiter.check_key(key).is_ok())
    }

    /// Forgets buckets that have refilled completely, which are the same as new ones, so the
    /// map holds only recently active keys.
    pub(crate) fn forget_idle(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Requests per source address.
pub(crate) struct SourceLimiter {
    buckets: KeyedLimiter<IpAddr>,
}

impl SourceLimiter {
    /// `per_second` requests per second and source, `burst` at once; 0 disables.
    pub(crate) fn new(per_second: u32, burst: u32, clock: Arc<dyn Clock>) -> Self {
        SourceLimiter {
            buckets: KeyedLimiter::new(per_second, Duration::from_secs(1), burst, clock),
        }
    }

    /// Takes a token for a request from `peer`. Requests whose peer address is unknown share
    /// one bucket, so a transport that hides addresses is limited as one source rather than
    /// not at all.
    pub(crate) fn check(&self, peer: Option<SocketAddr>) -> bool {
        self.buckets.check(&source_of(peer))
    }

    /// See [`KeyedLimiter::forget_idle`].
    pub(crate) fn forget_idle(&self) {
        self.buckets.forget_idle();
    }
}

/// The address a call from `peer` is counted under (see [`source_key`]); calls whose peer
/// address is unknown share one.
pub(crate) fn source_of(peer: Option<SocketAddr>) -> IpAddr {
    peer.map_or(IpAddr::V6(Ipv6Addr::UNSPECIFIED), |peer| {
        source_key(peer.ip())
    })
}

/// The address a source is counted under: IPv4 as is (also when IPv4-mapped), IPv6 by its
/// /64, because one host usually holds a whole /64 and could rotate through it.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(Ipv6Addr::from(segments))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use crate::clock::SystemClock;

    use super::*;

    #[test]
    fn a_bucket_empties_per_key() {
        let limiter = SourceLimiter::new(1, 3, Arc::new(SystemClock));
        let a: SocketAddr = "127.0.0.2:1000".parse().unwrap();
        let b: SocketAddr = "127.0.0.1:1000".parse().unwrap();
        for _ in 0..3 {
            assert!(limiter.check(Some(a)));
        }
        assert!(!limiter.check(Some(a)));
        assert!(limiter.check(Some(b)));
    }

    #[test]
    fn zero_rate_admits_everything() {
        let limiter = KeyedLimiter::<u8>::new(0, Duration::from_secs(1), 0, Arc::new(SystemClock));
        for _ in 0..1000 {
            assert!(limiter.check(&1));
        }
    }

    #[test]
    fn ipv6_sources_share_their_64() {
        let a = source_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = source_key("2001:db8:1:2:bbbb::2".parse().unwrap());
        let c = source_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mapped = source_key("::ffff:10.0.0.1".parse().unwrap());
        assert_eq!(mapped, "10.0.0.1".parse::<IpAddr>().unwrap());
    }
}
