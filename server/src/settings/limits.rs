//! The `[limits]` section: [`LimitsConfig`] from the file's table and `PARLEY_RELAY_LIMITS_*`.
//!
//! `LimitsConfig` is a flat serde struct of numbers owned by the limits module. Its field
//! names and values are read from its `Debug` form, so this layer follows new fields without
//! changes here.

use std::collections::BTreeMap;

use crate::limits::LimitsConfig;

use super::error::SettingsError;
use super::source::Source;

/// Prefix of the environment variables of `[limits]`.
pub(crate) const ENV_PREFIX: &str = "PARLEY_RELAY_LIMITS_";

/// The limits in effect and which layer set each field that is not at its default.
pub(crate) struct ResolvedLimits {
    pub(crate) limits: LimitsConfig,
    pub(crate) sources: BTreeMap<String, Source>,
}

/// Field names and values of `limits` as (`name`, TOML-ish text), in declaration order.
pub(crate) fn fields(limits: &LimitsConfig) -> Vec<(String, String)> {
    format!("{limits:#?}")
        .lines()
        .filter_map(|line| {
            let (name, value) = line.trim().split_once(": ")?;
            Some((name.to_owned(), value.trim_end_matches(',').to_owned()))
        })
        .collect()
}

/// Applies the file's `[limits]` table, then the environment, over the defaults.
pub(crate) fn resolve(
    file: Option<(toml::Table, Source)>,
    env: Vec<(String, String, Source)>,
) -> Result<ResolvedLimits, SettingsError> {
    let mut merged = toml::Table::new();
    let mut sources = BTreeMap::new();
    let layers = file
        .into_iter()
        .flat_map(|(table, source)| {
            table
                .into_iter()
                .map(move |(key, value)| (key, value, source.clone()))
        })
        .chain(
            env.into_iter()
                .map(|(key, text, source)| (key, text_value(&text), source)),
        );
    for (key, value, source) in layers {
        check_one(&key, &value, &source)?;
        merged.insert(key.clone(), value);
        sources.insert(key, source);
    }
    let limits: LimitsConfig =
        toml::Value::Table(merged)
            .try_into()
            .map_err(|error: toml::de::Error| {
                SettingsError::Conflict(format!("invalid [limits]: {}", error.message()))
            })?;
    if let Err(reason) = limits.validate() {
        return Err(blame(&reason, &sources));
    }
    Ok(ResolvedLimits { limits, sources })
}

/// Deserializes `key = value` alone (every other field at its default), so a bad value is
/// reported against its own key and layer.
fn check_one(key: &str, value: &toml::Value, source: &Source) -> Result<(), SettingsError> {
    let mut single = toml::Table::new();
    single.insert(key.to_owned(), value.clone());
    match toml::Value::Table(single).try_into::<LimitsConfig>() {
        Ok(_) => Ok(()),
        Err(error) if error.message().contains("unknown field") => Err(SettingsError::UnknownKey {
            key: format!("limits.{key}"),
            origin: source.clone(),
        }),
        Err(error) => Err(SettingsError::Invalid {
            key: format!("limits.{key}"),
            origin: source.clone(),
            reason: error.message().to_owned(),
        }),
    }
}

/// Text from the environment as the TOML value it spells (`100` is an integer, `true` a
/// boolean), or as a string.
fn text_value(text: &str) -> toml::Value {
    let trimmed = text.trim();
    format!("v = {trimmed}")
        .parse::<toml::Table>()
        .ok()
        .filter(|table| table.len() == 1)
        .and_then(|mut table| table.remove("v"))
        .unwrap_or_else(|| toml::Value::String(text.to_owned()))
}

/// Attaches the field and layer that a validation message names, when it names one.
fn blame(reason: &str, sources: &BTreeMap<String, Source>) -> SettingsError {
    let mut names: Vec<(String, String)> = fields(&LimitsConfig::default());
    // Longest first, so a field whose name contains another's is matched whole.
    names.sort_by_key(|(name, _)| std::cmp::Reverse(name.len()));
    let field = names
        .into_iter()
        .map(|(name, _)| name)
        .find(|name| reason.contains(name.as_str()));
    match field {
        Some(field) => SettingsError::Invalid {
            origin: sources.get(&field).cloned().unwrap_or(Source::Default),
            key: format!("limits.{field}"),
            reason: reason.to_owned(),
        },
        None => SettingsError::Conflict(format!("invalid [limits]: {reason}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_form_lists_every_field() {
        let fields = fields(&LimitsConfig::default());
        assert!(fields.len() >= 5);
        for (name, value) in &fields {
            assert!(!name.contains(' '), "{name}");
            let line = format!("{name} = {value}");
            assert!(line.parse::<toml::Table>().is_ok(), "{line}");
        }
    }

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
}
