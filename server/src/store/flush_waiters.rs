//! Writers waiting for the flush that makes their write durable, each woken only by the flush
//! that covers its ticket (a broadcast would wake every waiting writer at every flush, and on
//! two cores those useless wake-ups cost more than the flushes).

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::oneshot;

/// Writers waiting on tickets, and how far flushing has come.
#[derive(Default)]
pub(super) struct FlushWaiters {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Every ticket up to this one is on disk.
    durable: u64,
    /// Every ticket up to this one was in a flush that failed (unless `durable` covers it).
    failed: u64,
    /// Waiting writers by ticket; each is told whether its write became durable.
    waiting: BTreeMap<u64, oneshot::Sender<bool>>,
}

/// Where a writer stands once registered.
pub(super) enum Registered {
    /// Flushing already settled the ticket: durable (true) or failed (false).
    Settled(bool),
    /// The flush covering the ticket has not finished; the receiver says how it went.
    Waiting(oneshot::Receiver<bool>),
}

impl FlushWaiters {
    /// Registers the writer holding `ticket`.
    pub(super) fn register(&self, ticket: u64) -> Registered {
        let mut state = self.lock();
        if state.durable >= ticket {
            return Registered::Settled(true);
        }
        if state.failed >= ticket {
            return Registered::Settled(false);
        }
        let (tell, told) = oneshot::channel();
        state.waiting.insert(ticket, tell);
        Registered::Waiting(told)
    }

    /// Every ticket up to `ticket` is durable: wakes their writers.
    pub(super) fn durable(&self, ticket: u64) {
        let settled = {
            let mut state = self.lock();
            state.durable = state.durable.max(ticket);
            take_up_to(&mut state.waiting, ticket)
        };
        tell_all(settled, true);
    }

    /// The flush meant to cover every ticket up to `ticket` failed: wakes those of their
    /// writers that no earlier flush covered.
    pub(super) fn failed(&self, ticket: u64) {
        let settled = {
            let mut state = self.lock();
            state.failed = state.failed.max(ticket);
            take_up_to(&mut state.waiting, ticket)
        };
        tell_all(settled, false);
    }

    /// Every ticket up to the returned one is durable.
    #[cfg(test)]
    pub(super) fn durable_up_to(&self) -> u64 {
        self.lock().durable
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while holding the lock.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Removes and returns the waiters with tickets up to `ticket`.
fn take_up_to(
    waiting: &mut BTreeMap<u64, oneshot::Sender<bool>>,
    ticket: u64,
) -> BTreeMap<u64, oneshot::Sender<bool>> {
    let later = waiting.split_off(&ticket.saturating_add(1));
    std::mem::replace(waiting, later)
}

fn tell_all(settled: BTreeMap<u64, oneshot::Sender<bool>>, durable: bool) {
    for (_, tell) in settled {
        // A writer that gave up waiting (its call was cancelled) has nobody to tell.
        let _ = tell.send(durable);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waiting(registered: Registered) -> oneshot::Receiver<bool> {
        match registered {
            Registered::Waiting(told) => told,
            Registered::Settled(_) => panic!("settled too early"),
        }
    }

    #[test]
    fn a_flush_wakes_exactly_the_tickets_it_covers() {
        let waiters = FlushWaiters::default();
        let mut one = waiting(waiters.register(1));
        let mut two = waiting(waiters.register(2));
        let mut three = waiting(waiters.register(3));
        waiters.durable(2);
        assert_eq!(one.try_recv(), Ok(true));
        assert_eq!(two.try_recv(), Ok(true));
        assert!(three.try_recv().is_err(), "ticket 3 was not covered");
        waiters.failed(3);
        assert_eq!(three.try_recv(), Ok(false));
    }

    #[test]
    fn a_ticket_already_settled_does_not_wait() {
        let waiters = FlushWaiters::default();
        waiters.durable(5);
        assert!(matches!(waiters.register(4), Registered::Settled(true)));
        waiters.failed(7);
        assert!(matches!(waiters.register(6), Registered::Settled(false)));
        assert!(matches!(waiters.register(8), Registered::Waiting(_)));
        assert_eq!(waiters.durable_up_to(), 5);
    }
}
