//! Periodic work while the relay serves: the retention sweep and forgetting idle rate-limit
//! buckets.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;

use super::RelayState;
use crate::retention;

/// How often idle rate-limit buckets are dropped.
const FORGET_IDLE_EVERY: Duration = Duration::from_secs(60);

impl RelayState {
    /// Starts the housekeeping task; it sweeps once at once, then on its interval, and ends
    /// when the relay shuts down (after finishing a sweep in progress).
    pub(crate) fn start_housekeeping(self: &Arc<Self>) -> JoinHandle<()> {
        let state = self.clone();
        tokio::spawn(async move {
            let shutdown = state.shutdown.clone().wait();
            tokio::pin!(shutdown);
            let sweep_every = state.limits.sweep_interval();
            let tick = sweep_every.min(FORGET_IDLE_EVERY);
            // When to sweep is scheduling, timed on the monotonic clock; what a sweep deletes
            // is decided by the relay clock (see `retention::sweep`).
            let mut last_sweep: Option<Instant> = None;
            loop {
                // Even with no retention of the relay's own, groups may have agreed on one.
                if last_sweep.is_none_or(|at| at.elapsed() >= sweep_every) {
                    last_sweep = Some(Instant::now());
                    let retention = state.limits.retention();
                    retention::sweep(&state.store, retention, state.clock.as_ref()).await;
                }
                tokio::select! {
                    () = &mut shutdown => return,
                    () = tokio::time::sleep(tick) => {}
                }
                state.sources.forget_idle();
                state.claims.forget_idle();
                state.claims_by_source.forget_idle();
            }
        })
    }
}
