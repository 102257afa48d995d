//! Shares of a pool per source address: how many of something (open subscriptions,
//! connections) each source holds at once, each held one freed when its slot is dropped.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Counts what each source holds against a share.
#[derive(Debug, Clone)]
pub(crate) struct SourceShares {
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
    per_source: usize,
}

/// One held item of a source; freed when dropped.
#[derive(Debug)]
pub(crate) struct ShareSlot {
    held: Arc<Mutex<HashMap<IpAddr, usize>>>,
    source: IpAddr,
}

impl SourceShares {
    /// At most `per_source` held at once by one source (0: no share).
    pub(crate) fn new(per_source: usize) -> Self {
        SourceShares {
            held: Arc::new(Mutex::new(HashMap::new())),
            per_source,
        }
    }

    /// A slot for `source`, or `None` when it holds its share already.
    pub(crate) fn take(&self, source: IpAddr) -> Option<ShareSlot> {
        // Every mutation is one call on the map, so a poisoned lock still holds a
        // consistent count.
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        let count = held.entry(source).or_insert(0);
        if self.per_source > 0 && *count >= self.per_source {
            return None;
        }
        *count += 1;
        Some(ShareSlot {
            held: self.held.clone(),
            source,
        })
    }
}

impl Drop for ShareSlot {
    fn drop(&mut self) {
        let mut held = self.held.lock().unwrap_or_else(PoisonError::into_inner);
        forget_one(&mut held, self.source);
    }
}

/// Takes one from `key`'s count, forgetting keys that hold none: the counts of sources
/// that come and go stay a map of the active ones.
pub(crate) fn forget_one<K: std::hash::Hash + Eq>(counts: &mut HashMap<K, usize>, key: K) {
    if let Some(count) = counts.get_mut(&key) {
        *count = count.saturating_sub(1);
        if *count == 0 {
            counts.remove(&key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_source_holds_its_share_and_gets_it_back() {
        let shares = SourceShares::new(2);
        let a: IpAddr = "127.0.0.2".parse().unwrap();
        let b: IpAddr = "127.0.0.3".parse().unwrap();
        let first = shares.take(a).unwrap();
        let _second = shares.take(a).unwrap();
        assert!(shares.take(a).is_none());
        assert!(shares.take(b).is_some());
        drop(first);
        assert!(shares.take(a).is_some());
    }
}
