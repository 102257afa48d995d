//! `parley completions`: the script that makes a shell ask `parley` itself what to complete,
//! so that commands, options, and (while the daemon runs) handles and conversation names
//! complete.

use anyhow::Result;
use clap_complete::env::{Bash, EnvCompleter, Fish, Zsh};

use crate::args::{CompletionShell, CompletionsArgs};

/// Writes the registration script for the chosen shell to stdout.
pub(super) fn run(args: &CompletionsArgs) -> Result<()> {
    let shell: &dyn EnvCompleter = match args.shell {
        CompletionShell::Bash => &Bash,
        CompletionShell::Zsh => &Zsh,
        CompletionShell::Fish => &Fish,
    };
    let mut script = Vec::new();
    shell.write_registration("COMPLETE", "parley", "parley", "parley", &mut script)?;
    crate::output::write_stdout(&script)?;
    Ok(())
}
