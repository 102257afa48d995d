//! The relay binary's layered configuration: built-in defaults, then a TOML file
//! (`--config PATH` or `PARLEY_RELAY_CONFIG`), then `PARLEY_RELAY_*` environment variables,
//! then command-line flags; each later layer wins.
//!
//! Every key has the same name in all layers: `tls_cert` in the file is `PARLEY_RELAY_TLS_CERT`
//! in the environment and `--tls-cert` on the command line. Keys of the `[limits]` table are
//! `PARLEY_RELAY_LIMITS_<FIELD>` in the environment. Unknown keys are errors, and a bad value
//! is reported with its key and the layer that set it.

mod error;
mod limits;
mod render;
mod source;
mod value;

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use error::SettingsError;
pub use source::{Setting, Source};

use crate::config::{RelayConfig, StoreSetting, TlsSetting};
use crate::limits::LimitsConfig;
use crate::logging::LogFormat;
use value::Raw;

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
    limits_sources: std::collections::BTreeMap<String, Source>,
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
        let env = relay_env(env)?;
        let config_file = config_flag.or_else(|| {
            env.iter()
                .find(|(name, _)| name == CONFIG_ENV)
                .map(|(_, value)| PathBuf::from(value))
        });
        let mut settings = Settings::defaults();
        settings.config_file.clone_from(&config_file);

        let mut file_limits = None;
        if let Some(path) = &config_file {
            let (entries, limits) = read_file(path)?;
            file_limits = limits;
            for (key, value) in entries {
                settings.apply(&key, &Raw::Toml(value), Source::File(path.clone()))?;
            }
        }
        let mut env_limits = Vec::new();
        for (name, value) in env {
            if name == CONFIG_ENV {
                continue;
            }
            let source = Source::Env(name.clone());
            if let Some(field) = name.strip_prefix(limits::ENV_PREFIX) {
                env_limits.push((field.to_ascii_lowercase(), value, source));
                continue;
            }
            let key = name
                .strip_prefix(ENV_PREFIX)
                .unwrap_or(&name)
                .to_ascii_lowercase();
            settings.apply(&key, &Raw::Text(value), source)?;
        }
        for (key, value) in flags {
            let source = Source::Flag(flag_name(key));
            settings.apply(key, &Raw::Text(value.clone()), source)?;
        }
        let resolved = limits::resolve(file_limits, env_limits)?;
        settings.limits = resolved.limits;
        settings.limits_sources = resolved.sources;
        settings.check()?;
        Ok(settings)
    }

    /// The documented defaults.
    fn defaults() -> Settings {
        let relay = RelayConfig::default();
        Settings {
            config_file: None,
            listen: Setting::default_value(SocketAddr::from(([127, 0, 0, 1], 7443))),
            data: Setting::default_value(relay.data_dir),
            store: Setting::default_value(relay.store),
            tls_cert: Setting::default_value(None),
            tls_key: Setting::default_value(None),
            plaintext: Setting::default_value(false),
            metrics_listen: Setting::default_value(None),
            log_format: Setting::default_value(LogFormat::Human),
            log_level: Setting::default_value("info".to_owned()),
            shutdown_grace: Setting::default_value(relay.shutdown_grace),
            limits: LimitsConfig::default(),
            limits_sources: std::collections::BTreeMap::new(),
        }
    }

    /// Sets `key` from one layer's raw value.
    fn apply(&mut self, key: &str, raw: &Raw, source: Source) -> Result<(), SettingsError> {
        fn set<T>(
            slot: &mut Setting<T>,
            parsed: Result<T, String>,
            key: &str,
            source: Source,
        ) -> Result<(), SettingsError> {
            match parsed {
                Ok(value) => {
                    *slot = Setting { value, source };
                    Ok(())
                }
                Err(reason) => Err(SettingsError::Invalid {
                    key: key.to_owned(),
                    origin: source,
                    reason,
                }),
            }
        }
        match key {
            "listen" => set(&mut self.listen, value::socket_addr(raw), key, source),
            "data" => set(&mut self.data, value::path(raw), key, source),
            "store" => set(&mut self.store, value::store(raw), key, source),
            "tls_cert" => set(&mut self.tls_cert, value::optional_path(raw), key, source),
            "tls_key" => set(&mut self.tls_key, value::optional_path(raw), key, source),
            "plaintext" => set(&mut self.plaintext, value::boolean(raw), key, source),
            "metrics_listen" => set(
                &mut self.metrics_listen,
                value::optional_socket_addr(raw),
                key,
                source,
            ),
            "log_format" => set(&mut self.log_format, value::log_format(raw), key, source),
            "log_level" => set(&mut self.log_level, value::log_level(raw), key, source),
            "shutdown_grace" => set(&mut self.shutdown_grace, value::duration(raw), key, source),
            _ => Err(SettingsError::UnknownKey {
                key: key.to_owned(),
                origin: source,
            }),
        }
    }

    /// Checks the values that depend on each other.
    fn check(&self) -> Result<(), SettingsError> {
        let origin = |setting: &Setting<Option<PathBuf>>| setting.source.clone();
        match (&self.tls_cert.value, &self.tls_key.value) {
            (Some(_), None) => {
                return Err(SettingsError::Conflict(format!(
                    "`tls_cert` is set (by {}) but `tls_key` is not; set both or neither",
                    origin(&self.tls_cert)
                )))
            }
            (None, Some(_)) => {
                return Err(SettingsError::Conflict(format!(
                    "`tls_key` is set (by {}) but `tls_cert` is not; set both or neither",
                    origin(&self.tls_key)
                )))
            }
            _ => {}
        }
        if self.plaintext.value {
            if self.tls_cert.value.is_some() {
                return Err(SettingsError::Conflict(format!(
                    "`plaintext` (set by {}) conflicts with `tls_cert` (set by {})",
                    self.plaintext.source,
                    origin(&self.tls_cert)
                )));
            }
            if !self.listen.value.ip().is_loopback() {
                return Err(SettingsError::Conflict(format!(
                    "`plaintext` (set by {}) is only allowed on a loopback address, but `listen` is {} (set by {})",
                    self.plaintext.source, self.listen.value, self.listen.source
                )));
            }
        }
        if self.metrics_listen.value == Some(self.listen.value) && self.listen.value.port() != 0 {
            return Err(SettingsError::Conflict(format!(
                "`metrics_listen` (set by {}) and `listen` (set by {}) are the same address",
                self.metrics_listen.source, self.listen.source
            )));
        }
        Ok(())
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

/// The `PARLEY_RELAY_*` variables of `env`, sorted by name for a stable order of errors.
fn relay_env(
    env: impl IntoIterator<Item = (OsString, OsString)>,
) -> Result<Vec<(String, String)>, SettingsError> {
    let mut relay = Vec::new();
    for (name, value) in env {
        let Some(name) = name.to_str().filter(|name| name.starts_with(ENV_PREFIX)) else {
            continue;
        };
        let value = value.into_string().map_err(|_| SettingsError::Invalid {
            key: name.to_owned(),
            origin: Source::Env(name.to_owned()),
            reason: "the value is not valid UTF-8".to_owned(),
        })?;
        relay.push((name.to_owned(), value));
    }
    relay.sort();
    Ok(relay)
}

/// Top-level entries of the file, and its `[limits]` table if present.
type FileEntries = (Vec<(String, toml::Value)>, Option<(toml::Table, Source)>);

fn read_file(path: &Path) -> Result<FileEntries, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|error| SettingsError::Read {
        path: path.to_owned(),
        reason: error.to_string(),
    })?;
    let table: toml::Table =
        text.parse()
            .map_err(|error: toml::de::Error| SettingsError::Syntax {
                path: path.to_owned(),
                reason: error.to_string().trim_end().to_owned(),
            })?;
    let source = Source::File(path.to_owned());
    let mut entries = Vec::new();
    let mut limits = None;
    for (key, value) in table {
        if key == "limits" {
            match value {
                toml::Value::Table(table) => limits = Some((table, source.clone())),
                other => {
                    return Err(SettingsError::Invalid {
                        key,
                        origin: source,
                        reason: format!("expected a table, found a {}", other.type_str()),
                    })
                }
            }
        } else if KEYS.contains(&key.as_str()) {
            entries.push((key, value));
        } else {
            return Err(SettingsError::UnknownKey {
                key,
                origin: source,
            });
        }
    }
    Ok((entries, limits))
}
