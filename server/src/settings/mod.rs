//! The relay binary's layered configuration: built-in defaults, then a TOML file
//! (`--config PATH` or `PARLEY_RELAY_CONFIG`), then `PARLEY_RELAY_*` environment variables,
//! then command-line flags; each later layer wins.
//!
//! Every key has the same name in all layers: `tls_cert` in the file is `PARLEY_RELAY_TLS_CERT`
//! in the environment and `--tls-cert` on the command line. Keys of the `[limits]` table are
//! `PARLEY_RELAY_LIMITS_<FIELD>` in the environment. Unknown keys are errors, and a bad value
//! is reported with its key and the layer that set it.
//!
//! The layers are merged by figment; the layer of each value is read back from the metadata
//! of the figment provider that set it.

mod conflicts;
mod defaults;
mod env;
mod error;
mod figment_error;
mod file;
mod keys;
mod layers;
mod limits;
mod origin;
mod render;
mod source;
mod value;

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use error::SettingsError;
pub use source::{Setting, Source};

use crate::config::{RelayConfig, StoreSetting, TlsSetting};
use crate::limits::LimitsConfig;
use crate::logging::LogFormat;
use env::EnvLayer;
use figment::Figment;
use file::FileLayer;
use keys::TopLevel;
use layers::Layers;

/// Prefix of every environment variable the relay reads.
pub const ENV_PREFIX: &str = "PARLEY_RELAY_";
/// Environment variable naming the configuration file (`--config` wins over it).
pub const CONFIG_ENV: &str = "PARLEY_RELAY_CONFIG";

/// Every top-level key, in the order the effective configuration lists them.
pub const KEYS: [&str; 10] = [
    "listen",
    "data",
    "store",
    "tls_cert",
    "tls_key",
    "plaintext",
    "metrics_listen",
    "log_format",
    "log_level",
    "shutdown_grace",
];

/// The environment variable of a top-level key.
pub fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// The command-line flag of a top-level key.
pub fn flag_name(key: &str) -> String {
    format!("--{}", key.replace('_', "-"))
}

/// The effective configuration of the relay binary, each value with its origin.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The configuration file read, if any.
    pub config_file: Option<PathBuf>,
    /// Address the gRPC server listens on. Default `127.0.0.1:7443`.
    pub listen: Setting<SocketAddr>,
    /// Data directory. Default `./parley-relay-data`.
    pub data: Setting<PathBuf>,
    /// Where the data lives: `sled` in the data directory (default) or a PostgreSQL URL.
    pub store: Setting<StoreSetting>,
    /// PEM certificate chain to serve instead of the self-signed certificate.
    pub tls_cert: Setting<Option<PathBuf>>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Setting<Option<PathBuf>>,
    /// Serve without TLS (loopback addresses only). Default false.
    pub plaintext: Setting<bool>,
    /// Address of the Prometheus `/metrics` listener; none by default.
    pub metrics_listen: Setting<Option<SocketAddr>>,
    /// Log line format. Default human.
    pub log_format: Setting<LogFormat>,
    /// Log filter. Default `info`.
    pub log_level: Setting<String>,
    /// Time between the shutdown signal (reported as NOT_SERVING) and refusing new calls.
    /// Default 0.
    pub shutdown_grace: Setting<Duration>,
    /// Abuse limits, the `[limits]` table.
    pub limits: LimitsConfig,
    /// The layer of each `[limits]` field that is not at its default.
    limits_sources: BTreeMap<String, Source>,
}

impl Settings {
    /// Loads the configuration: defaults, then the file (`config_flag`, else
    /// `PARLEY_RELAY_CONFIG` from `env`), then the `PARLEY_RELAY_*` variables of `env`, then
    /// `flags` (pairs of key, as in the file, and value text).
    pub fn load(
        config_flag: Option<PathBuf>,
        env: impl IntoIterator<Item = (OsString, OsString)>,
        flags: &[(&str, String)],
    ) -> Result<Settings, SettingsError> {
        let (env, config_from_env) = EnvLayer::read(env)?;
        let config_file = config_flag.or(config_from_env);
        let file = config_file.as_deref().map(FileLayer::read).transpose()?;
        let layers = Layers::new(file, env, flags);
        // Each layer that a later one can override is first read alone over the defaults: a
        // bad value is an error even where it is overridden, so that dropping the override
        // (a flag, a variable) never brings a broken value into effect.
        for alone in layers.overridable() {
            Settings::read(&alone, None)?;
        }
        let settings = Settings::read(&layers.merged(), config_file)?;
        limits::validate(&settings.limits, &settings.limits_sources)?;
        conflicts::check(&settings)?;
        Ok(settings)
    }

    /// The settings in `figment`, each value parsed and typed but not checked against the
    /// others.
    fn read(figment: &Figment, config_file: Option<PathBuf>) -> Result<Settings, SettingsError> {
        let top = TopLevel::of(figment)?;
        let mut settings = Settings {
            config_file,
            listen: top.get("listen", value::socket_addr)?,
            data: top.get("data", value::path)?,
            store: top.get("store", value::store)?,
            tls_cert: top.get("tls_cert", value::optional_path)?,
            tls_key: top.get("tls_key", value::optional_path)?,
            plaintext: top.get("plaintext", value::boolean)?,
            metrics_listen: top.get("metrics_listen", value::optional_socket_addr)?,
            log_format: top.get("log_format", value::log_format)?,
            log_level: top.get("log_level", value::log_level)?,
            shutdown_grace: top.get("shutdown_grace", value::duration)?,
            limits: LimitsConfig::default(),
            limits_sources: BTreeMap::new(),
        };
        let resolved = limits::resolve(figment)?;
        settings.limits = resolved.limits;
        settings.limits_sources = resolved.sources;
        Ok(settings)
    }

    /// Transport security as configured.
    pub fn tls(&self) -> TlsSetting {
        match (
            &self.tls_cert.value,
            &self.tls_key.value,
            self.plaintext.value,
        ) {
            (_, _, true) => TlsSetting::Plaintext,
            (Some(cert), Some(key), false) => TlsSetting::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ => TlsSetting::SelfSigned,
        }
    }

    /// The library configuration these settings describe.
    pub fn relay_config(&self) -> RelayConfig {
        RelayConfig {
            data_dir: self.data.value.clone(),
            store: self.store.value.clone(),
            tls: self.tls(),
            shutdown_grace: self.shutdown_grace.value,
            limits: self.limits.clone(),
            ..RelayConfig::default()
        }
    }

    /// The effective configuration as TOML that loads back to the same values, each value
    /// commented with its origin. Contains no secret: the TLS key appears by path only.
    pub fn render(&self) -> String {
        render::render(self)
    }
}
