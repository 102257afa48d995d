//! How an operator configures a relay.

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parley_crypto::clock::Clock;

use crate::clock::SystemClock;
use crate::limits::LimitsConfig;
use crate::store::FlushPolicy;

/// Where a relay keeps its data and how it secures connections.
#[derive(Clone)]
pub struct RelayConfig {
    /// Directory holding the embedded database and, with [`TlsSetting::SelfSigned`], the
    /// certificate. Created if missing.
    pub data_dir: PathBuf,
    /// Where the relay's data lives: the embedded database in `data_dir` (the default) or a
    /// PostgreSQL database that several relay nodes may share.
    pub store: StoreSetting,
    /// Transport security.
    pub tls: TlsSetting,
    /// When writes reach the disk. Always [`FlushPolicy::GroupCommit`] in production; the
    /// other policies are benchmark baselines and are not offered in the TOML or on flags.
    pub flush: FlushPolicy,
    /// How long the relay keeps serving after the shutdown signal while its health reports
    /// `NOT_SERVING`, so load balancers stop sending new calls before it stops accepting them.
    pub shutdown_grace: Duration,
    /// Abuse limits, retention and compaction (the `[limits]` section).
    pub limits: LimitsConfig,
    /// The wall clock every time-based decision reads: challenge expiry, the replay window
    /// and freshness of group requests, token-bucket refills, arrival times and retention.
    /// Always [`SystemClock`] in production; tests hand in a clock they move.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for RelayConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new field cannot be left out by accident; a clock has no
        // useful Debug form.
        let RelayConfig {
            data_dir,
            store,
            tls,
            flush,
            shutdown_grace,
            limits,
            clock: _,
        } = self;
        f.debug_struct("RelayConfig")
            .field("data_dir", data_dir)
            .field("store", store)
            .field("tls", tls)
            .field("flush", flush)
            .field("shutdown_grace", shutdown_grace)
            .field("limits", limits)
            .finish_non_exhaustive()
    }
}

impl Default for RelayConfig {
    /// The documented defaults: data in `./parley-relay-data`, a self-signed certificate, the
    /// system clock.
    fn default() -> Self {
        RelayConfig {
            data_dir: PathBuf::from("./parley-relay-data"),
            store: StoreSetting::Sled,
            tls: TlsSetting::SelfSigned,
            flush: FlushPolicy::GroupCommit,
            shutdown_grace: Duration::ZERO,
            limits: LimitsConfig::default(),
            clock: Arc::new(SystemClock),
        }
    }
}

/// Where a relay keeps its data.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSetting {
    /// The embedded database (sled) in `<data_dir>/db`: one relay process.
    Sled,
    /// A PostgreSQL database, by URL (`postgres://user@host/db`, TLS as its `sslmode` asks,
    /// verified against the system's roots): one or several relay processes.
    Postgres(String),
}

impl StoreSetting {
    /// Reads a store as the configuration writes it: `sled`, or a `postgres://` (or
    /// `postgresql://`) URL.
    pub fn parse(text: &str) -> Result<StoreSetting, String> {
        if text == "sled" {
            return Ok(StoreSetting::Sled);
        }
        if !(text.starts_with("postgres://") || text.starts_with("postgresql://")) {
            return Err(
                "expected `sled` or a URL such as postgres://user@host/database".to_owned(),
            );
        }
        text.parse::<tokio_postgres::Config>()
            .map_err(|e| format!("not a PostgreSQL URL: {e}"))?;
        Ok(StoreSetting::Postgres(text.to_owned()))
    }

    /// The store as the configuration writes it, with any password replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            StoreSetting::Sled => "sled".to_owned(),
            StoreSetting::Postgres(url) => redact_password(url),
        }
    }
}

impl fmt::Debug for StoreSetting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A database password must not reach logs through a Debug print.
        f.write_str(&self.redacted())
    }
}

/// `url` with the password of its user part, if any, replaced by `***`.
fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

/// Transport security of a relay.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsSetting {
    /// No TLS. Refused at [`Relay::serve`](crate::Relay::serve) unless the listener is bound to
    /// a loopback address: for development and tests only.
    Plaintext,
    /// A self-signed certificate for `localhost`, `127.0.0.1` and `::1`, created in
    /// `<data_dir>/tls/` on first start and reused afterwards. Clients pin its fingerprint.
    SelfSigned,
    /// An operator-provided certificate chain and private key, both PEM files.
    Files {
        /// PEM certificate chain, leaf first.
        cert: PathBuf,
        /// PEM private key (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
}
