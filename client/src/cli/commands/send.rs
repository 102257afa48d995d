//! `parley send`: send one text message to a person or a group.

use anyhow::Result;

use crate::cli::args::SendArgs;
use crate::cli::home::Home;
use crate::cli::output::note;
use crate::cli::text_input::message_text;

/// Sends, printing nothing on stdout: success is the exit code.
pub(super) async fn run(args: SendArgs, home: &Home) -> Result<()> {
    // The text is read before connecting, so a mistake in it costs no network round trip.
    let text = message_text(&args.text)?;
    let client = super::open(home).await?;
    client.send_text(&args.to, &text).await?;
    note(&format!("Sent to {}.", args.to));
    Ok(())
}
