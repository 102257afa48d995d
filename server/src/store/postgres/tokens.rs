//! Owner challenges and remembered group requests, shared by every node.

use parley_crypto::handle::Handle;

use super::super::StoreError;
use super::{signed, PgError, PgStore};

pub(super) async fn record_challenge(
    store: &PgStore,
    challenge: &[u8; 32],
    handle: &Handle,
    expires_at_ms: u64,
) -> Result<(), StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO challenges (challenge, handle, expires_at_ms) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(PgError::from)?;
    client
        .execute(
            &statement,
            &[&&challenge[..], &handle.as_str(), &signed(expires_at_ms)],
        )
        .await
        .map_err(PgError::from)?;
    Ok(())
}

/// Deletes the challenge and says whether it was good: one statement, so of two nodes
/// spending it at once exactly one gets the row.
pub(super) async fn spend_challenge(
    store: &PgStore,
    challenge: &[u8; 32],
    handle: &Handle,
    now_ms: u64,
) -> Result<bool, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "DELETE FROM challenges WHERE challenge = $1 RETURNING handle, expires_at_ms",
        )
        .await
        .map_err(PgError::from)?;
    let row = client
        .query_opt(&statement, &[&&challenge[..]])
        .await
        .map_err(PgError::from)?;
    let Some(row) = row else {
        return Ok(false);
    };
    let issued_for: String = row.try_get(0).map_err(PgError::from)?;
    let expires_at_ms: i64 = row.try_get(1).map_err(PgError::from)?;
    Ok(issued_for == handle.as_str() && signed(now_ms) < expires_at_ms)
}

/// Inserts the digest, or takes over a row whose time is past: one statement, so of two
/// nodes seeing the same request at once exactly one accepts it.
pub(super) async fn first_sighting(
    store: &PgStore,
    digest: &[u8; 32],
    now_ms: u64,
    forget_at_ms: u64,
) -> Result<bool, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO replays (digest, forget_at_ms) VALUES ($1, $2)
             ON CONFLICT (digest) DO UPDATE SET forget_at_ms = EXCLUDED.forget_at_ms
             WHERE replays.forget_at_ms < $3",
        )
        .await
        .map_err(PgError::from)?;
    let written = client
        .execute(
            &statement,
            &[&&digest[..], &signed(forget_at_ms), &signed(now_ms)],
        )
        .await
        .map_err(PgError::from)?;
    Ok(written == 1)
}

pub(super) async fn expire(store: &PgStore, now_ms: u64) -> Result<u64, StoreError> {
    let client = store.client().await?;
    let now = signed(now_ms);
    let challenges = client
        .execute("DELETE FROM challenges WHERE expires_at_ms <= $1", &[&now])
        .await
        .map_err(PgError::from)?;
    let replays = client
        .execute("DELETE FROM replays WHERE forget_at_ms < $1", &[&now])
        .await
        .map_err(PgError::from)?;
    Ok(challenges + replays)
}
