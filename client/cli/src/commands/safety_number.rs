//! `parley safety-number`: the number two people compare to rule out impersonation.

use anyhow::Result;
use serde_json::json;

use crate::args::SafetyNumberArgs;
use crate::context::Ctx;
use crate::output::{emit_json, note, print_lines};

/// Prints the 60 digits in 12 groups of 5, as the library formats them.
pub(super) async fn run(args: SafetyNumberArgs, ctx: &Ctx) -> Result<()> {
    let handle = crate::names::handle(&args.handle)?;
    let client = ctx.open().await?;
    let number = client.safety_number(&handle).await?;
    if ctx.json() {
        emit_json(&json!({ "handle": args.handle, "safety_number": number }))?;
        return Ok(());
    }
    note(&format!(
        "Your safety number with {}. Compare it with theirs in person or on a call; if any digit \
         differs, someone may be impersonating one of you.",
        args.handle
    ));
    print_lines([number])?;
    Ok(())
}
