//! `parley send`: send one text message to a person or a group.

use anyhow::Result;
use parley_client::{Client, ClientError, ConversationKind, RelayError, Verification};

use crate::cli::args::SendArgs;
use crate::cli::context::Ctx;
use crate::cli::message_view::message_json;
use crate::cli::output::{emit_json, note};
use crate::cli::text_input::message_text;

/// Sends, printing nothing on stdout (success is the exit code); with --json, the sent
/// message as one object.
pub(super) async fn run(args: SendArgs, ctx: &Ctx) -> Result<()> {
    // The text is read before connecting, so a mistake in it costs no network round trip.
    let text = message_text(&args.text)?;
    let client = ctx.open().await?;
    let sent = match client.send_text(&args.to, &text).await {
        Ok(sent) => sent,
        Err(error) => return Err(explain_lost_conversation(&client, &args.to, error).await),
    };
    if ctx.json() {
        emit_json(&message_json(&sent))?;
    }
    note(&format!("Sent to {}.", args.to));
    Ok(())
}

/// A relay that no longer knows a 1:1 conversation may have been replaced, along with its
/// directory. Before reporting a bare "no such entry", the person's key is looked up again:
/// if it changed, that is the failure that matters (exit code 3), not the missing entry.
async fn explain_lost_conversation(client: &Client, to: &str, error: ClientError) -> anyhow::Error {
    if !matches!(error, ClientError::Relay(RelayError::NotFound)) {
        return error.into();
    }
    let direct = client.conversations().await.is_ok_and(|all| {
        all.iter()
            .any(|c| c.name == to && c.kind == ConversationKind::Direct)
    });
    if !direct {
        return error.into();
    }
    match client.verification(to).await {
        Ok(view) if view.status == Verification::Changed => {
            ClientError::KeyChanged(to.to_owned()).into()
        }
        Err(changed @ ClientError::KeyChanged(_)) => changed.into(),
        _ => error.into(),
    }
}
