//! The PostgreSQL schema, as numbered migrations embedded in the relay and applied at start:
//! each runs once, in order, in a transaction of its own, under an advisory lock so that
//! several relay nodes starting at once apply it once. docs/OPERATING.md describes the tables.

use tokio_postgres::Client;

use super::PgError;

/// Key of the advisory lock held while migrating ("parley" in ASCII).
const MIGRATION_LOCK: i64 = 0x7061_726c_6579;

/// The migrations, in order; a migration once released is never edited, only followed.
const MIGRATIONS: &[(i32, &str)] = &[
    (
        1,
        r#"
CREATE TABLE directory (
    handle TEXT PRIMARY KEY,
    record BYTEA NOT NULL
);
CREATE TABLE rotations (
    handle TEXT NOT NULL,
    version BIGINT NOT NULL,
    rotation BYTEA NOT NULL,
    PRIMARY KEY (handle, version)
);
CREATE TABLE key_packages (
    id BIGSERIAL PRIMARY KEY,
    handle TEXT NOT NULL,
    key_package BYTEA NOT NULL
);
CREATE INDEX key_packages_by_handle ON key_packages (handle, id);
CREATE TABLE last_resort (
    handle TEXT PRIMARY KEY,
    key_package BYTEA NOT NULL
);
CREATE TABLE inboxes (
    handle TEXT PRIMARY KEY,
    next_id BIGINT NOT NULL
);
CREATE TABLE deliveries (
    handle TEXT NOT NULL,
    id BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    envelope BYTEA NOT NULL,
    PRIMARY KEY (handle, id)
);
CREATE INDEX deliveries_by_age ON deliveries (received_at_ms);
CREATE TABLE groups (
    group_id BYTEA PRIMARY KEY,
    epoch BIGINT NOT NULL,
    next_seq BIGINT NOT NULL,
    ttl_secs BIGINT NOT NULL
);
CREATE TABLE epoch_keys (
    group_id BYTEA NOT NULL,
    epoch BIGINT NOT NULL,
    access_key BYTEA NOT NULL,
    first_seq BIGINT NOT NULL,
    PRIMARY KEY (group_id, epoch)
);
CREATE TABLE entries (
    group_id BYTEA NOT NULL,
    seq BIGINT NOT NULL,
    epoch BIGINT NOT NULL,
    is_commit BOOLEAN NOT NULL,
    stored_at_ms BIGINT NOT NULL,
    message BYTEA NOT NULL,
    PRIMARY KEY (group_id, seq)
);
CREATE INDEX entries_by_age ON entries (stored_at_ms);
CREATE TABLE blobs (
    blob_id BYTEA PRIMARY KEY,
    write_hash BYTEA NOT NULL,
    read_hash BYTEA NOT NULL,
    padded_size BIGINT NOT NULL,
    chunks INTEGER NOT NULL,
    stored INTEGER NOT NULL,
    created_at_ms BIGINT NOT NULL,
    ttl_secs BIGINT NOT NULL
);
CREATE TABLE blob_chunks (
    blob_id BYTEA NOT NULL REFERENCES blobs (blob_id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    chunk BYTEA NOT NULL,
    PRIMARY KEY (blob_id, idx)
);
"#,
    ),
    (
        2,
        r#"
CREATE TABLE challenges (
    challenge BYTEA PRIMARY KEY,
    handle TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX challenges_by_expiry ON challenges (expires_at_ms);
CREATE TABLE replays (
    digest BYTEA PRIMARY KEY,
    forget_at_ms BIGINT NOT NULL
);
CREATE INDEX replays_by_expiry ON replays (forget_at_ms);
"#,
    ),
    (
        3,
        r#"
ALTER TABLE inboxes ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE inboxes ADD COLUMN pending_bytes BIGINT NOT NULL DEFAULT 0;
UPDATE inboxes i SET pending = d.n, pending_bytes = d.bytes
FROM (
    SELECT handle, COUNT(*) AS n, SUM(octet_length(envelope))::BIGINT AS bytes
    FROM deliveries GROUP BY handle
) d
WHERE i.handle = d.handle;
"#,
    ),
];

/// The newest schema version this relay knows.
pub(crate) const SCHEMA_VERSION: i32 = 3;

/// Applies the migrations the database lacks; refuses a database migrated by a newer relay.
pub(super) async fn migrate(client: &mut Client) -> Result<(), PgError> {
    migrate_to(client, SCHEMA_VERSION).await
}

/// Applies the migrations up to `target`, as a relay of that schema version would.
async fn migrate_to(client: &mut Client, target: i32) -> Result<(), PgError> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS parley_schema (
            version INTEGER PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let row = tx
        .query_one("SELECT COALESCE(MAX(version), 0) FROM parley_schema", &[])
        .await?;
    let current: i32 = row.try_get(0)?;
    if current > SCHEMA_VERSION {
        return Err(PgError::NewerSchema(current));
    }
    for (version, sql) in MIGRATIONS
        .iter()
        .filter(|(v, _)| *v > current && *v <= target)
    {
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO parley_schema (version) VALUES ($1)",
            &[version],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use parley_testkit::postgres::scratch_database;

    use super::*;

    #[tokio::test]
    async fn version_3_counts_the_deliveries_already_waiting() {
        let Some((url, _database)) = scratch_database().await else {
            return;
        };
        let (mut client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        migrate_to(&mut client, 2).await.unwrap();
        client
            .batch_execute(
                "INSERT INTO inboxes (handle, next_id) VALUES ('alice', 3), ('bob', 1);
                 INSERT INTO deliveries (handle, id, received_at_ms, envelope) VALUES
                     ('alice', 1, 0, '\\x0102'), ('alice', 2, 0, '\\x030405');",
            )
            .await
            .unwrap();
        migrate(&mut client).await.unwrap();
        let rows = client
            .query(
                "SELECT handle, next_id, pending, pending_bytes FROM inboxes ORDER BY handle",
                &[],
            )
            .await
            .unwrap();
        let rows: Vec<(String, i64, i64, i64)> = rows
            .iter()
            .map(|row| (row.get(0), row.get(1), row.get(2), row.get(3)))
            .collect();
        assert_eq!(
            rows,
            [("alice".to_owned(), 3, 2, 5), ("bob".to_owned(), 1, 0, 0)]
        );
    }
}
