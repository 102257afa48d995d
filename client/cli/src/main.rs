//! `parley`: the command-line client of Parley, for people who negotiate, not engineers.
//!
//! It parses the arguments, runs one command through the `parley-client` library's public
//! API, and reports the outcome; the process exit code is decided in one place ([`run`]).

#![forbid(unsafe_code)]

mod args;
mod chat;
mod commands;
mod completion;
mod context;
mod crash;
mod daemon;
mod documents;
mod failure;
mod help;
mod home;
mod logging;
mod message_view;
mod names;
mod outbox_notes;
mod output;
mod partial_file;
mod passphrase;
mod progress;
mod qr;
mod sanitize;
mod strength;
mod text_input;
mod time;
mod workshop_names;

use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use anyhow::Context as _;
use clap::{CommandFactory, FromArgMatches};

use args::Cli;
use context::{Ctx, Route};
use failure::{Failure, EXIT_ERROR};
use home::Home;

/// Runs `parley` with the process arguments and gives the exit code: 0 ok, 1 error, 2 usage
/// (from clap), 3 key changed or unverified member, 4 relay unreachable.
fn run() -> ExitCode {
    crash::install_hook();
    // A shell asking for completions (COMPLETE=bash parley -- ...) is answered and exits here.
    clap_complete::CompleteEnv::with_factory(Cli::command).complete();
    let matches = Cli::command().get_matches();
    let home_source = matches.value_source("home");
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(err) => err.exit(),
    };
    output::set_quiet(cli.quiet);
    logging::init();
    let home = match Home::resolve(cli.home, home_source) {
        Ok(home) => home,
        Err(err) => {
            return Failure::new(err.to_string())
                .hint("say where to keep your Parley data with --home DIR")
                .report()
        }
    };
    let route = match (cli.proxy, cli.no_proxy) {
        (Some(proxy), _) => Route::Through(proxy),
        (None, true) => Route::Direct,
        (None, false) => Route::Remembered,
    };
    let ctx = Ctx::new(home, cli.json, cli.passphrase_command, route);
    // The hook has already told the person; the process should still end with a code
    // scripts know, not with a panic's 101.
    match panic::catch_unwind(AssertUnwindSafe(|| execute(cli.command, &ctx))) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(error)) => Failure::describe(&error, ctx.home()).report(),
        Err(_) => ExitCode::from(EXIT_ERROR),
    }
}

fn execute(command: args::Command, ctx: &Ctx) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start parley's background workers")?;
    runtime.block_on(commands::dispatch(command, ctx))
}

fn main() -> ExitCode {
    run()
}
