//! `parley outbox`: the messages waiting to be sent, and cancelling one.

use anyhow::Result;
use serde_json::json;

use crate::args::OutboxArgs;
use crate::context::Ctx;
use crate::failure::Failure;
use crate::output::{emit_json, note, print_lines, success};
use crate::sanitize::{for_terminal, one_line};
use crate::time::utc_minute;

/// Lists the outbox (oldest first), or cancels one message of it.
pub(super) async fn run(args: OutboxArgs, ctx: &Ctx) -> Result<()> {
    let session = ctx.open().await?;
    if let Some(id) = args.cancel {
        if !session.cancel_queued(id).await? {
            return Err(
                Failure::new(format!("there is no message {id} in the outbox"))
                    .hint(format!(
                        "see what waits with `{} outbox`",
                        ctx.home().command()
                    ))
                    .into(),
            );
        }
        success(&format!(
            "Message {id} removed from the outbox; it was not sent."
        ));
        return Ok(());
    }
    let waiting = session.outbox().await?;
    if ctx.json() {
        for queued in &waiting {
            emit_json(&json!({
                "id": queued.id,
                "conversation": queued.conversation_name,
                "text": queued.text,
                "queued_at": queued.queued_at_ms,
                "failed": queued.failed,
            }))?;
        }
        return Ok(());
    }
    if waiting.is_empty() {
        note("The outbox is empty: every message was sent.");
        return Ok(());
    }
    print_lines(waiting.iter().map(|queued| {
        let state = match &queued.failed {
            None => "waiting".to_owned(),
            Some(reason) => format!("NOT SENT: {}", one_line(reason)),
        };
        format!(
            "{}  {}  to {}  [{state}]: {}",
            queued.id,
            utc_minute(queued.queued_at_ms),
            for_terminal(&queued.conversation_name),
            one_line(&queued.text)
        )
    }))?;
    Ok(())
}
