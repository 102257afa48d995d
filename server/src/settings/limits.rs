//! The `[limits]` table: [`LimitsConfig`] from the merged figment, with the layer of each field.
//!
//! `LimitsConfig` is a flat serde struct of numbers owned by the limits module. Its field
//! names and defaults are read from its serialized form, so this layer follows new fields
//! without changes here.

use std::collections::BTreeMap;

use figment::value::Value;
use figment::Figment;

use crate::limits::LimitsConfig;

use super::error::SettingsError;
use super::figment_error::settings_error;
use super::origin::origin;
use super::source::Source;

/// The limits in effect and which layer set each field that is not at its default.
pub(super) struct ResolvedLimits {
    pub(super) limits: LimitsConfig,
    pub(super) sources: BTreeMap<String, Source>,
}

/// Field names and values of `limits` as (`name`, TOML value), in declaration order.
pub(crate) fn fields(limits: &LimitsConfig) -> Vec<(String, String)> {
    // `toml` tables keep insertion order (its `preserve_order` feature), which serde gives
    // in declaration order. Serializing fails only for integers beyond TOML's range, which
    // neither a file nor the environment can set.
    toml::Table::try_from(limits)
        .map(|table| {
            table
                .into_iter()
                .map(|(name, value)| (name, value.to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `[limits]` table of `figment` as [`LimitsConfig`], each field typed but the fields
/// not checked together (see [`validate`]); a bad field is reported with the layer that set
/// it.
pub(super) fn resolve(figment: &Figment) -> Result<ResolvedLimits, SettingsError> {
    let table = figment
        .find_value("limits")
        .map_err(|error| settings_error(error, &[]))?;
    let Value::Dict(_, set) = &table else {
        return Err(not_a_table(figment, &table));
    };
    let known = fields(&LimitsConfig::default());
    let mut sources = BTreeMap::new();
    for (field, value) in set {
        let source = origin(figment, value, &["limits", field.as_str()]);
        if !known.iter().any(|(name, _)| *name == *field) {
            return Err(SettingsError::UnknownKey {
                key: format!("limits.{field}"),
                origin: source,
            });
        }
        if source != Source::Default {
            sources.insert(field.clone(), source);
        }
    }
    let limits: LimitsConfig = figment
        .focus("limits")
        .extract()
        .map_err(|error| settings_error(error, &["limits"]))?;
    Ok(ResolvedLimits { limits, sources })
}

/// Checks the limits in effect together; the field at fault is reported with the layer
/// that set it (`sources`: the layers of the fields not at their default).
pub(super) fn validate(
    limits: &LimitsConfig,
    sources: &BTreeMap<String, Source>,
) -> Result<(), SettingsError> {
    limits.validate().map_err(|invalid| SettingsError::Invalid {
        key: format!("limits.{}", invalid.field),
        origin: sources
            .get(invalid.field)
            .cloned()
            .unwrap_or(Source::Default),
        reason: invalid.to_string(),
    })
}

/// `limits` set to something other than a table: a wrong type in the file, an unknown key
/// (`PARLEY_RELAY_LIMITS`, without a field) in the environment.
fn not_a_table(figment: &Figment, value: &Value) -> SettingsError {
    let source = origin(figment, value, &["limits"]);
    match source {
        Source::File(_) => SettingsError::Invalid {
            key: "limits".to_owned(),
            origin: source,
            reason: format!(
                "expected a table, found a {}",
                value
                    .deserialize::<toml::Value>()
                    .map_or("value", |value| value.type_str())
            ),
        },
        _ => SettingsError::UnknownKey {
            key: "limits".to_owned(),
            origin: source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialized_form_lists_every_field_in_order() {
        let fields = fields(&LimitsConfig::default());
        assert!(fields.len() >= 5);
        assert_eq!(fields[0].0, "source_requests_per_second");
        assert_eq!(fields[1].0, "source_burst");
        for (name, value) in &fields {
            assert!(!name.contains(' '), "{name}");
            let line = format!("{name} = {value}");
            assert!(line.parse::<toml::Table>().is_ok(), "{line}");
        }
    }
}
