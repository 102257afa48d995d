//! What a person sees if parley has a bug: one line, not a Rust panic message (which may
//! quote internal values), and exit code 1 rather than 101.

use std::panic::{self, PanicHookInfo};

use super::output::to_stderr;

/// Replaces the default panic output with an `error:`/`hint:` pair.
pub(crate) fn install_hook() {
    panic::set_hook(Box::new(report));
}

fn report(info: &PanicHookInfo<'_>) {
    let place = info
        .location()
        .map(|l| format!(" (at {}:{})", l.file(), l.line()))
        .unwrap_or_default();
    to_stderr(&format!(
        "error: parley stopped because of an internal bug{place}"
    ));
    to_stderr("hint: please report this bug to the Parley developers, with the command you ran");
}
