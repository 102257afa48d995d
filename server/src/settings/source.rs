//! Where a configuration value came from.

use std::fmt;
use std::path::PathBuf;

/// The layer a configuration value came from; later layers win:
/// defaults < file < environment < flags.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Source {
    /// The built-in default.
    Default,
    /// The TOML configuration file at this path.
    File(PathBuf),
    /// This environment variable.
    Env(String),
    /// This command-line flag (with its dashes).
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("the default"),
            Source::File(path) => write!(f, "the configuration file {}", path.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

impl Source {
    /// A short form for comments in the effective configuration.
    pub(crate) fn short(&self) -> String {
        match self {
            Source::Default => "default".to_owned(),
            Source::File(path) => format!("file {}", path.display()),
            Source::Env(name) => format!("env {name}"),
            Source::Flag(flag) => format!("flag {flag}"),
        }
    }
}

/// A configuration value and where it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Setting<T> {
    /// The value in effect.
    pub value: T,
    /// The layer that set it.
    pub source: Source,
}
