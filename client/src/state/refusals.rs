//! Refused inbox deliveries, tallied by cause. Anyone can deposit into an inbox, so what a
//! refusal leaves behind must not grow with the number of deposits: one record holds a count
//! per cause, and each cause raises at most one alert per day. A refused delivery is not
//! marked as seen either: the record remembers the last [`RECENT`] refused ones (so that a
//! relay handing the same delivery out again does not count it twice) and forgets older
//! ones, so ten thousand garbage deposits cost the store one record of bounded size.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::api::alert::Alert;
use crate::api::error::{ClientError, CryptoError};
use crate::api::trust::QuarantinedMessage;
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

/// One refused delivery: its cause (a stable word) and the reason, in words.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    cause: &'static str,
    reason: String,
}

impl Refusal {
    /// The refusal of a delivery that failed with `error`.
    pub(crate) fn of(error: &ClientError) -> Refusal {
        Refusal {
            cause: cause_of(error),
            reason: error.to_string(),
        }
    }
}

/// The cause a refusal is counted under: what failed, never who the delivery claimed to
/// come from (a forger chooses that freely, and would otherwise make a cause per name).
fn cause_of(error: &ClientError) -> &'static str {
    match error {
        ClientError::Crypto(CryptoError::DeliveryUnreadable(_)) => "unreadable",
        ClientError::Crypto(CryptoError::DeliveryNotAuthentic(_)) => "not_authentic",
        ClientError::Crypto(CryptoError::InboxDecode(_)) => "malformed",
        ClientError::Crypto(CryptoError::Mls(_)) => "welcome_refused",
        ClientError::UntrustedMember(_) | ClientError::KeyChanged(_) => "untrusted_member",
        _ => "refused",
    }
}

/// Refused deliveries remembered (by a 16-byte prefix of their hash) against recounting.
const RECENT: usize = 256;

/// The stored tally: per cause, how many, when first and last, and the first reason; and
/// the latest refused deliveries.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Tally {
    causes: BTreeMap<String, CauseTally>,
    #[serde(default)]
    recent: VecDeque<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct CauseTally {
    count: u64,
    first_at_ms: u64,
    last_at_ms: u64,
    reason: String,
}

/// A day of the clock, for one alert per cause and day.
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// The tally, loaded once for a page of deliveries and saved after it.
pub(crate) struct Refusals {
    tally: Tally,
    /// The first reason of each cause refused since loading, for the alerts.
    new: BTreeMap<&'static str, String>,
}

impl Refusals {
    /// Whether the delivery with this hash was refused recently (and counted then).
    pub(crate) fn already_refused(&self, hash: &[u8; 32]) -> bool {
        let id = recent_id(hash);
        self.tally.recent.contains(&id)
    }

    /// Counts a refused delivery.
    pub(crate) fn count(&mut self, refusal: Refusal, hash: &[u8; 32], now_ms: u64) {
        let entry = self
            .tally
            .causes
            .entry(refusal.cause.to_owned())
            .or_insert_with(|| CauseTally {
                count: 0,
                first_at_ms: now_ms,
                last_at_ms: now_ms,
                reason: refusal.reason.clone(),
            });
        entry.count = entry.count.saturating_add(1);
        entry.last_at_ms = now_ms;
        self.new.entry(refusal.cause).or_insert(refusal.reason);
        self.tally.recent.push_back(recent_id(hash));
        while self.tally.recent.len() > RECENT {
            self.tally.recent.pop_front();
        }
    }
}

fn recent_id(hash: &[u8; 32]) -> String {
    hex::encode(&hash[..16])
}

impl Ctx<'_> {
    /// The tally of refused deliveries, to count a page's refusals in.
    pub(crate) fn refusals(&self) -> Result<Refusals, ClientError> {
        Ok(Refusals {
            tally: self.store.get(Key::InboxRefusals)?.unwrap_or_default(),
            new: BTreeMap::new(),
        })
    }

    /// Saves the tally (one write) if anything was counted, and raises, for each cause that
    /// has not raised one today, one alert.
    pub(crate) async fn save_refusals(&mut self, refusals: Refusals) -> Result<(), ClientError> {
        if refusals.new.is_empty() {
            return Ok(());
        }
        let mut batch = StoreBatch::default();
        batch.put(Key::InboxRefusals, &refusals.tally)?;
        self.store.apply(batch).await?;
        for (cause, reason) in refusals.new {
            self.alert_daily(cause, Alert::InboxRefused { reason })
                .await?;
        }
        Ok(())
    }

    /// Raises `alert` unless one of the same `cause` was raised today (by our clock).
    pub(crate) async fn alert_daily(
        &mut self,
        cause: &str,
        alert: Alert,
    ) -> Result<(), ClientError> {
        let day = (self.now_ms() / DAY_MS).to_string();
        self.alert_once_per(&["daily alert", cause, &day], alert)
            .await
    }

    /// The tally as set-aside entries of the inbox, one per cause.
    pub(crate) fn refused_deliveries(&self) -> Result<Vec<QuarantinedMessage>, ClientError> {
        let tally: Tally = self.store.get(Key::InboxRefusals)?.unwrap_or_default();
        Ok(tally
            .causes
            .into_values()
            .map(|cause| QuarantinedMessage {
                at_ms: cause.last_at_ms,
                conversation: None,
                reason: cause.reason,
                count: cause.count,
            })
            .collect())
    }
}
