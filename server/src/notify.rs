//! In-memory wake-ups for subscribers: one watch channel per key (an inbox or a group).
//!
//! A watch channel keeps only the latest value, so a burst of writes wakes a subscriber once
//! and nobody can lag behind; subscribers re-read the store to find what is new.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Mutex, PoisonError};

use tokio::sync::watch;

/// Keyed wake-ups carrying the latest sequence number written under a key.
#[derive(Debug)]
pub(crate) struct Notifier<K> {
    channels: Mutex<HashMap<K, watch::Sender<u64>>>,
}

impl<K: Eq + Hash + Clone> Notifier<K> {
    /// An empty notifier.
    pub(crate) fn new() -> Self {
        Notifier {
            channels: Mutex::new(HashMap::new()),
        }
    }

    /// Returns a receiver woken by every later [`Notifier::notify`] for `key`.
    pub(crate) fn subscribe(&self, key: &K) -> watch::Receiver<u64> {
        // A panic elsewhere while holding the lock cannot leave the map inconsistent (every
        // operation on it is a single call), so a poisoned lock is still usable.
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        // Drop channels nobody listens to any more, so the map tracks live subscriptions only.
        channels.retain(|_, sender| sender.receiver_count() > 0);
        channels
            .entry(key.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe()
    }

    /// The keys someone is subscribed to.
    pub(crate) fn keys(&self) -> Vec<K> {
        let channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        channels
            .iter()
            .filter(|(_, sender)| sender.receiver_count() > 0)
            .map(|(key, _)| key.clone())
            .collect()
    }

    /// Wakes the subscribers of `key`, telling them the latest sequence number.
    pub(crate) fn notify(&self, key: &K, seq: u64) {
        let mut channels = self.channels.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(sender) = channels.get(key) {
            if sender.receiver_count() == 0 {
                channels.remove(key);
            } else {
                sender.send_replace(seq);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn notify_wakes_only_that_key() {
        let notifier = Notifier::new();
        let mut a = notifier.subscribe(&"a");
        let b = notifier.subscribe(&"b");
        notifier.notify(&"a", 7);
        a.changed().await.unwrap();
        assert_eq!(*a.borrow_and_update(), 7);
        assert!(!b.has_changed().unwrap());
    }

    #[test]
    fn unused_channels_are_dropped() {
        let notifier = Notifier::new();
        drop(notifier.subscribe(&1u8));
        notifier.notify(&1u8, 3);
        assert!(notifier.channels.lock().unwrap().is_empty());
    }
}
