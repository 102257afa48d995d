//! `parley send`: send one text message to a person or a group.

use anyhow::Result;

use crate::args::SendArgs;
use crate::context::Ctx;
use crate::message_view::message_json;
use crate::output::{emit_json, note};
use crate::text_input::message_text;

/// Sends, printing nothing on stdout (success is the exit code); with --json, the sent
/// message as one object.
pub(super) async fn run(args: SendArgs, ctx: &Ctx) -> Result<()> {
    // The text is read before connecting, so a mistake in it costs no network round trip.
    let text = message_text(&args.text)?;
    let client = ctx.open().await?;
    let to = crate::names::conversation(&client, &args.to).await?;
    let sent = client.send_text(&to, &text).await?;
    if ctx.json() {
        emit_json(&message_json(&sent))?;
    }
    note(&format!("Sent to {}.", args.to));
    Ok(())
}
