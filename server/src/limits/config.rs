//! Operator-set abuse limits: the `[limits]` section of the configuration file.

use std::time::Duration;

use parley_crypto::document::CHUNK_LEN;

use super::invalid::InvalidLimit;
use super::quota::InboxQuota;

/// Abuse limits of a relay. Every field has a default suited to a relay serving an
/// organization of a few thousand users; each can be set in the `[limits]` section of the
/// configuration file or as `PARLEY_RELAY_LIMITS_<FIELD>` (upper-case field name).
///
/// Per-source limits key on the peer's IP address (IPv6 addresses by their /64 prefix). Behind
/// a proxy or load balancer every client shares the proxy's address: set
/// `source_requests_per_second = 0` there and limit at the proxy instead.
// Serialize: the configuration layer lists the fields (in declaration order) and their
// defaults from the serialized form.
#[derive(Clone, Debug, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Requests per second one source address may sustain, over all RPCs (a Subscribe counts
    /// once, when opened). Beyond it, calls fail with RESOURCE_EXHAUSTED before their body is
    /// read. 0 disables per-source limiting. Default 200.
    pub source_requests_per_second: u32,
    /// Requests one source may make at once after being idle (the bucket size): room for the
    /// bursts of clients that share an address (behind NAT) starting up together.
    /// Default 1000.
    pub source_burst: u32,
    /// Milliseconds a call refused by the per-source limit is held before its
    /// RESOURCE_EXHAUSTED answer, so that a client retrying at once or keeping many calls in
    /// flight waits instead of making the relay parse call after call (at most 10000 calls are
    /// held at a time; beyond that, refusals are immediate). 0 answers at once. 0 to 10000.
    /// Default 250.
    pub refusal_delay_ms: u64,
    /// Pending (unacknowledged) deliveries one inbox may hold; deposits beyond it fail with
    /// RESOURCE_EXHAUSTED. Default 10000.
    pub inbox_max_messages: u64,
    /// Pending envelope bytes one inbox may hold; deposits beyond it fail with
    /// RESOURCE_EXHAUSTED. Default 104857600 (100 MiB).
    pub inbox_max_bytes: u64,
    /// KeyPackage claims per minute for one target handle, whoever claims; beyond it, a claim
    /// gets the handle's last-resort KeyPackage (reusable) instead of a one-time one, so that
    /// nobody can keep draining a user's one-time KeyPackages faster than this, yet nobody is
    /// left unable to add them. 0 disables the limit. Default 30.
    pub key_package_claims_per_minute: u32,
    /// Claims for one handle allowed at once after a quiet period: room for a user being added
    /// to many groups at the same moment. Default 50.
    pub key_package_claim_burst: u32,
    /// KeyPackage claims per minute that one source address may make for one target handle;
    /// checked before the handle's own budget, so that a stranger spends only this share of
    /// it. Beyond it, claims fail with RESOURCE_EXHAUSTED. An adder claims one KeyPackage per
    /// person added. 0 disables the limit. Default 10.
    pub key_package_claims_per_source_per_minute: u32,
    /// Claims one source may make for one handle at once. Default 20.
    pub key_package_claim_source_burst: u32,
    /// Concurrent HTTP/2 streams (calls in flight, open subscriptions included) per client
    /// connection; clients queue calls beyond it. Default 100.
    pub max_concurrent_streams: u32,
    /// Open Subscribe streams (inbox and groups) over all clients; further Subscribe calls
    /// fail with RESOURCE_EXHAUSTED until one closes. Default 10000.
    pub max_subscriptions: u32,
    /// Open Subscribe streams from one source address, so that a few sources cannot take
    /// every slot of `max_subscriptions`. A client with its event stream running holds
    /// `1 + G` (G groups, at most 256); clients behind one NAT share the address. 0: no
    /// share. Default 1000.
    pub max_subscriptions_per_source: u32,
    /// Owner-auth challenges one source address may be issued within two minutes (each
    /// owner call takes one), so that a few sources cannot take the relay's 100000; beyond
    /// it, RESOURCE_EXHAUSTED for that source only. Clients behind one NAT share it. 0: no
    /// share. Default 3000.
    pub challenges_per_source: u32,
    /// Connections one source address may hold open at once; one more is closed as soon as
    /// it is accepted. A client holds one per group it is subscribed to plus two (at most
    /// 258) and short-lived ones for deposits, claims and lookups; clients behind one NAT
    /// share it. 0: no share. Default 1024.
    pub max_connections_per_source: u32,
    /// Largest request message the relay decodes, in bytes; bigger ones fail with OUT_OF_RANGE
    /// before they are parsed. Envelopes and group messages are at most 1 MiB, so values below
    /// about 1.1 MiB refuse some valid messages. 16384 to 67108864. Default 2097152 (2 MiB).
    pub max_message_bytes: usize,
    /// Seconds a unary call (or the opening of a Subscribe) may take, body upload included,
    /// before it fails with CANCELLED ("Timeout expired"); a shorter `grpc-timeout` sent by
    /// the client wins. Subscription streams themselves are not limited. 0 disables.
    /// Default 30.
    pub request_timeout_secs: u64,
    /// Seconds an inbox delivery or group log entry is kept before the retention sweeper
    /// deletes it, acknowledged or not. 0 keeps everything until acknowledged. Default 1814400
    /// (21 days).
    pub retention_secs: u64,
    /// Seconds between retention sweeps. Default 600.
    pub sweep_interval_secs: u64,
    /// At start, the database is compacted (live data copied to a fresh database, which
    /// returns freed space to the file system) when its size on disk exceeds this many times
    /// the bytes of live data. 0 disables compaction at start. Default 4.
    pub compact_on_open_ratio: u32,
    /// Databases smaller than this many bytes on disk are never compacted at start.
    /// Default 268435456 (256 MiB).
    pub compact_on_open_min_bytes: u64,
    /// Free bytes the relay keeps on the file system of its data directory: below it, calls
    /// that add data (deposits, group messages, registrations, KeyPackage uploads) fail with
    /// UNAVAILABLE, while reads, acknowledgements and deletions go on. The storage engine
    /// cannot be trusted with a full disk (a restart after one may lose recent writes), so
    /// this floor keeps it from ever getting there. 0 disables the check. Default 67108864
    /// (64 MiB).
    pub min_free_disk_bytes: u64,
    /// Bytes of stored data the embedded database keeps in memory (sled's page cache; not
    /// used with PostgreSQL). What is not cached is read from disk when asked for. sled's own
    /// default, 1 GiB, would keep every stored KeyPackage of a few thousand people resident
    /// (about 14 KiB each) though most are read once at most. At least 1048576 (1 MiB).
    /// Default 67108864 (64 MiB).
    pub storage_cache_bytes: u64,
    /// Largest blob (a document's sealed chunks, padded to its bucket) the relay stores, in
    /// bytes; a larger upload fails with OUT_OF_RANGE before any chunk is taken. Default
    /// 268435456 (256 MiB).
    pub max_blob_bytes: u64,
    /// Blob bytes one source address may upload per hour (one blob of `max_blob_bytes` may
    /// always go at once); beyond it, RESOURCE_EXHAUSTED until the quota refills, and the
    /// upload can be resumed. Clients behind one NAT share it. 0 disables the quota.
    /// Default 1073741824 (1 GiB).
    pub blob_bytes_per_source_per_hour: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            source_requests_per_second: 200,
            source_burst: 1000,
            refusal_delay_ms: 250,
            inbox_max_messages: 10_000,
            inbox_max_bytes: 100 << 20,
            key_package_claims_per_minute: 30,
            key_package_claim_burst: 50,
            key_package_claims_per_source_per_minute: 10,
            key_package_claim_source_burst: 20,
            max_concurrent_streams: 100,
            max_subscriptions: 10_000,
            max_subscriptions_per_source: 1000,
            challenges_per_source: 3000,
            max_connections_per_source: 1024,
            max_message_bytes: 2 << 20,
            request_timeout_secs: 30,
            retention_secs: 21 * 24 * 60 * 60,
            sweep_interval_secs: 600,
            compact_on_open_ratio: 4,
            compact_on_open_min_bytes: 256 << 20,
            min_free_disk_bytes: 64 << 20,
            storage_cache_bytes: 64 << 20,
            max_blob_bytes: 256 << 20,
            blob_bytes_per_source_per_hour: 1 << 30,
        }
    }
}

/// Smallest accepted `max_message_bytes`: below it, ordinary requests would not fit.
const MIN_MESSAGE_BYTES: usize = 16 << 10;
/// Largest accepted `max_message_bytes`.
const MAX_MESSAGE_BYTES: usize = 64 << 20;
/// Smallest accepted `storage_cache_bytes`: below it every read goes to the disk.
const MIN_STORAGE_CACHE_BYTES: u64 = 1 << 20;
/// Largest accepted `refusal_delay_ms`: longer holds would only look like an outage.
const MAX_REFUSAL_DELAY_MS: u64 = 10_000;

impl LimitsConfig {
    /// Checks that every value is usable; the error names the field at fault, so that the
    /// configuration layer can say which layer set it without reading the message.
    pub fn validate(&self) -> Result<(), InvalidLimit> {
        let fail = InvalidLimit::new;
        if self.source_requests_per_second > 0 && self.source_burst == 0 {
            return Err(fail(
                "source_burst",
                "limits.source_burst must be at least 1 when source_requests_per_second is set"
                    .to_owned(),
            ));
        }
        if self.key_package_claims_per_minute > 0 && self.key_package_claim_burst == 0 {
            return Err(fail("key_package_claim_burst", "limits.key_package_claim_burst must be at least 1 when key_package_claims_per_minute is set".to_owned()));
        }
        if self.key_package_claims_per_source_per_minute > 0
            && self.key_package_claim_source_burst == 0
        {
            return Err(fail("key_package_claim_source_burst", "limits.key_package_claim_source_burst must be at least 1 when key_package_claims_per_source_per_minute is set".to_owned()));
        }
        if self.refusal_delay_ms > MAX_REFUSAL_DELAY_MS {
            return Err(fail(
                "refusal_delay_ms",
                format!(
                    "limits.refusal_delay_ms must be 0 to {MAX_REFUSAL_DELAY_MS}, got {}",
                    self.refusal_delay_ms
                ),
            ));
        }
        let at_least_one = [
            ("inbox_max_messages", self.inbox_max_messages),
            ("inbox_max_bytes", self.inbox_max_bytes),
            (
                "max_concurrent_streams",
                u64::from(self.max_concurrent_streams),
            ),
            ("max_subscriptions", u64::from(self.max_subscriptions)),
        ];
        if let Some((field, _)) = at_least_one.into_iter().find(|(_, value)| *value == 0) {
            return Err(fail(field, format!("limits.{field} must be at least 1")));
        }
        if !(MIN_MESSAGE_BYTES..=MAX_MESSAGE_BYTES).contains(&self.max_message_bytes) {
            return Err(fail(
                "max_message_bytes",
                format!(
                    "limits.max_message_bytes must be {MIN_MESSAGE_BYTES} to {MAX_MESSAGE_BYTES}, got {}",
                    self.max_message_bytes
                ),
            ));
        }
        if self.max_blob_bytes < CHUNK_LEN as u64 {
            return Err(fail(
                "max_blob_bytes",
                format!(
                    "limits.max_blob_bytes must be at least {CHUNK_LEN} (one chunk), got {}",
                    self.max_blob_bytes
                ),
            ));
        }
        if self.storage_cache_bytes < MIN_STORAGE_CACHE_BYTES {
            return Err(fail(
                "storage_cache_bytes",
                format!(
                    "limits.storage_cache_bytes must be at least {MIN_STORAGE_CACHE_BYTES}, got {}",
                    self.storage_cache_bytes
                ),
            ));
        }
        if self.sweep_interval_secs == 0 {
            return Err(fail(
                "sweep_interval_secs",
                "limits.sweep_interval_secs must be at least 1".to_owned(),
            ));
        }
        Ok(())
    }

    /// The server-side deadline of a call, if any.
    pub(crate) fn request_timeout(&self) -> Option<Duration> {
        (self.request_timeout_secs > 0).then(|| Duration::from_secs(self.request_timeout_secs))
    }

    /// How long a refused call is held.
    pub(crate) fn refusal_delay(&self) -> Duration {
        Duration::from_millis(self.refusal_delay_ms)
    }

    /// Blob chunks per hour one source may upload, and how many it may send at once.
    pub(crate) fn blob_chunk_quota(&self) -> (u32, u32) {
        let chunk = CHUNK_LEN as u64;
        let per_hour = self.blob_bytes_per_source_per_hour.div_ceil(chunk);
        let burst = self.max_blob_bytes.div_ceil(chunk);
        (
            u32::try_from(per_hour).unwrap_or(u32::MAX),
            u32::try_from(burst).unwrap_or(u32::MAX),
        )
    }

    /// How long deliveries and entries are kept, if they expire at all.
    pub(crate) fn retention(&self) -> Option<Duration> {
        (self.retention_secs > 0).then(|| Duration::from_secs(self.retention_secs))
    }

    /// Time between retention sweeps (at least a second).
    pub(crate) fn sweep_interval(&self) -> Duration {
        Duration::from_secs(self.sweep_interval_secs.max(1))
    }

    /// The per-inbox quota.
    pub(crate) fn inbox_quota(&self) -> InboxQuota {
        InboxQuota {
            max_messages: self.inbox_max_messages,
            max_bytes: self.inbox_max_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        LimitsConfig::default().validate().unwrap();
    }

    #[test]
    fn validation_names_the_field() {
        let bad = LimitsConfig {
            max_message_bytes: 10,
            ..LimitsConfig::default()
        };
        let error = bad.validate().unwrap_err();
        assert_eq!(error.field, "max_message_bytes");
        assert!(error.to_string().contains("max_message_bytes"));
        let bad = LimitsConfig {
            max_concurrent_streams: 0,
            ..LimitsConfig::default()
        };
        let error = bad.validate().unwrap_err();
        assert_eq!(error.field, "max_concurrent_streams");
        assert!(error.to_string().contains("max_concurrent_streams"));
        let bad = LimitsConfig {
            storage_cache_bytes: 4096,
            ..LimitsConfig::default()
        };
        assert_eq!(bad.validate().unwrap_err().field, "storage_cache_bytes");
    }

    #[test]
    fn toml_sets_some_fields_and_refuses_unknown_ones() {
        let limits: LimitsConfig =
            toml::from_str("inbox_max_messages = 5\nretention_secs = 60\n").unwrap();
        assert_eq!(limits.inbox_max_messages, 5);
        assert_eq!(limits.retention(), Some(Duration::from_secs(60)));
        assert_eq!(limits.source_burst, LimitsConfig::default().source_burst);
        let unknown = toml::from_str::<LimitsConfig>("inbox_max_mesages = 5\n").unwrap_err();
        assert!(unknown.to_string().contains("unknown field"));
    }

    #[test]
    fn zero_disables_optional_limits() {
        let off = LimitsConfig {
            request_timeout_secs: 0,
            retention_secs: 0,
            source_requests_per_second: 0,
            source_burst: 0,
            ..LimitsConfig::default()
        };
        off.validate().unwrap();
        assert_eq!(off.request_timeout(), None);
        assert_eq!(off.retention(), None);
    }
}
