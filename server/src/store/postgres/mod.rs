//! The PostgreSQL backend, for several relay nodes sharing one database: every
//! check-and-write is one statement or one transaction with a row lock, so it holds across
//! nodes as well as across tasks. Queries are plain SQL checked by the conformance suite
//! against a real server, never by a database at build time.

mod admin;
mod blobs;
mod directory;
mod groups;
mod inbox;
mod listener;
mod schema;
mod tokens;

use std::sync::Arc;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use parley_crypto::handle::Handle;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::blobs::{Begun, BlobMeta, BlobWrite};
use super::contract::{ChangeSink, Store};
use super::directory::{Registration, Rotated, RotationWrite};
use super::groups::{Appended, Created, EpochKey, GroupMeta, StoredEntry, TtlSet};
use super::inbox::{Deposited, StoredDelivery};
use super::key_packages::{Claimed, Published, Upload};
use super::{Released, StoreError};
use crate::limits::InboxQuota;
use crate::metrics::Metrics;

pub use admin::StoreProbe;
pub(crate) use schema::SCHEMA_VERSION;

/// Connections a relay node keeps to the database at most.
const POOL_SIZE: usize = 16;

/// A failure of the PostgreSQL backend.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PgError {
    /// A query failed or the connection broke.
    #[error("PostgreSQL: {0}")]
    Query(#[from] tokio_postgres::Error),
    /// No connection could be had from the pool.
    #[error("PostgreSQL connection pool: {0}")]
    Pool(#[from] deadpool_postgres::PoolError),
    /// The database was migrated by a newer relay.
    #[error("the database schema is at version {0}, newer than this relay knows ({SCHEMA_VERSION}); upgrade the relay")]
    NewerSchema(i32),
    /// The store URL does not parse, or the pool cannot be built from it.
    #[error("store URL: {0}")]
    Config(String),
    /// A stored value is outside what this relay writes (a negative count, say).
    #[error("stored {0} is out of range")]
    OutOfRange(&'static str),
}

/// The relay's storage in a PostgreSQL database; cheap to clone.
#[derive(Clone)]
pub(crate) struct PgStore {
    pool: Pool,
    /// How to open the connection that listens for other nodes' writes.
    config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
    metrics: Metrics,
}

impl PgStore {
    /// A store for the database `url` names (`postgres://user@host/db`; TLS as its
    /// `sslmode` asks, verified against the system's root certificates). Connects only at
    /// [`Store::start`] or the first query.
    pub(crate) fn new(url: &str) -> Result<PgStore, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e: tokio_postgres::Error| PgError::Config(e.to_string()))?;
        let tls = MakeRustlsConnect::new(tls_config());
        let manager = Manager::from_config(
            config.clone(),
            tls.clone(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(|e| PgError::Config(e.to_string()))?;
        Ok(PgStore {
            pool,
            config,
            tls,
            metrics: Metrics::new(None),
        })
    }

    /// [`PgStore::new`], then [`Store::start`].
    #[cfg(test)]
    pub(crate) async fn connect(url: &str) -> Result<PgStore, StoreError> {
        let store = PgStore::new(url)?;
        store.start(Arc::new(|_| false)).await?;
        Ok(store)
    }

    /// Connects and reads the schema version, changing nothing (`check-config`).
    pub(crate) async fn probe(&self) -> Result<StoreProbe, StoreError> {
        admin::probe(self).await
    }

    /// Frees `handle`: see [`crate::release_handle_postgres`].
    pub(crate) async fn release_handle(&self, handle: &Handle) -> Result<Released, StoreError> {
        admin::release_handle(self, handle).await
    }

    /// A connection from the pool.
    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        Ok(self.pool.get().await.map_err(PgError::from)?)
    }
}

/// rustls with the system's root certificates, for a database that asks for TLS.
fn tls_config() -> rustls::ClientConfig {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A certificate the system holds but rustls cannot use is skipped, as a browser would.
        let _ = roots.add(cert);
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
        .unwrap_or_else(|_| {
            rustls::ClientConfig::builder()
                .with_root_certificates(rustls::RootCertStore::empty())
                .with_no_client_auth()
        })
}

/// Turns `rows` (each with its payload in column `payload`) into records with `make`,
/// stopping before the payloads pass `max_bytes`, but always taking the first: a page as the
/// services serve it.
fn within_budget<T>(
    rows: Vec<tokio_postgres::Row>,
    payload: usize,
    max_bytes: usize,
    mut make: impl FnMut(&tokio_postgres::Row, Vec<u8>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut bytes = 0usize;
    for row in rows {
        let body: Vec<u8> = row.try_get(payload).map_err(PgError::from)?;
        bytes = bytes.saturating_add(body.len());
        if bytes > max_bytes && !out.is_empty() {
            break;
        }
        out.push(make(&row, body)?);
    }
    Ok(out)
}

/// A count or time kept as BIGINT, back to the unsigned value the relay uses.
fn unsigned(value: i64, what: &'static str) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| PgError::OutOfRange(what).into())
}

/// An unsigned value as BIGINT; values past `i64::MAX` (never written) saturate.
fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[tonic::async_trait]
impl Store for PgStore {
    fn metrics(&self) -> Metrics {
        self.metrics.clone()
    }

    async fn flush(&self) -> Result<(), StoreError> {
        // Every statement commits durably (synchronous_commit is the server's to set).
        Ok(())
    }

    async fn start(&self, changes: ChangeSink) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        schema::migrate(&mut client).await?;
        tokio::spawn(listener::run(
            self.config.clone(),
            self.tls.clone(),
            changes,
        ));
        Ok(())
    }

    fn shared(&self) -> bool {
        true
    }

    async fn record_challenge(
        &self,
        challenge: &[u8; 32],
        handle: &Handle,
        expires_at_ms: u64,
    ) -> Result<(), StoreError> {
        tokens::record_challenge(self, challenge, handle, expires_at_ms).await
    }

    async fn spend_challenge(
        &self,
        challenge: &[u8; 32],
        handle: &Handle,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        tokens::spend_challenge(self, challenge, handle, now_ms).await
    }

    async fn first_sighting(
        &self,
        digest: &[u8; 32],
        now_ms: u64,
        forget_at_ms: u64,
    ) -> Result<bool, StoreError> {
        tokens::first_sighting(self, digest, now_ms, forget_at_ms).await
    }

    async fn expire_tokens(&self, now_ms: u64) -> Result<u64, StoreError> {
        tokens::expire(self, now_ms).await
    }

    async fn register(&self, handle: &Handle, record: &[u8]) -> Result<Registration, StoreError> {
        directory::register(self, handle, record).await
    }

    async fn lookup(&self, handle: &Handle) -> Result<Option<Vec<u8>>, StoreError> {
        directory::lookup(self, handle).await
    }

    async fn rotate(
        &self,
        handle: &Handle,
        write: RotationWrite<'_>,
        keep: usize,
    ) -> Result<Rotated, StoreError> {
        directory::rotate(self, handle, write, keep).await
    }

    async fn rotations(&self, handle: &Handle) -> Result<Vec<Vec<u8>>, StoreError> {
        directory::rotations(self, handle).await
    }

    async fn publish_key_packages(
        &self,
        handle: &Handle,
        upload: Upload<'_>,
        max_held: usize,
    ) -> Result<Published, StoreError> {
        directory::publish_key_packages(self, handle, upload, max_held).await
    }

    async fn claim_key_package(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError> {
        directory::claim_key_package(self, handle).await
    }

    async fn claim_last_resort(&self, handle: &Handle) -> Result<Option<Claimed>, StoreError> {
        directory::claim_last_resort(self, handle).await
    }

    async fn deposit(
        &self,
        handle: &Handle,
        envelope: &[u8],
        received_at_ms: u64,
        quota: InboxQuota,
    ) -> Result<Deposited, StoreError> {
        inbox::deposit(self, handle, envelope, received_at_ms, quota).await
    }

    async fn pending_deliveries(
        &self,
        handle: &Handle,
        from_id: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredDelivery>, StoreError> {
        inbox::pending(self, handle, from_id, limit, max_bytes).await
    }

    async fn acknowledge(&self, handle: &Handle, ids: &[u64]) -> Result<(), StoreError> {
        inbox::acknowledge(self, handle, ids).await
    }

    async fn expire_deliveries(&self, cutoff_ms: u64) -> Result<u64, StoreError> {
        inbox::expire(self, cutoff_ms).await
    }

    async fn create_group(
        &self,
        group_id: &[u8; 32],
        access_key: &[u8; 32],
    ) -> Result<Created, StoreError> {
        groups::create(self, group_id, access_key).await
    }

    async fn group_meta(&self, group_id: &[u8; 32]) -> Result<Option<GroupMeta>, StoreError> {
        groups::meta(self, group_id).await
    }

    async fn epoch_key(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
    ) -> Result<Option<EpochKey>, StoreError> {
        groups::epoch_key(self, group_id, epoch).await
    }

    async fn append(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        message: &[u8],
        next_key: Option<&[u8; 32]>,
        stored_at_ms: u64,
    ) -> Result<Appended, StoreError> {
        groups::append(self, group_id, epoch, message, next_key, stored_at_ms).await
    }

    async fn read_entries(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        first_seq: u64,
        from_seq: u64,
        limit: usize,
        max_bytes: usize,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let from = from_seq.max(first_seq);
        groups::read(self, group_id, epoch, from, limit, max_bytes).await
    }

    async fn set_group_ttl(
        &self,
        group_id: &[u8; 32],
        epoch: u64,
        ttl_secs: u64,
    ) -> Result<TtlSet, StoreError> {
        groups::set_ttl(self, group_id, epoch, ttl_secs).await
    }

    async fn expire_entries(
        &self,
        now_ms: u64,
        default_ms: Option<u64>,
    ) -> Result<u64, StoreError> {
        groups::expire(self, now_ms, default_ms).await
    }

    async fn begin_blob(&self, blob_id: &[u8; 32], meta: BlobMeta) -> Result<Begun, StoreError> {
        blobs::begin(self, blob_id, meta).await
    }

    async fn put_chunks(
        &self,
        blob_id: &[u8; 32],
        meta: &mut BlobMeta,
        chunks: Vec<u8>,
        count: u32,
        _durable: bool,
    ) -> Result<BlobWrite, StoreError> {
        // Each batch commits durably with its count: there is no write-then-sync split here.
        blobs::put(self, blob_id, meta, chunks, count).await
    }

    async fn commit_blob(
        &self,
        blob_id: &[u8; 32],
        _meta: &BlobMeta,
    ) -> Result<BlobWrite, StoreError> {
        blobs::still_there(self, blob_id).await
    }

    async fn blob(&self, blob_id: &[u8; 32]) -> Result<Option<BlobMeta>, StoreError> {
        blobs::meta(self, blob_id).await
    }

    async fn load_chunk(
        &self,
        blob_id: &[u8; 32],
        index: u32,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        blobs::chunk(self, blob_id, index).await
    }

    async fn shorten_blob(
        &self,
        blob_id: &[u8; 32],
        read_hash: &[u8; 32],
        ttl_secs: u64,
    ) -> Result<Option<BlobMeta>, StoreError> {
        blobs::shorten(self, blob_id, read_hash, ttl_secs).await
    }

    async fn expire_blobs(&self, now_ms: u64, default_ms: Option<u64>) -> Result<u64, StoreError> {
        blobs::expire(self, now_ms, default_ms).await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use parley_testkit::postgres::{scratch_database, ScratchDatabase};

    use super::super::conformance::{conformance_suite, Outage};
    use super::super::SharedStore;
    use super::{PgStore, SCHEMA_VERSION};

    /// A store's database, made to refuse connections on demand.
    struct Down(ScratchDatabase);

    #[tonic::async_trait]
    impl Outage for Down {
        async fn begin(&self) {
            self.0.set_reachable(false).await;
        }

        async fn end(&self) {
            self.0.set_reachable(true).await;
        }
    }

    async fn open() -> Option<(SharedStore, Down)> {
        let (url, database) = scratch_database().await?;
        let store = PgStore::connect(&url).await.unwrap();
        Some((Arc::new(store), Down(database)))
    }

    conformance_suite!(open().await);

    #[tokio::test]
    async fn challenges_and_remembered_requests_are_good_once_until_their_time() {
        let Some((store, _database)) = open().await else {
            return;
        };
        let alice = parley_crypto::handle::Handle::parse("alice").unwrap();
        let bob = parley_crypto::handle::Handle::parse("bob").unwrap();
        assert!(store.shared());
        store
            .record_challenge(&[1; 32], &alice, 1_000)
            .await
            .unwrap();
        store
            .record_challenge(&[2; 32], &alice, 1_000)
            .await
            .unwrap();
        store
            .record_challenge(&[3; 32], &alice, 1_000)
            .await
            .unwrap();
        assert!(store.spend_challenge(&[1; 32], &alice, 999).await.unwrap());
        assert!(
            !store.spend_challenge(&[1; 32], &alice, 999).await.unwrap(),
            "spent"
        );
        assert!(
            !store.spend_challenge(&[2; 32], &bob, 999).await.unwrap(),
            "another's"
        );
        assert!(
            !store.spend_challenge(&[2; 32], &alice, 999).await.unwrap(),
            "tried once"
        );
        assert!(
            !store
                .spend_challenge(&[3; 32], &alice, 1_000)
                .await
                .unwrap(),
            "expired"
        );

        assert!(store.first_sighting(&[7; 32], 0, 600).await.unwrap());
        assert!(!store.first_sighting(&[7; 32], 600, 1_200).await.unwrap());
        assert!(
            store.first_sighting(&[7; 32], 601, 1_201).await.unwrap(),
            "forgotten"
        );
        store
            .record_challenge(&[4; 32], &alice, 2_000)
            .await
            .unwrap();
        assert_eq!(store.expire_tokens(2_000).await.unwrap(), 2);
        assert!(!store
            .spend_challenge(&[4; 32], &alice, 1_500)
            .await
            .unwrap());
    }

    #[tokio::test]
    async fn migrations_apply_once_and_a_newer_schema_is_refused() {
        let Some((url, _database)) = scratch_database().await else {
            return;
        };
        // Three nodes starting at once: the advisory lock makes one of them migrate.
        let starts = (0..3).map(|_| PgStore::connect(&url));
        for started in futures::future::join_all(starts).await {
            started.unwrap();
        }
        let (client, connection) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        let versions = client
            .query("SELECT version FROM parley_schema ORDER BY version", &[])
            .await
            .unwrap();
        let versions: Vec<i32> = versions.iter().map(|row| row.get(0)).collect();
        assert_eq!(versions, (1..=SCHEMA_VERSION).collect::<Vec<_>>());
        client
            .execute(
                "INSERT INTO parley_schema (version) VALUES ($1)",
                &[&(SCHEMA_VERSION + 1)],
            )
            .await
            .unwrap();
        let refused = PgStore::connect(&url).await.err().unwrap();
        assert!(
            refused.to_string().contains("newer than this relay knows"),
            "{refused}"
        );
    }
}
