//! The built-in defaults, the first layer.

use std::net::SocketAddr;

use crate::config::{RelayConfig, StoreSetting};
use crate::limits::LimitsConfig;

/// The documented defaults, as the text a flag would give (they are parsed like one), and
/// the `[limits]` table.
#[derive(serde::Serialize)]
pub(super) struct Defaults {
    listen: String,
    data: String,
    store: String,
    tls_cert: String,
    tls_key: String,
    plaintext: String,
    metrics_listen: String,
    log_format: String,
    log_level: String,
    shutdown_grace: String,
    limits: LimitsConfig,
}

impl Defaults {
    /// The documented defaults.
    pub(super) fn new() -> Defaults {
        let relay = RelayConfig::default();
        Defaults {
            listen: SocketAddr::from(([127, 0, 0, 1], 7443)).to_string(),
            data: relay.data_dir.display().to_string(),
            store: match relay.store {
                StoreSetting::Sled => "sled".to_owned(),
                StoreSetting::Postgres(url) => url,
            },
            // The empty string is "not set" for the optional keys.
            tls_cert: String::new(),
            tls_key: String::new(),
            plaintext: false.to_string(),
            metrics_listen: String::new(),
            log_format: crate::logging::LogFormat::Human.to_string(),
            log_level: "info".to_owned(),
            shutdown_grace: format!("{}ms", relay.shutdown_grace.as_millis()),
            limits: relay.limits,
        }
    }
}
