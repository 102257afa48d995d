//! Group logs: entries in order, epochs moved by exactly one commit each.

use super::super::groups::{Appended, Created, EpochKey, GroupMeta, StoredEntry, TtlSet};
use super::super::StoreError;
use super::listener::GROUP_CHANNEL;
use super::{signed, unsigned, within_budget, PgError, PgStore};

pub(super) async fn create(
    store: &PgStore,
    group_id: &[u8; 32],
    access_key: &[u8; 32],
) -> Result<Created, StoreError> {
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let inserted = tx
        .execute(
            "INSERT INTO groups (group_id, epoch, next_seq, ttl_secs) VALUES ($1, 0, 0, 0)
             ON CONFLICT DO NOTHING",
            &[&&group_id[..]],
        )
        .await
        .map_err(PgError::from)?;
    if inserted == 0 {
        return Ok(Created::Exists);
    }
    tx.execute(
        "INSERT INTO epoch_keys (group_id, epoch, access_key, first_seq) VALUES ($1, 0, $2, 0)",
        &[&&group_id[..], &&access_key[..]],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(Created::Created)
}

pub(super) async fn meta(
    store: &PgStore,
    group_id: &[u8; 32],
) -> Result<Option<GroupMeta>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached("SELECT epoch, next_seq, ttl_secs FROM groups WHERE group_id = $1")
        .await
        .map_err(PgError::from)?;
    let row = client
        .query_opt(&statement, &[&&group_id[..]])
        .await
        .map_err(PgError::from)?;
    row.map(|row| {
        Ok(GroupMeta::at(
            unsigned(row.try_get(0).map_err(PgError::from)?, "epoch")?,
            unsigned(row.try_get(1).map_err(PgError::from)?, "sequence number")?,
            unsigned(row.try_get(2).map_err(PgError::from)?, "retention")?,
        ))
    })
    .transpose()
}

pub(super) async fn epoch_key(
    store: &PgStore,
    group_id: &[u8; 32],
    epoch: u64,
) -> Result<Option<EpochKey>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "SELECT access_key, first_seq FROM epoch_keys WHERE group_id = $1 AND epoch = $2",
        )
        .await
        .map_err(PgError::from)?;
    let row = client
        .query_opt(&statement, &[&&group_id[..], &signed(epoch)])
        .await
        .map_err(PgError::from)?;
    row.map(|row| {
        let key: Vec<u8> = row.try_get(0).map_err(PgError::from)?;
        Ok(EpochKey {
            key: key
                .try_into()
                .map_err(|_| PgError::OutOfRange("access key"))?,
            first_seq: unsigned(row.try_get(1).map_err(PgError::from)?, "sequence number")?,
        })
    })
    .transpose()
}

/// Appends an application message if the group is at `epoch`, in one statement: the update
/// holds the group's row (so a racing commit on any node queues behind it or goes first),
/// takes the next sequence number and stores the entry; the notification leaves with the
/// commit. No row means no group or another epoch.
const POST: &str = "
WITH taken AS (
    UPDATE groups SET next_seq = next_seq + 1 WHERE group_id = $1 AND epoch = $2
    RETURNING next_seq - 1 AS seq
), stored AS (
    INSERT INTO entries (group_id, seq, epoch, is_commit, stored_at_ms, message)
    SELECT $1, seq, $2, FALSE, $3, $4 FROM taken
    RETURNING seq
)
SELECT seq, pg_notify($5, $6 || ':' || seq::text) FROM stored";

/// How often a post that found the group at its epoch after being refused is tried again.
const POST_ATTEMPTS: usize = 3;

/// Appends the application message `message` at `epoch`.
async fn post(
    store: &PgStore,
    group_id: &[u8; 32],
    epoch: u64,
    message: &[u8],
    stored_at_ms: u64,
) -> Result<Appended, StoreError> {
    let client = store.client().await?;
    let statement = client.prepare_cached(POST).await.map_err(PgError::from)?;
    let id = &group_id[..];
    let group = hex::encode(group_id);
    for _ in 0..POST_ATTEMPTS {
        let row = client
            .query_opt(
                &statement,
                &[
                    &id,
                    &signed(epoch),
                    &signed(stored_at_ms),
                    &message,
                    &GROUP_CHANNEL,
                    &group,
                ],
            )
            .await
            .map_err(PgError::from)?;
        if let Some(row) = row {
            let seq: i64 = row.try_get(0).map_err(PgError::from)?;
            return Ok(Appended::At(unsigned(seq, "sequence number")?));
        }
        match meta(store, group_id).await? {
            None => return Ok(Appended::NoGroup),
            Some(meta) if meta.epoch != epoch => {
                return Ok(Appended::EpochMoved {
                    current: meta.epoch,
                })
            }
            // Epochs only grow, so the group was created after the statement looked: again.
            Some(_) => continue,
        }
    }
    Ok(Appended::NoGroup)
}

/// Appends `message` if the group is at `epoch`, holding the group's row: racing appends,
/// on any node, queue on it, so exactly one commit moves each epoch.
pub(super) async fn append(
    store: &PgStore,
    group_id: &[u8; 32],
    epoch: u64,
    message: &[u8],
    next_key: Option<&[u8; 32]>,
    stored_at_ms: u64,
) -> Result<Appended, StoreError> {
    if next_key.is_none() {
        return post(store, group_id, epoch, message, stored_at_ms).await;
    }
    let mut client = store.client().await?;
    let tx = client.transaction().await.map_err(PgError::from)?;
    let id = &group_id[..];
    let row = tx
        .query_opt(
            "SELECT epoch, next_seq FROM groups WHERE group_id = $1 FOR UPDATE",
            &[&id],
        )
        .await
        .map_err(PgError::from)?;
    let Some(row) = row else {
        return Ok(Appended::NoGroup);
    };
    let current = unsigned(row.try_get(0).map_err(PgError::from)?, "epoch")?;
    if current != epoch {
        return Ok(Appended::EpochMoved { current });
    }
    let seq: i64 = row.try_get(1).map_err(PgError::from)?;
    let epoch = signed(epoch);
    tx.execute(
        "INSERT INTO entries (group_id, seq, epoch, is_commit, stored_at_ms, message)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            &id,
            &seq,
            &epoch,
            &next_key.is_some(),
            &signed(stored_at_ms),
            &message,
        ],
    )
    .await
    .map_err(PgError::from)?;
    let next_epoch = match next_key {
        Some(key) => {
            tx.execute(
                "INSERT INTO epoch_keys (group_id, epoch, access_key, first_seq)
                 VALUES ($1, $2, $3, $4)",
                &[&id, &(epoch + 1), &&key[..], &(seq + 1)],
            )
            .await
            .map_err(PgError::from)?;
            epoch + 1
        }
        None => epoch,
    };
    tx.execute(
        "UPDATE groups SET epoch = $2, next_seq = $3 WHERE group_id = $1",
        &[&id, &next_epoch, &(seq + 1)],
    )
    .await
    .map_err(PgError::from)?;
    // Delivered to every node's listener when (and only if) the transaction commits.
    tx.execute(
        "SELECT pg_notify($1, $2)",
        &[&GROUP_CHANNEL, &format!("{}:{seq}", hex::encode(group_id))],
    )
    .await
    .map_err(PgError::from)?;
    tx.commit().await.map_err(PgError::from)?;
    Ok(Appended::At(unsigned(seq, "sequence number")?))
}

/// Entries of `epoch` from `from_seq` on: at most `limit`, stopping before `max_bytes` of
/// messages (but always at least one).
pub(super) async fn read(
    store: &PgStore,
    group_id: &[u8; 32],
    epoch: u64,
    from_seq: u64,
    limit: usize,
    max_bytes: usize,
) -> Result<Vec<StoredEntry>, StoreError> {
    let client = store.client().await?;
    let statement = client
        .prepare_cached(
            "SELECT seq, is_commit, message FROM entries
             WHERE group_id = $1 AND epoch = $2 AND seq >= $3 ORDER BY seq LIMIT $4",
        )
        .await
        .map_err(PgError::from)?;
    let rows = client
        .query(
            &statement,
            &[
                &&group_id[..],
                &signed(epoch),
                &signed(from_seq),
                &i64::try_from(limit).unwrap_or(i64::MAX),
            ],
        )
        .await
        .map_err(PgError::from)?;
    within_budget(rows, 2, max_bytes, |row, message| {
        Ok(StoredEntry {
            seq: unsigned(row.try_get(0).map_err(PgError::from)?, "sequence number")?,
            epoch,
            commit: row.try_get(1).map_err(PgError::from)?,
            message,
        })
    })
}

pub(super) async fn set_ttl(
    store: &PgStore,
    group_id: &[u8; 32],
    epoch: u64,
    ttl_secs: u64,
) -> Result<TtlSet, StoreError> {
    let client = store.client().await?;
    let id = &group_id[..];
    let updated = client
        .execute(
            "UPDATE groups SET ttl_secs = $3 WHERE group_id = $1 AND epoch = $2",
            &[&id, &signed(epoch), &signed(ttl_secs)],
        )
        .await
        .map_err(PgError::from)?;
    if updated == 1 {
        return Ok(TtlSet::Set);
    }
    let exists = client
        .query_opt("SELECT 1 FROM groups WHERE group_id = $1", &[&id])
        .await
        .map_err(PgError::from)?;
    Ok(if exists.is_some() {
        TtlSet::EpochMoved
    } else {
        TtlSet::NoGroup
    })
}

/// Deletes the entries stored longer ago than the relay's retention (`default_ms`) or
/// their group's own, whichever is shorter, at `now_ms`; returns how many.
pub(super) async fn expire(
    store: &PgStore,
    now_ms: u64,
    default_ms: Option<u64>,
) -> Result<u64, StoreError> {
    let client = store.client().await?;
    let default_ms = default_ms.map(signed);
    // A group with no retention of its own, on a relay that keeps everything, keeps all:
    // the CASE is NULL and the comparison with it false.
    let deleted = client
        .execute(
            "DELETE FROM entries e USING groups g
             WHERE e.group_id = g.group_id AND e.stored_at_ms < $1 - (CASE
                 WHEN g.ttl_secs = 0 THEN $2::BIGINT
                 WHEN $2::BIGINT IS NULL THEN g.ttl_secs * 1000
                 ELSE LEAST($2::BIGINT, g.ttl_secs * 1000) END)",
            &[&signed(now_ms), &default_ms],
        )
        .await
        .map_err(PgError::from)?;
    Ok(deleted)
}
