//! Security alerts: recorded in the store and reported as events. At most [`MAX_ALERTS`]
//! are kept (the oldest go first), so that no flood of them can fill the store.

use sha2::{Digest, Sha256};

use crate::api::alert::Alert;
use crate::api::error::ClientError;
use crate::api::event::Event;
use crate::state::store::records::StoredAlert;
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;

/// Alerts kept; recording one more drops the oldest.
pub(crate) const MAX_ALERTS: u64 = 1000;

/// A marker (kept with the seen ciphertexts) for a condition already acted on.
fn marker(parts: &[&str]) -> [u8; 32] {
    let mut hash = Sha256::new();
    hash.update(b"parley marker");
    for part in parts {
        hash.update(u32::try_from(part.len()).unwrap_or(u32::MAX).to_be_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
}

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
            self.store
                .stage_keep_last(&mut batch, Prefix::Alerts, idx, MAX_ALERTS, Key::Alert)?;
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

    /// Raises `alert` unless a marker made of `parts` says it was raised before: for a
    /// condition every sync would find again (one marker per condition, not a scan of the
    /// alerts).
    pub(crate) async fn alert_once_per(
        &mut self,
        parts: &[&str],
        alert: Alert,
    ) -> Result<(), ClientError> {
        if self.first_time_per(parts).await? {
            self.alert(alert).await;
        }
        Ok(())
    }

    /// Whether a marker made of `parts` is set.
    pub(crate) fn marked(&self, parts: &[&str]) -> Result<bool, ClientError> {
        Ok(self.store.seen(&marker(parts))?)
    }

    /// Whether a marker made of `parts` is new, leaving it set: for what must happen at most
    /// once per condition (an alert, a lookup a stranger could otherwise trigger at will).
    pub(crate) async fn first_time_per(&mut self, parts: &[&str]) -> Result<bool, ClientError> {
        let marker = marker(parts);
        if self.store.seen(&marker)? {
            return Ok(false);
        }
        let mut batch = StoreBatch::default();
        batch.mark_seen(&marker);
        self.store.apply(batch).await?;
        Ok(true)
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
