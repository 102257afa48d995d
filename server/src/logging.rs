//! Log output of the relay binary: human-readable lines or JSON objects, on stderr.
//!
//! At info level the relay logs only what an operator needs (starting, stopping, certificate
//! reloads, failures); never a handle, an id, an IP address or a payload.

use std::fmt;
use std::io::IsTerminal;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One readable line per event.
    #[default]
    Human,
    /// One JSON object per event, for log collectors.
    Json,
}

impl fmt::Display for LogFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LogFormat::Human => "human",
            LogFormat::Json => "json",
        })
    }
}

/// Installing the logger failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoggingError {
    /// The filter is not a valid `tracing` filter.
    #[error("invalid log filter `{filter}`: {reason}")]
    Filter {
        /// The filter as given.
        filter: String,
        /// The parser's message.
        reason: String,
    },
    /// A global logger was already installed.
    #[error("a logger is already installed")]
    AlreadyInstalled,
}

/// Installs the process-wide logger, writing to stderr with `filter` (such as `info` or
/// `parley_relay=debug,info`).
pub fn init(format: LogFormat, filter: &str) -> Result<(), LoggingError> {
    let env_filter =
        tracing_subscriber::EnvFilter::try_new(filter).map_err(|error| LoggingError::Filter {
            filter: filter.to_owned(),
            reason: error.to_string(),
        })?;
    // Colour codes only for a person at a terminal: in a file, journald or a log collector
    // they are bytes of noise that break grep and parsers.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let installed = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
    };
    installed.map_err(|_| LoggingError::AlreadyInstalled)
}
