//! The `PARLEY_RELAY_*` environment variables as a figment layer.
//!
//! figment's own `Env` provider reads the process environment; [`Settings::load`](super::Settings::load)
//! takes the environment as an argument instead (tests and embedders pass their own), so this
//! provider serves the variables it was given. Each value keeps the name of the variable that
//! set it, for errors and for `check-config`.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

use figment::value::{Dict, Map, Value};
use figment::{Metadata, Profile, Provider};

use super::error::SettingsError;
use super::source::Source;
use super::{CONFIG_ENV, ENV_PREFIX};

/// The name of this layer's figment metadata, by which a value's origin is recognized.
pub(super) const LAYER_NAME: &str = "PARLEY_RELAY_* environment variables";

/// Prefix of the environment variables of `[limits]`.
const LIMITS_PREFIX: &str = "PARLEY_RELAY_LIMITS_";

/// The `PARLEY_RELAY_*` variables, by key path (`listen`, `limits.inbox_max_messages`).
#[derive(Clone)]
pub(super) struct EnvLayer {
    /// Key path to (variable name, value).
    vars: BTreeMap<String, (String, String)>,
}

impl EnvLayer {
    /// The relay's variables of `env`, and the configuration file that `PARLEY_RELAY_CONFIG`
    /// names, if set.
    pub(super) fn read(
        env: impl IntoIterator<Item = (OsString, OsString)>,
    ) -> Result<(EnvLayer, Option<PathBuf>), SettingsError> {
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
        // Sorted, so that of two spellings of one key (PARLEY_RELAY_LISTEN and
        // PARLEY_RELAY_listen) the same one wins on every run.
        relay.sort();
        let mut config_file = None;
        let mut vars = BTreeMap::new();
        for (name, value) in relay {
            if name == CONFIG_ENV {
                config_file = Some(PathBuf::from(value));
                continue;
            }
            vars.insert(key_path(&name), (name, value));
        }
        Ok((EnvLayer { vars }, config_file))
    }
}

/// The key path a variable sets: `PARLEY_RELAY_LIMITS_X` is `limits.x`, any other
/// `PARLEY_RELAY_X` the top-level `x`.
fn key_path(name: &str) -> String {
    match name.strip_prefix(LIMITS_PREFIX) {
        Some(field) => format!("limits.{}", field.to_ascii_lowercase()),
        None => name
            .strip_prefix(ENV_PREFIX)
            .unwrap_or(name)
            .to_ascii_lowercase(),
    }
}

impl Provider for EnvLayer {
    fn metadata(&self) -> Metadata {
        let names: Arc<BTreeMap<String, String>> = Arc::new(
            self.vars
                .iter()
                .map(|(path, (name, _))| (path.clone(), name.clone()))
                .collect(),
        );
        // Interpolation turns a key path back into the variable as the operator spelled it.
        Metadata::named(LAYER_NAME).interpolater(move |_, keys| {
            let path = keys.join(".");
            names.get(&path).cloned().unwrap_or_else(|| {
                format!(
                    "{ENV_PREFIX}{}",
                    path.replace('.', "_").to_ascii_uppercase()
                )
            })
        })
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let mut limits = Dict::new();
        let mut top = Dict::new();
        for (path, (_, text)) in &self.vars {
            match path.strip_prefix("limits.") {
                Some(field) => {
                    limits.insert(field.to_owned(), Value::serialize(text_value(text))?);
                }
                None => {
                    top.insert(path.clone(), Value::from(text.clone()));
                }
            }
        }
        let mut dict = Dict::new();
        if !limits.is_empty() {
            dict.insert("limits".to_owned(), Value::from(limits));
        }
        // After `limits`, so that a bare PARLEY_RELAY_LIMITS replaces the table and is
        // reported as the unknown key it is.
        dict.extend(top);
        Ok(Profile::Default.collect(dict))
    }
}

/// Text of a `[limits]` variable as the TOML value it spells (`100` is an integer, `true` a
/// boolean), or as a string: the fields are numbers, typed as in the file. A datetime stays
/// text, as the file layer presents it (see file.rs).
fn text_value(text: &str) -> toml::Value {
    let trimmed = text.trim();
    match format!("v = {trimmed}")
        .parse::<toml::Table>()
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("v"))
    {
        Some(toml::Value::Datetime(datetime)) => toml::Value::String(datetime.to_string()),
        Some(value) => value,
        None => toml::Value::String(text.to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_text_becomes_typed() {
        assert_eq!(text_value("100"), toml::Value::Integer(100));
        assert_eq!(text_value("true"), toml::Value::Boolean(true));
        assert_eq!(text_value("abc"), toml::Value::String("abc".into()));
        assert_eq!(
            text_value("1\nx = 2"),
            toml::Value::String("1\nx = 2".into())
        );
    }

    #[test]
    fn names_map_to_key_paths() {
        assert_eq!(key_path("PARLEY_RELAY_TLS_CERT"), "tls_cert");
        assert_eq!(key_path("PARLEY_RELAY_Listen"), "listen");
        assert_eq!(
            key_path("PARLEY_RELAY_LIMITS_INBOX_MAX_MESSAGES"),
            "limits.inbox_max_messages"
        );
        assert_eq!(key_path("PARLEY_RELAY_LIMITS"), "limits");
    }
}
