//! `parley-bench`: the load generator. It starts a relay in a child process (or targets a
//! running one), drives simulated clients built with the real client library over real gRPC
//! and TLS, and prints each figure beside a baseline measured in the same run.

#![forbid(unsafe_code)]

mod baseline;
mod cli;
mod clients;
mod pinned;
mod plot;
mod procstat;
mod relay;
mod report;
mod scenario;
mod stats;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("parley-bench: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = match cli.command {
        Command::ServeRelay(args) => runtime.block_on(relay::serve_child(args)),
        Command::ServeRaw => runtime.block_on(baseline::tonic_unary::serve_child()),
        command => runtime.block_on(scenario::run(command, cli.common)),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("parley-bench: {e:#}");
            ExitCode::FAILURE
        }
    }
}
