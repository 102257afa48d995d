//! A shutdown signal that long-lived response streams observe.
//!
//! tonic's graceful shutdown waits for every open stream to finish; subscriptions never finish
//! on their own, so they end themselves when this signal fires.

use futures::{Stream, StreamExt};
use tokio::sync::watch;

/// Fires once, when the relay starts shutting down.
#[derive(Clone, Debug)]
pub(crate) struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The side that fires the [`Shutdown`] signal.
#[derive(Debug)]
pub(crate) struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

/// Creates a connected trigger and signal.
pub(crate) fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    /// Tells every stream to end.
    pub(crate) fn fire(&self) {
        self.tx.send_replace(true);
    }
}

impl Shutdown {
    /// Completes once the relay shuts down (or the trigger is gone).
    pub(crate) async fn wait(mut self) {
        let _ = self.rx.wait_for(|fired| *fired).await;
    }

    /// Ends `stream` when the relay shuts down.
    pub(crate) fn guard<S>(&self, stream: S) -> impl Stream<Item = S::Item> + Send + 'static
    where
        S: Stream + Send + 'static,
    {
        stream.take_until(self.clone().wait())
    }
}
