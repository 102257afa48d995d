//! Blobs: a record per document and a row per sealed chunk.

use subtle::ConstantTimeEq;
use tokio_postgres::Row;

use super::super::blobs::{Begun, BlobMeta, BlobWrite};
use super::super::StoreError;
use super::{signed, unsigned, PgError, PgStore};

const COLUMNS: &str = "write_hash, read_hash, padded_size, chunks, stored, created_at_ms, ttl_secs";

fn hash(row: &Row, at: usize) -> Result<[u8; 32], StoreError> {
    let bytes: Vec<u8> = row.try_get(at).map_err(PgError::from)?;
    Ok(bytes
        .try_into()
        .map_err(|_| PgError::OutOfRange("blob hash"))?)
}

fn count(row: &Row, at: usize) -> Result<u32, StoreError> {
    let value: i32 = row.try_get(at).map_err(PgError::from)?;
    Ok(u32::try_from(value).map_err(|_| PgError::OutOfRange("chunk count"))?)
}

/// A `blobs` row selected as [`COLUMNS`].
fn decode(row: &Row) -> Result<BlobMeta, StoreError> {
    Ok(BlobMeta {
        write_hash: hash(row, 0)?,
        read_hash: hash(row, 1)?,
        padded_size: unsigned(row.try_get(2).map_err(PgError::from)?, "blob size")?,
        chunks: count(row, 3)?,
        stored: count(row, 4)?,
        created_at_ms: unsigned(row.try_get(5).map_err(PgError::from)?, "blob time")?,
        ttl_secs: unsigned(row.try_get(6).map_err(PgError::from)?, "blob retention")?,
    })
}

fn int(value: u32) -> i32 {
    i32::try_from(value).unwrap_or(i32::MAX)
}

/// Creates the blob, or finds the same upload (same capabilities and size) begun earlier.
pub(super) async fn begin(
    store: &PgStore,
    blob_id: &[u8; 32],
    meta: BlobMeta,
) -> Result<Begun, StoreError> {
    let client = store.client().await?;
    let id = &blob_id[..];
    let inserted = client
        .execute(
            "INSERT INTO blobs (blob_id, write_hash, read_hash, padded_size, chunks, stored,
                                created_at_ms, ttl_secs)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
            &[
                &id,
                &&meta.write_hash[..],
                &&meta.read_hash[..],
                &signed(meta.padded_size),
                &int(meta.chunks),
                &int(meta.stored),
                &signed(meta.created_at_ms),
                &signed(meta.ttl_secs),
            ],
        )
        .await
        .map_err(PgError::from)?;
    if inserted == 1 {
        return Ok(Begun::Ready(meta));
    }
    let sql = format!("SELECT {COLUMNS} FROM blobs WHERE blob_id = $1");
    let held = client
        .query_opt(&sql, &[&id])
        .await
        .map_err(PgError::from)?;
    match held.as_ref().map(decode).transpose()? {
        Some(held) if held.resumed_by(&meta) => Ok(Begun::Ready(held)),
        _ => Ok(Begun::Taken),
    }
}

/// Stores `count` chunks from `meta.stored` on and counts them, in one transaction holding
/// the blob's row; `Gone` if the blob expired (or was taken again) meanwhile.
pub(super) async fn put(
    store: &PgStore,
    blob_id: &[u8; 32],
    meta: &mut BlobMeta,
    chunks: Vec<u8>,
    count: u32,
) -> Result<BlobWrite, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let id = &blob_id[..];
    let sql = format!("SELECT {COLUMNS} FROM blobs WHERE blob_id = $1 FOR UPDATE");
    let held = tx.query_opt(&sql, &[&id]).await.map_err(PgError::from)?;
    let Some(held) = held.as_ref().map(decode).transpose()? else {
        return Ok(BlobWrite::Gone);
    };
    if !held.same_blob(meta) {
        return Ok(BlobWrite::Gone);
    }
    let mut at = 0usize;
    for index in meta.stored..meta.stored + count {
        let len = meta.chunk_len(index);
        let chunk = chunks
            .get(at..at + len)
            .ok_or(StoreError::Corrupt("chunk batch"))?;
        at += len;
        tx.execute(
            "INSERT INTO blob_chunks (blob_id, idx, chunk) VALUES ($1, $2, $3)
             ON CONFLICT (blob_id, idx) DO UPDATE SET chunk = EXCLUDED.chunk",
            &[&id, &int(index), &chunk],
        )
        .await
        .map_err(PgError::from)?;
    }
    meta.stored += count;
    tx.execute(
        "UPDATE blobs SET stored = GREATEST(stored, $2) WHERE blob_id = $1",
        &[&id, &int(meta.stored)],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(BlobWrite::Done)
}

/// Every batch is durable once written; a commit only reports whether the blob is still
/// there.
pub(super) async fn still_there(
    store: &PgStore,
    blob_id: &[u8; 32],
) -> Result<BlobWrite, StoreError> {
    Ok(match meta(store, blob_id).await? {
        Some(_) => BlobWrite::Done,
        None => BlobWrite::Gone,
    })
}

pub(super) async fn meta(
    store: &PgStore,
    blob_id: &[u8; 32],
) -> Result<Option<BlobMeta>, StoreError> {
    let client = store.client().await?;
    let sql = format!("SELECT {COLUMNS} FROM blobs WHERE blob_id = $1");
    let row = client
        .query_opt(&sql, &[&&blob_id[..]])
        .await
        .map_err(PgError::from)?;
    row.as_ref().map(decode).transpose()
}

/// Chunk `index`, if the blob has it counted.
pub(super) async fn chunk(
    store: &PgStore,
    blob_id: &[u8; 32],
    index: u32,
) -> Result<Option<Vec<u8>>, StoreError> {
    let client = store.client().await?;
    let row = client
        .query_opt(
            "SELECT c.chunk FROM blob_chunks c JOIN blobs b ON b.blob_id = c.blob_id
             WHERE c.blob_id = $1 AND c.idx = $2 AND c.idx < b.stored",
            &[&&blob_id[..], &int(index)],
        )
        .await
        .map_err(PgError::from)?;
    Ok(row
        .map(|row| row.try_get(0))
        .transpose()
        .map_err(PgError::from)?)
}

/// Gives the blob the shorter of its own retention and `ttl_secs`, if its read capability
/// hashes to `read_hash` (compared in constant time, on the row it changes).
pub(super) async fn shorten(
    store: &PgStore,
    blob_id: &[u8; 32],
    read_hash: &[u8; 32],
    ttl_secs: u64,
) -> Result<Option<BlobMeta>, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let id = &blob_id[..];
    let sql = format!("SELECT {COLUMNS} FROM blobs WHERE blob_id = $1 FOR UPDATE");
    let held = tx.query_opt(&sql, &[&id]).await.map_err(PgError::from)?;
    let Some(held) = held.as_ref().map(decode).transpose()? else {
        return Ok(None);
    };
    if !bool::from(held.read_hash.ct_eq(read_hash)) {
        return Ok(None);
    }
    let Some(shortened) = held.shortened_to(ttl_secs) else {
        return Ok(Some(held));
    };
    tx.execute(
        "UPDATE blobs SET ttl_secs = $2 WHERE blob_id = $1",
        &[&id, &signed(shortened.ttl_secs)],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(Some(shortened))
}

/// Deletes the blobs (complete or not) begun longer ago than the relay's retention or
/// their own, with their chunks; returns how many.
pub(super) async fn expire(
    store: &PgStore,
    now_ms: u64,
    default_ms: Option<u64>,
) -> Result<u64, StoreError> {
    let client = store.client().await?;
    let deleted = client
        .execute(
            "DELETE FROM blobs
             WHERE (ttl_secs > 0 AND $1 - created_at_ms > ttl_secs * 1000)
                OR ($2::BIGINT IS NOT NULL AND $1 - created_at_ms > $2::BIGINT)",
            &[&signed(now_ms), &default_ms.map(signed)],
        )
        .await
        .map_err(PgError::from)?;
    Ok(deleted)
}
