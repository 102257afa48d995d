//! `parley read`: fetch new messages and print them as "sender: text".

use anyhow::Result;
use parley_client::{Client, Message, MessageBody};

use crate::cli::args::ReadArgs;
use crate::cli::home::Home;
use crate::cli::output::{note, print_lines, talking_to_a_person};
use crate::cli::sanitize::for_terminal;

/// Syncs everything (so other conversations are stored too), prints the new messages of the
/// chosen conversation or of all of them.
pub(super) async fn run(args: ReadArgs, home: &Home) -> Result<()> {
    let client = super::open(home).await?;
    let new_messages = client.sync().await?;
    let lines: Vec<String> = new_messages
        .iter()
        .filter(|message| {
            args.conversation
                .as_deref()
                .is_none_or(|wanted| message.conversation == wanted)
        })
        .map(render)
        .collect();
    if lines.is_empty() {
        explain_silence(&client, args.conversation.as_deref()).await;
    }
    print_lines(lines)?;
    Ok(())
}

/// One message as one printed line. Multi-line text stays as sent; anything that could steer
/// the terminal is neutralised, since it was written by someone else.
fn render(message: &Message) -> String {
    let text = match &message.body {
        MessageBody::Text(text) => for_terminal(text),
        MessageBody::Unsupported { kind } => format!(
            "[a kind of message this version of parley cannot show (kind {kind}); update parley to see it]"
        ),
        #[allow(unreachable_patterns)]
        _ => for_terminal(&message.text),
    };
    format!("{}: {text}", for_terminal(&message.sender))
}

/// Empty output is the answer for scripts; a person at a terminal is told why it is empty.
async fn explain_silence(client: &Client, conversation: Option<&str>) {
    if !talking_to_a_person() {
        return;
    }
    if let Some(name) = conversation {
        let known = client
            .conversations()
            .await
            .map(|all| all.iter().any(|c| c.name == name))
            .unwrap_or(true);
        if !known {
            note(&format!(
                "You have no conversation named '{}' yet.",
                for_terminal(name)
            ));
            return;
        }
    }
    note("No new messages.");
}
