//! Whether a pooled connection is in use, and since when it has not been: what decides that
//! an idle connection is closed.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// The use of one pooled connection.
#[derive(Debug)]
pub(crate) struct Activity {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    /// Leases alive: callers holding the connection, and streams opened on it.
    leases: usize,
    /// When the last lease ended (or the connection was opened).
    last_used: Instant,
}

/// A mark that the connection is in use; ends (and stamps the time) when dropped.
#[derive(Debug)]
pub(crate) struct Lease {
    activity: Arc<Activity>,
}

impl Activity {
    /// A connection nobody uses yet, counted as used now.
    pub(crate) fn new() -> Arc<Activity> {
        Arc::new(Activity {
            state: Mutex::new(State {
                leases: 0,
                last_used: Instant::now(),
            }),
        })
    }

    /// Marks the connection in use until the lease is dropped.
    pub(crate) fn lease(self: &Arc<Self>) -> Arc<Lease> {
        self.lock().leases += 1;
        Arc::new(Lease {
            activity: self.clone(),
        })
    }

    /// Since when nothing has used the connection; `None` while something does.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        let state = self.lock();
        (state.leases == 0).then_some(state.last_used)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is two plain numbers, consistent after any panic; poisoning adds nothing.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        let mut state = self.activity.lock();
        state.leases = state.leases.saturating_sub(1);
        state.last_used = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_only_without_leases_and_from_the_last_release() {
        let activity = Activity::new();
        let opened = activity.idle_since().unwrap();
        let first = activity.lease();
        let second = activity.lease();
        assert_eq!(activity.idle_since(), None);
        drop(first);
        assert_eq!(activity.idle_since(), None);
        drop(second);
        assert!(activity.idle_since().unwrap() >= opened);
    }
}
