//! A figment error as a [`SettingsError`]: the key from the error's path, the layer from its
//! metadata, and the reason worded as serde words it (and so as the `toml` crate did when it
//! checked these values, which operators' scripts may match).

use figment::error::{Actual, Kind};
use serde::de::Unexpected;

use super::error::SettingsError;
use super::origin::metadata_origin;
use super::source::Source;

/// `error`, raised under the key path `prefix` (figment paths are relative to a focus).
pub(super) fn settings_error(error: figment::Error, prefix: &[&str]) -> SettingsError {
    let path: Vec<&str> = prefix
        .iter()
        .copied()
        .chain(error.path.iter().map(String::as_str))
        .collect();
    let reason = reason(&error.kind);
    if path.is_empty() {
        return SettingsError::Conflict(format!("invalid configuration: {reason}"));
    }
    let origin = error
        .metadata
        .as_ref()
        .map_or(Source::Default, |metadata| metadata_origin(metadata, &path));
    SettingsError::Invalid {
        key: path.join("."),
        origin,
        reason,
    }
}

/// The message of `kind` in serde's words.
fn reason(kind: &Kind) -> String {
    match kind {
        Kind::InvalidType(actual, expected) => {
            format!("invalid type: {}, expected {expected}", unexpected(actual))
        }
        Kind::InvalidValue(actual, expected) => {
            format!("invalid value: {}, expected {expected}", unexpected(actual))
        }
        other => other.to_string(),
    }
}

/// figment's record of an unexpected value, displayed as serde displays it (figment's own
/// wording differs: `unsigned int` for `integer`, `bool` for `boolean`).
fn unexpected(actual: &Actual) -> String {
    let unexpected = match actual {
        Actual::Bool(value) => Unexpected::Bool(*value),
        Actual::Unsigned(value) => match u64::try_from(*value) {
            Ok(value) => Unexpected::Unsigned(value),
            Err(_) => return format!("integer `{value}`"),
        },
        Actual::Signed(value) => match i64::try_from(*value) {
            Ok(value) => Unexpected::Signed(value),
            Err(_) => return format!("integer `{value}`"),
        },
        Actual::Float(value) => Unexpected::Float(*value),
        Actual::Char(value) => Unexpected::Char(*value),
        Actual::Str(value) => Unexpected::Str(value),
        Actual::Bytes(value) => Unexpected::Bytes(value),
        Actual::Unit => Unexpected::Unit,
        Actual::Option => Unexpected::Option,
        Actual::NewtypeStruct => Unexpected::NewtypeStruct,
        Actual::Seq => Unexpected::Seq,
        Actual::Map => Unexpected::Map,
        Actual::Enum => Unexpected::Enum,
        Actual::UnitVariant => Unexpected::UnitVariant,
        Actual::NewtypeVariant => Unexpected::NewtypeVariant,
        Actual::TupleVariant => Unexpected::TupleVariant,
        Actual::StructVariant => Unexpected::StructVariant,
        Actual::Other(value) => Unexpected::Other(value),
    };
    unexpected.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_read_as_serde_writes_them() {
        let kind = Kind::InvalidType(Actual::Str("lots".into()), "u64".into());
        assert_eq!(reason(&kind), "invalid type: string \"lots\", expected u64");
        let kind = Kind::InvalidValue(Actual::Signed(-5), "u32".into());
        assert_eq!(reason(&kind), "invalid value: integer `-5`, expected u32");
    }
}
