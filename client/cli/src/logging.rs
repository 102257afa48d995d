//! Diagnostic logs, for whoever debugs a problem: only when RUST_LOG is set, only on stderr,
//! so normal output stays clean.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use super::output::to_stderr;

/// Starts logging to stderr when RUST_LOG is set; does nothing otherwise.
pub(crate) fn init() {
    if std::env::var_os(EnvFilter::DEFAULT_ENV).is_none() {
        return;
    }
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        to_stderr("parley: RUST_LOG is not understood; logging warnings only");
        EnvFilter::new("warn")
    });
    // Failing here only means a logger is already installed, which is fine.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        // Colour codes only for a person at a terminal, not in a daemon's log file.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr)
        .try_init();
}
