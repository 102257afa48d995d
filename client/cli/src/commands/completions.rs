//! `parley completions`: the shell completion script, generated from the clap definitions.

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use crate::args::{Cli, CompletionShell, CompletionsArgs};

/// Writes the script for the chosen shell to stdout.
pub(super) fn run(args: &CompletionsArgs) -> Result<()> {
    let shell = match args.shell {
        CompletionShell::Bash => Shell::Bash,
        CompletionShell::Zsh => Shell::Zsh,
        CompletionShell::Fish => Shell::Fish,
    };
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "parley", &mut script);
    crate::output::write_stdout(&script)?;
    Ok(())
}
