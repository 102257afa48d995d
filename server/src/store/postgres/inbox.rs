//! Inboxes: deliveries waiting for their handle's owner.

use parley_crypto::handle::Handle;

use super::super::inbox::{Deposited, StoredDelivery};
use super::super::StoreError;
use super::listener::INBOX_CHANNEL;
use super::{signed, unsigned, within_budget, PgError, PgStore};
use crate::limits::{InboxQuota, QuotaExceeded};

/// Takes the inbox's next id and stores the envelope, in one statement, if the inbox's
/// counters (kept in its row) admit it: the upsert holds the inbox's row, so deposits to one
/// inbox queue on it and ids are never given twice, on any node; the notification leaves
/// with the commit.
const DEPOSIT: &str = "
WITH counter AS (
    INSERT INTO inboxes AS i (handle, next_id, pending, pending_bytes) VALUES ($1, 1, 1, $2)
    ON CONFLICT (handle) DO UPDATE
        SET next_id = i.next_id + 1, pending = i.pending + 1, pending_bytes = i.pending_bytes + $2
        WHERE i.pending < $3 AND i.pending_bytes + $2 <= $4
    RETURNING i.next_id - 1 AS id
), stored AS (
    INSERT INTO deliveries (handle, id, received_at_ms, envelope)
    SELECT $1, id, $5, $6 FROM counter
    RETURNING id
)
SELECT id, pg_notify($7, $1 || ':' || id::text) FROM stored";

/// Stores `envelope` under the inbox's next id unless that would exceed `quota`.
pub(super) async fn deposit(
    store: &PgStore,
    handle: &Handle,
    envelope: &[u8],
    received_at_ms: u64,
    quota: InboxQuota,
) -> Result<Deposited, StoreError> {
    let size = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
    // A first deposit creates the row without looking at the quota: check it alone first.
    if let Err(exceeded) = quota.admits(0, 0, size) {
        return Ok(Deposited::Full(exceeded));
    }
    let client = store.client().await?;
    let statement = client
        .prepare_cached(DEPOSIT)
        .await
        .map_err(PgError::from)?;
    let name = handle.as_str();
    let row = client
        .query_opt(
            &statement,
            &[
                &name,
                &signed(size),
                &signed(quota.max_messages),
                &signed(quota.max_bytes),
                &signed(received_at_ms),
                &envelope,
                &INBOX_CHANNEL,
            ],
        )
        .await
        .map_err(PgError::from)?;
    if let Some(row) = row {
        return Ok(Deposited::Stored(unsigned(
            row.try_get(0).map_err(PgError::from)?,
            "inbox id",
        )?));
    }
    // Refused: say which part of the quota, from the counters as they are now.
    let row = client
        .query_one(
            "SELECT pending, pending_bytes FROM inboxes WHERE handle = $1",
            &[&name],
        )
        .await
        .map_err(PgError::from)?;
    let pending = unsigned(row.try_get(0).map_err(PgError::from)?, "inbox count")?;
    let pending_bytes = unsigned(row.try_get(1).map_err(PgError::from)?, "inbox bytes")?;
    Ok(Deposited::Full(
        quota
            .admits(pending, pending_bytes, size)
            .err()
            // Acknowledged in between: the inbox was full when the deposit was weighed.
            .unwrap_or(QuotaExceeded::Messages),
    ))
}

/// Deliveries with id >= `from_id`, oldest first: at most `limit`, stopping before
/// `max_bytes` of envelopes (but always at least one).
pub(super) async fn pending(
    store: &PgStore,
    handle: &Handle,
    from_id: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Vec<StoredDelivery>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "SELECT id, received_at_ms, envelope FROM deliveries
             WHERE handle = $1 AND id >= $2 ORDER BY id LIMIT $3",
        )
        .await
        .map_err(PgError::from)?;
    let rows = client
        .query(
            &statement,
            &[
                &handle.as_str(),
                &signed(from_id),
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )
        .await
        .map_err(PgError::from)?;
    within_budget(rows, 2, max_bytes, |row, envelope| {
        Ok(StoredDelivery {
            id: unsigned(row.try_get(0).map_err(PgError::from)?, "inbox id")?,
            received_at_ms: unsigned(row.try_get(1).map_err(PgError::from)?, "delivery time")?,
            envelope,
        })
    })
}

/// Deletes the given deliveries and takes them off the inbox's counters; unknown ids are
/// ignored (acks are idempotent, and two racing acks of one delivery count it once).
pub(super) async fn acknowledge(
    store: &PgStore,
    handle: &Handle,
    ids: &[u64],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = ids.iter().map(|&id| signed(id)).collect();
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "WITH gone AS (
                DELETE FROM deliveries WHERE handle = $1 AND id = ANY($2)
                RETURNING octet_length(envelope) AS len
            )
            UPDATE inboxes SET
                pending = pending - (SELECT COUNT(*) FROM gone),
                pending_bytes = pending_bytes - (SELECT COALESCE(SUM(len), 0) FROM gone)
            WHERE handle = $1",
        )
        .await
        .map_err(PgError::from)?;
    client
        .execute(&statement, &[&handle.as_str(), &ids])
        .await
        .map_err(PgError::from)?;
    Ok(())
}

/// Deletes the deliveries received before `cutoff_ms`, and takes them off their inboxes'
/// counters; returns how many.
pub(super) async fn expire(store: &PgStore, cutoff_ms: u64) -> Result<u64, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached("WITH gone AS (
                DELETE FROM deliveries WHERE received_at_ms < $1
                RETURNING handle, octet_length(envelope) AS len
            ), per_inbox AS (
                SELECT handle, COUNT(*) AS n, SUM(len)::BIGINT AS bytes FROM gone GROUP BY handle
            ), counted AS (
                UPDATE inboxes i SET pending = i.pending - p.n, pending_bytes = i.pending_bytes - p.bytes
                FROM per_inbox p WHERE i.handle = p.handle
                RETURNING p.n
            )
            SELECT COALESCE(SUM(n), 0)::BIGINT FROM counted")
        .await
        .map_err(PgError::from)?;
    let row = client
        .query_one(&statement, &[&signed(cutoff_ms)])
        .await
        .map_err(PgError::from)?;
    unsigned(row.try_get(0).map_err(PgError::from)?, "expired deliveries")
}
