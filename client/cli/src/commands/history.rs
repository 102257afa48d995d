//! `parley history`: the stored messages of one conversation, with each sender's status.

use anyhow::Result;

use crate::args::HistoryArgs;
use crate::context::Ctx;
use crate::message_view::{history_line, message_json};
use crate::output::{emit_json, note, print_lines};

/// Prints the conversation's history, oldest first, from the local store only.
pub(super) async fn run(args: HistoryArgs, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let me = client.whoami().await?.handle;
    let id = crate::names::conversation(&client, &args.conversation).await?;
    let messages = client.history(&id, args.limit).await?;
    if ctx.json() {
        for message in &messages {
            emit_json(&message_json(message))?;
        }
        return Ok(());
    }
    if messages.is_empty() {
        note("No messages in this conversation yet.");
    }
    print_lines(messages.iter().map(|m| history_line(m, &me)))?;
    Ok(())
}
