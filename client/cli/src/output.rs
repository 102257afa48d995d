//! Writing results to stdout and remarks to stderr without ever panicking.
//!
//! `println!` panics when stdout is closed (`parley read | head -1`), and a panic is not an
//! answer a person can use, so all output goes through here.

use std::io::{self, IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// `--quiet`: no remarks at all.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Leaves out every remark of [`note`] from now on (for `--quiet`).
pub(crate) fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given: no remarks, no progress.
pub(crate) fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes lines to stdout. A reader that went away (broken pipe) is not an error: whoever
/// closed the pipe did not want the rest.
pub(crate) fn print_lines<I, S>(lines: I) -> io::Result<()>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let written = lines
        .into_iter()
        .try_for_each(|line| writeln!(out, "{}", line.as_ref()))
        .and_then(|()| out.flush());
    match written {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// Whether stderr is a terminal, i.e. a person will read the remarks of [`note`].
pub(crate) fn talking_to_a_person() -> bool {
    io::stderr().is_terminal()
}

/// Tells a person at a terminal what happened. Scripts and pipes don't get these remarks, so
/// the output of a successful command stays exactly what its help promises.
pub(crate) fn note(text: &str) {
    if talking_to_a_person() && !is_quiet() {
        to_stderr(text);
    }
}

/// Says that a command did what was asked ("Sent to bob."), on stderr, whoever reads it,
/// unless `--quiet`: a script keeps stdout clean and can still log what happened.
pub(crate) fn success(text: &str) {
    if !is_quiet() {
        to_stderr(text);
    }
}

/// Writes one line to stderr, ignoring failure: if even stderr is gone there is nobody left
/// to tell.
pub(crate) fn to_stderr(text: &str) {
    let _ = writeln!(io::stderr().lock(), "{text}");
}

/// Writes one JSON object as one line on stdout (for `--json`). A closed pipe is not an
/// error, as in [`print_lines`].
pub(crate) fn emit_json(value: &serde_json::Value) -> anyhow::Result<()> {
    let line = serde_json::to_string(value)?;
    print_lines([line])?;
    Ok(())
}

/// Writes raw bytes (a generated script or page) to stdout; a closed pipe is not an error.
pub(crate) fn write_stdout(bytes: &[u8]) -> io::Result<()> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(err) if err.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}
