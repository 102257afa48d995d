//! Directory records, their rotations, and KeyPackages.

use parley_crypto::handle::Handle;

use super::super::directory::{Registration, Rotated, RotationWrite};
use super::super::key_packages::{Claimed, Published, Upload};
use super::super::StoreError;
use super::{signed, PgError, PgStore};

pub(super) async fn register(
    store: &PgStore,
    handle: &Handle,
    record: &[u8],
) -> Result<Registration, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "INSERT INTO directory (handle, record) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(PgError::from)?;
    let inserted = client
        .execute(&statement, &[&handle.as_str(), &record])
        .await
        .map_err(PgError::from)?;
    Ok(if inserted == 1 {
        Registration::Created
    } else {
        Registration::Taken
    })
}

pub(super) async fn lookup(
    store: &PgStore,
    handle: &Handle,
) -> Result<Option<Vec<u8>>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached("SELECT record FROM directory WHERE handle = $1")
        .await
        .map_err(PgError::from)?;
    let row = client
        .query_opt(&statement, &[&handle.as_str()])
        .await
        .map_err(PgError::from)?;
    Ok(row
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(PgError::from)?)
}

/// Replaces the record if it is still `write.old_record`, keeps the rotation, drops the
/// KeyPackages signed by the replaced key, and keeps the last `keep` rotations: one
/// transaction, with the directory row locked.
pub(super) async fn rotate(
    store: &PgStore,
    handle: &Handle,
    write: RotationWrite<'_>,
    keep: usize,
) -> Result<Rotated, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let name = handle.as_str();
    let held = tx
        .query_opt(
            "SELECT record FROM directory WHERE handle = $1 FOR UPDATE",
            &[&name],
        )
        .await
        .map_err(PgError::from)?;
    let Some(held) = held else {
        return Ok(Rotated::Unknown);
    };
    let held: Vec<u8> = held.try_get(0).map_err(PgError::from)?;
    if held != write.old_record {
        return Ok(Rotated::Stale);
    }
    let version = signed(write.new_version);
    let keep = i64::try_from(keep).unwrap_or(i64::MAX);
    tx.execute(
        "UPDATE directory SET record = $2 WHERE handle = $1",
        &[&name, &write.new_record],
    )
    .await
    .map_err(PgError::from)?;
    tx.execute(
        "INSERT INTO rotations (handle, version, rotation) VALUES ($1, $2, $3)
         ON CONFLICT (handle, version) DO UPDATE SET rotation = EXCLUDED.rotation",
        &[&name, &version, &write.rotation],
    )
    .await
    .map_err(PgError::from)?;
    tx.execute("DELETE FROM key_packages WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    tx.execute("DELETE FROM last_resort WHERE handle = $1", &[&name])
        .await
        .map_err(PgError::from)?;
    tx.execute(
        "DELETE FROM rotations WHERE handle = $1 AND version NOT IN
           (SELECT version FROM rotations WHERE handle = $1 ORDER BY version DESC LIMIT $2)",
        &[&name, &keep],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(Rotated::Done)
}

pub(super) async fn rotations(
    store: &PgStore,
    handle: &Handle,
) -> Result<Vec<Vec<u8>>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached("SELECT rotation FROM rotations WHERE handle = $1 ORDER BY version")
        .await
        .map_err(PgError::from)?;
    let rows = client
        .query(&statement, &[&handle.as_str()])
        .await
        .map_err(PgError::from)?;
    rows.iter()
        .map(|row| Ok(row.try_get(0).map_err(PgError::from)?))
        .collect()
}

/// Adds one-time KeyPackages (after dropping those held, with `upload.replace`) and
/// replaces the last-resort one if given, in one transaction; the cap is checked under a
/// lock on the handle's directory row, so concurrent publishes by one owner queue.
pub(super) async fn publish_key_packages(
    store: &PgStore,
    handle: &Handle,
    upload: Upload<'_>,
    max_held: usize,
) -> Result<Published, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let name = handle.as_str();
    tx.execute(
        "SELECT 1 FROM directory WHERE handle = $1 FOR UPDATE",
        &[&name],
    )
    .await
    .map_err(PgError::from)?;
    let held = if upload.replace {
        tx.execute("DELETE FROM key_packages WHERE handle = $1", &[&name])
            .await
            .map_err(PgError::from)?;
        0
    } else {
        let row = tx
            .query_one(
                "SELECT COUNT(*) FROM key_packages WHERE handle = $1",
                &[&name],
            )
            .await
            .map_err(PgError::from)?;
        let count: i64 = row.try_get(0).map_err(PgError::from)?;
        usize::try_from(count).unwrap_or(usize::MAX)
    };
    let total = held.saturating_add(upload.key_packages.len());
    if total > max_held {
        return Ok(Published::TooMany);
    }
    for key_package in upload.key_packages {
        tx.execute(
            "INSERT INTO key_packages (handle, key_package) VALUES ($1, $2)",
            &[&name, key_package],
        )
        .await
        .map_err(PgError::from)?;
    }
    if let Some(last_resort) = upload.last_resort {
        tx.execute(
            "INSERT INTO last_resort (handle, key_package) VALUES ($1, $2)
             ON CONFLICT (handle) DO UPDATE SET key_package = EXCLUDED.key_package",
            &[&name, &last_resort],
        )
        .await
        .map_err(PgError::from)?;
    }
    tx.commit().await.map_err(PgError::from)?;
    Ok(Published::Held(u32::try_from(total).unwrap_or(u32::MAX)))
}

/// Hands out the oldest one-time KeyPackage, deleting it in the same statement (`SKIP
/// LOCKED`: racing claimants, on any node, each take another one), or else the last resort.
pub(super) async fn claim_key_package(
    store: &PgStore,
    handle: &Handle,
) -> Result<Option<Claimed>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "DELETE FROM key_packages WHERE id = (
                SELECT id FROM key_packages WHERE handle = $1
                ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED
             ) RETURNING key_package",
        )
        .await
        .map_err(PgError::from)?;
    let row = client
        .query_opt(&statement, &[&handle.as_str()])
        .await
        .map_err(PgError::from)?;
    match row {
        Some(row) => Ok(Some(Claimed {
            key_package: row.try_get(0).map_err(PgError::from)?,
            last_resort: false,
        })),
        // On the same connection: taking a second from the pool while holding this one could
        // wait forever once every connection is held by a claimant doing the same.
        None => last_resort_on(&client, handle).await,
    }
}

pub(super) async fn claim_last_resort(
    store: &PgStore,
    handle: &Handle,
) -> Result<Option<Claimed>, StoreError> {
    let client = store.client().await?;
    last_resort_on(&client, handle).await
}

async fn last_resort_on(
    client: &tokio_postgres::Client,
    handle: &Handle,
) -> Result<Option<Claimed>, StoreError> {
    let row = client
        .query_opt(
            "SELECT key_package FROM last_resort WHERE handle = $1",
            &[&handle.as_str()],
        )
        .await
        .map_err(PgError::from)?;
    row.map(|row| {
        Ok(Claimed {
            key_package: row.try_get(0).map_err(PgError::from)?,
            last_resort: true,
        })
    })
    .transpose()
}
