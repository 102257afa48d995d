//! `parley`: the command-line client of Parley, for people who negotiate, not engineers.
//!
//! Everything lives in the private `cli` module; this file only hands over control so that
//! the process exit code is decided in one place.

#![forbid(unsafe_code)]

mod cli;

fn main() -> std::process::ExitCode {
    cli::run()
}
