//! `parley send`: send one text message to a person or a group, or keep it in the outbox
//! when the relay cannot be reached.

use anyhow::Result;
use parley_client::SendOutcome;

use crate::args::SendArgs;
use crate::context::Ctx;
use crate::failure::{Failure, EXIT_UNREACHABLE};
use crate::message_view::message_json;
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, success};
use crate::sanitize::for_terminal;
use crate::text_input::message_text;

/// Sends (older messages waiting in the outbox go first), printing nothing on stdout but
/// the sent message with --json. A message the relay cannot take now is kept and the
/// command fails with exit code 4, saying so.
pub(super) async fn run(args: SendArgs, ctx: &Ctx) -> Result<()> {
    // The text is read before connecting, so a mistake in it costs no network round trip.
    let text = message_text(&args.text)?;
    let folder = ctx.open().await?;
    let outcome: Result<SendOutcome> = async {
        let to = crate::names::conversation(&folder, &args.to).await?;
        Ok(folder.send_or_queue(&to, &text).await?)
    }
    .await;
    let typed = [Typed::conversation(&args.to)];
    match or_near_miss(outcome, &folder, ctx.home(), &typed).await? {
        SendOutcome::Sent(sent) => {
            if ctx.json() {
                emit_json(&message_json(&sent))?;
            }
            success(&format!("Sent to {}.", for_terminal(&args.to)));
            Ok(())
        }
        SendOutcome::Queued(queued) => {
            if ctx.json() {
                emit_json(&serde_json::json!({
                    "queued": queued.id,
                    "conversation": queued.conversation_name,
                    "text": queued.text,
                    "queued_at": queued.queued_at_ms,
                }))?;
            }
            Err(Failure::new(format!(
                "queued, not yet sent: the relay cannot be reached, so your message to {} waits \
                 (encrypted) in the outbox",
                for_terminal(&args.to)
            ))
            .hint(format!(
                "it is sent by your next `{cmd} send` or `{cmd} read` once the relay is back (or \
                 by the daemon); see it with `{cmd} outbox`",
                cmd = ctx.home().command()
            ))
            .code(EXIT_UNREACHABLE)
            .into())
        }
        // A kind of outcome this version does not know: the library sent nothing unusual.
        _ => Ok(()),
    }
}
