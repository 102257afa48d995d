//! `parley man`: the manual page, generated from the same clap definitions as `--help`.

use anyhow::Result;
use clap::CommandFactory;

use crate::args::Cli;

/// Writes the roff source of parley(1) to stdout.
pub(super) fn run() -> Result<()> {
    let mut page = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut page)?;
    crate::output::write_stdout(&page)?;
    Ok(())
}
