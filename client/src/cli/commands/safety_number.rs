//! `parley safety-number`: the number two people compare to rule out impersonation.

use anyhow::Result;

use crate::cli::args::SafetyNumberArgs;
use crate::cli::home::Home;
use crate::cli::output::{note, print_lines};

/// Prints the 60 digits in 12 groups of 5, as the library formats them.
pub(super) async fn run(args: SafetyNumberArgs, home: &Home) -> Result<()> {
    let client = super::open(home).await?;
    let number = client.safety_number(&args.handle).await?;
    note(&format!(
        "Your safety number with {}. Compare it with theirs in person or on a call; if any digit \
         differs, someone may be impersonating one of you.",
        args.handle
    ));
    print_lines([number])?;
    Ok(())
}
