//! `parley safety-number`: the number two people compare to rule out impersonation.

use anyhow::Result;
use serde_json::json;

use crate::args::SafetyNumberArgs;
use crate::context::Ctx;
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, note, print_lines};

/// Prints the 60 digits in 12 groups of 5, as the library formats them.
pub(super) async fn run(args: SafetyNumberArgs, ctx: &Ctx) -> Result<()> {
    // Opened before the handle is checked, so that a mistyped one can be matched against
    // the contacts.
    let client = ctx.open().await?;
    let number: Result<String> = async {
        let handle = crate::names::handle(&args.handle)?;
        Ok(client.safety_number(&handle).await?)
    }
    .await;
    let typed = [Typed::person(&args.handle)];
    let number = or_near_miss(number, &client, ctx.home(), &typed).await?;
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
