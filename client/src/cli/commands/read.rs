//! `parley read`: fetch new messages and print them as "sender: text"; with --follow, keep
//! printing them as they arrive until Ctrl-C.

use anyhow::Result;
use futures::StreamExt;
use parley_client::{Client, Event, Message, Verification};

use crate::cli::args::ReadArgs;
use crate::cli::context::Ctx;
use crate::cli::failure::Failure;
use crate::cli::home::shell_quote;
use crate::cli::message_view::{message_json, plain_line};
use crate::cli::output::{emit_json, note, print_lines, talking_to_a_person, to_stderr};
use crate::cli::sanitize::{for_terminal, one_line};

/// Syncs everything (so other conversations are stored too), prints the new messages of the
/// chosen conversation or of all of them, then follows if asked to.
pub(super) async fn run(args: ReadArgs, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let new_messages = client.sync().await?;
    let shown: Vec<&Message> = new_messages
        .iter()
        .filter(|message| wanted(message, args.conversation.as_deref()))
        .collect();
    if shown.is_empty() && !args.follow {
        explain_silence(&client, args.conversation.as_deref()).await;
    }
    show(&shown, ctx)?;
    if args.follow {
        follow(&client, args.conversation.as_deref(), ctx).await?;
    }
    Ok(())
}

fn wanted(message: &Message, conversation: Option<&str>) -> bool {
    conversation.is_none_or(|wanted| message.conversation == wanted)
}

/// Prints messages on stdout. The plain lines stay exactly "sender: text"; a sender whose
/// key CHANGED is pointed out on stderr, where it cannot break a script reading stdout.
fn show(messages: &[&Message], ctx: &Ctx) -> Result<()> {
    if ctx.json() {
        for message in messages {
            emit_json(&message_json(message))?;
        }
    } else {
        print_lines(messages.iter().map(|m| plain_line(m)))?;
    }
    let mut warned: Vec<&str> = Vec::new();
    for message in messages {
        if message.sender_status == Verification::Changed && !warned.contains(&&*message.sender) {
            warned.push(&message.sender);
            to_stderr(&format!(
                "warning: the identity key of {} has CHANGED; compare safety numbers before \
                 trusting their messages: {} verify {}",
                for_terminal(&message.sender),
                ctx.home().command(),
                shell_quote(&message.sender)
            ));
        }
    }
    Ok(())
}

/// Streams new messages until Ctrl-C. A relay that goes away is retried by the library;
/// the person is told once per outage, not once per retry.
async fn follow(client: &Client, conversation: Option<&str>, ctx: &Ctx) -> Result<()> {
    note("Waiting for new messages; press Ctrl-C to stop.");
    let mut events = Box::pin(client.events());
    let mut failing = false;
    loop {
        let event = tokio::select! {
            _ = tokio::signal::ctrl_c() => return Ok(()),
            event = events.next() => event,
        };
        match event {
            None => {
                return Err(Failure::new("the connection to the relay ended").into());
            }
            Some(Ok(Event::Message(message))) => {
                failing = false;
                if wanted(&message, conversation) {
                    show(&[&message], ctx)?;
                }
            }
            Some(Ok(Event::Alert(text))) => to_stderr(&format!("alert: {}", one_line(&text))),
            Some(Ok(_)) => failing = false,
            Some(Err(error)) => {
                if !failing {
                    to_stderr(&format!(
                        "warning: {}; still trying",
                        one_line(&error.to_string())
                    ));
                }
                failing = true;
            }
        }
    }
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
