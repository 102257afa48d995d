//! Inboxes: deliveries waiting for their handle's owner.

use parley_crypto::handle::Handle;

use super::super::inbox::{Deposited, StoredDelivery};
use super::super::StoreError;
use super::listener::INBOX_CHANNEL;
use super::{signed, unsigned, within_budget, PgError, PgStore};
use crate::limits::InboxQuota;

/// Stores `envelope` under the inbox's next id unless that would exceed `quota`: one
/// transaction holding the inbox's counter row, so deposits to one inbox queue and ids are
/// never given twice, on any node.
pub(super) async fn deposit(
    store: &PgStore,
    handle: &Handle,
    envelope: &[u8],
    received_at_ms: u64,
    quota: InboxQuota,
) -> Result<Deposited, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let name = handle.as_str();
    tx.execute(
        "INSERT INTO inboxes (handle, next_id) VALUES ($1, 0) ON CONFLICT DO NOTHING",
        &[&name],
    )
    .await
    .map_err(PgError::from)?;
    let next: i64 = tx
        .query_one(
            "SELECT next_id FROM inboxes WHERE handle = $1 FOR UPDATE",
            &[&name],
        )
        .await
        .map_err(PgError::from)?
        .try_get(0)
        .map_err(PgError::from)?;
    let row = tx
        .query_one(
            "SELECT COUNT(*), COALESCE(SUM(octet_length(envelope)), 0)::BIGINT
             FROM deliveries WHERE handle = $1",
            &[&name],
        )
        .await
        .map_err(PgError::from)?;
    let pending = unsigned(row.try_get(0).map_err(PgError::from)?, "inbox count")?;
    let pending_bytes = unsigned(row.try_get(1).map_err(PgError::from)?, "inbox bytes")?;
    let size = u64::try_from(envelope.len()).unwrap_or(u64::MAX);
    if let Err(exceeded) = quota.admits(pending, pending_bytes, size) {
        return Ok(Deposited::Full(exceeded));
    }
    tx.execute(
        "INSERT INTO deliveries (handle, id, received_at_ms, envelope) VALUES ($1, $2, $3, $4)",
        &[&name, &next, &signed(received_at_ms), &envelope],
    )
    .await
    .map_err(PgError::from)?;
    tx.execute(
        "UPDATE inboxes SET next_id = $2 WHERE handle = $1",
        &[&name, &(next + 1)],
    )
    .await
    .map_err(PgError::from)?;
    // Delivered to every node's listener when (and only if) the transaction commits.
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&INBOX_CHANNEL, &format!("{name}:{next}")],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(Deposited::Stored(unsigned(next, "inbox id")?))
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
    let rows = client
        .query(
            "SELECT id, received_at_ms, envelope FROM deliveries
             WHERE handle = $1 AND id >= $2 ORDER BY id LIMIT $3",
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

/// Deletes the given deliveries; unknown ids are ignored (acks are idempotent).
pub(super) async fn acknowledge(
    store: &PgStore,
    handle: &Handle,
    ids: &[u64],
) -> Result<(), StoreError> {
    let ids: Vec<i64> = ids.iter().map(|&id| signed(id)).collect();
    let client = store.client().await?;
    client
        .execute(
            "DELETE FROM deliveries WHERE handle = $1 AND id = ANY($2)",
            &[&handle.as_str(), &ids],
        )
        .await
        .map_err(PgError::from)?;
    Ok(())
}

/// Deletes the deliveries received before `cutoff_ms`; returns how many.
pub(super) async fn expire(store: &PgStore, cutoff_ms: u64) -> Result<u64, StoreError> {
    let client = store.client().await?;
    let deleted = client
        .execute(
            "DELETE FROM deliveries WHERE received_at_ms < $1",
            &[&signed(cutoff_ms)],
        )
        .await
        .map_err(PgError::from)?;
    Ok(deleted)
}
