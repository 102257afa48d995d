//! `parley history`: the stored messages of one conversation, with each sender's status.

use anyhow::Result;
use parley_client::Message;

use crate::args::HistoryArgs;
use crate::context::Ctx;
use crate::message_view::{history_line, message_json};
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, note, print_lines};

/// Prints the conversation's history, oldest first, from the local store only.
pub(super) async fn run(args: HistoryArgs, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let me = client.whoami().await?.handle;
    let messages: Result<Vec<Message>> = async {
        let id = crate::names::conversation(&client, &args.conversation).await?;
        Ok(client.history(&id, args.limit).await?)
    }
    .await;
    let typed = [Typed::conversation(&args.conversation)];
    let messages = or_near_miss(messages, &client, ctx.home(), &typed).await?;
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
