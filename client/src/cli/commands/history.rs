//! `parley history`: the stored messages of one conversation, with each sender's status.

use anyhow::Result;

use crate::cli::args::HistoryArgs;
use crate::cli::context::Ctx;
use crate::cli::message_view::{history_line, message_json};
use crate::cli::output::{emit_json, note, print_lines};

/// Prints the conversation's history, oldest first, from the local store only.
pub(super) async fn run(args: HistoryArgs, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let messages = client.history(&args.conversation, args.limit).await?;
    if ctx.json() {
        for message in &messages {
            emit_json(&message_json(message))?;
        }
        return Ok(());
    }
    if messages.is_empty() {
        note("No messages in this conversation yet.");
    }
    print_lines(messages.iter().map(history_line))?;
    Ok(())
}
