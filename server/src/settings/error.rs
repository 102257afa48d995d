//! Why a configuration was refused.

use std::path::PathBuf;

use super::source::Source;

/// The configuration could not be loaded or is not valid. Every variant names the key (or
/// file) at fault and, for values, the layer that set it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The configuration file could not be read.
    #[error("cannot read the configuration file {}: {reason}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why, as the operating system put it.
        reason: String,
    },
    /// The configuration file is not valid TOML.
    #[error("the configuration file {} is not valid TOML: {reason}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        reason: String,
    },
    /// A key that the relay does not know.
    #[error("unknown key `{key}` in {origin}")]
    UnknownKey {
        /// The key as written (`limits.x` for keys of `[limits]`).
        key: String,
        /// Where it was found.
        origin: Source,
    },
    /// A value that does not parse or is out of range.
    #[error("invalid value for `{key}` from {origin}: {reason}")]
    Invalid {
        /// The key.
        key: String,
        /// The layer that set the value.
        origin: Source,
        /// What is wrong with it.
        reason: String,
    },
    /// Values that are valid alone but not together.
    #[error("{0}")]
    Conflict(String),
}
