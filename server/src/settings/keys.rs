//! The top-level keys of the merged configuration: unknown ones refused, each known one
//! parsed from the value of the layer that set it.

use figment::value::{Dict, Value};
use figment::Figment;

use super::error::SettingsError;
use super::origin::origin;
use super::source::{Setting, Source};
use super::value::Raw;
use super::{figment_error, KEYS};

/// The merged top-level table, every key known.
pub(super) struct TopLevel<'a> {
    figment: &'a Figment,
    root: Dict,
}

impl<'a> TopLevel<'a> {
    /// The merged top-level table of `figment`; an unknown key is an error naming the layer
    /// that set it.
    pub(super) fn of(figment: &'a Figment) -> Result<TopLevel<'a>, SettingsError> {
        let root = figment
            .find_value("")
            .map_err(|error| figment_error::settings_error(error, &[]))?;
        let root = root.into_dict().unwrap_or_default();
        for (key, value) in &root {
            // `[limits]` is checked field by field with the limits.
            if key != "limits" && !KEYS.contains(&key.as_str()) {
                return Err(SettingsError::UnknownKey {
                    key: key.clone(),
                    origin: origin(figment, value, &[key]),
                });
            }
        }
        Ok(TopLevel { figment, root })
    }

    /// The value of `key`, parsed by `parse`, with the layer that set it.
    pub(super) fn get<T>(
        &self,
        key: &str,
        parse: fn(&Raw) -> Result<T, String>,
    ) -> Result<Setting<T>, SettingsError> {
        let Some(value) = self.root.get(key) else {
            // The defaults layer sets every key; reaching this is a bug in it.
            return Err(SettingsError::Invalid {
                key: key.to_owned(),
                origin: Source::Default,
                reason: "no value, not even a default".to_owned(),
            });
        };
        let source = origin(self.figment, value, &[key]);
        match raw(value, &source).and_then(|raw| parse(&raw)) {
            Ok(value) => Ok(Setting { value, source }),
            Err(reason) => Err(SettingsError::Invalid {
                key: key.to_owned(),
                origin: source,
                reason,
            }),
        }
    }
}

/// A value as its layer gave it: typed by TOML from the file, text from the other layers
/// (whose values figment holds as the strings they were given).
fn raw(value: &Value, source: &Source) -> Result<Raw, String> {
    match source {
        Source::File(_) => value
            .deserialize::<toml::Value>()
            .map(Raw::Toml)
            .map_err(|error| error.to_string()),
        _ => value
            .as_str()
            .map(|text| Raw::Text(text.to_owned()))
            .ok_or_else(|| "expected text".to_owned()),
    }
}
