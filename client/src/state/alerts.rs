//! Security alerts: recorded in the store and reported as events.

use crate::api::alert::Alert;
use crate::api::error::ClientError;
use crate::api::event::Event;
use crate::state::store::records::StoredAlert;
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

impl Ctx<'_> {
    /// Records an alert and reports it as an event. A failure to store it is logged rather
    /// than returned: the alert is still shown through the event.
    pub(crate) async fn alert(&mut self, alert: Alert) {
        // The text names people and conversations: kept out of logs above debug.
        tracing::debug!(alert = %alert, "security alert");
        let record = StoredAlert {
            at_ms: self.now_ms(),
            alert: alert.clone(),
        };
        let stored = async {
            let idx = self.store.next_index(Prefix::Alerts)?;
            let mut batch = StoreBatch::default();
            batch.put(Key::Alert(idx), &record)?;
            self.store.apply(batch).await
        };
        if let Err(e) = stored.await {
            tracing::error!(error = %e, "could not store an alert");
        }
        self.events.push(Event::Alert(alert));
    }

    /// Records an alert unless the same one was recorded before (a condition that every sync
    /// would find again).
    pub(crate) async fn alert_once(&mut self, alert: Alert) {
        let known: Vec<StoredAlert> = self.store.scan(Prefix::Alerts).unwrap_or_default();
        if !known.iter().any(|a| a.alert == alert) {
            self.alert(alert).await;
        }
    }

    /// Records a refused member or key as an alert and hands the error back.
    pub(crate) async fn refuse(&mut self, error: ClientError) -> ClientError {
        self.alert(Alert::Refused {
            reason: error.to_string(),
        })
        .await;
        error
    }
}
