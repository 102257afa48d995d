//! `parley read`: fetch new messages and print them as "sender: text"; with --follow, keep
//! printing them as they arrive until Ctrl-C.

use anyhow::Result;
use futures::StreamExt;
use parley_client::{Client, ConversationId, Event, Handle, Message, MessageId, Verification};

use crate::args::ReadArgs;
use crate::context::Ctx;
use crate::failure::Failure;
use crate::home::shell_quote;
use crate::message_view::{message_json, plain_line};
use crate::output::{emit_json, note, print_lines, talking_to_a_person, to_stderr};
use crate::sanitize::{for_terminal, one_line};

/// Syncs everything (so other conversations are stored too), prints every message not yet
/// shown (whichever command fetched it) of the chosen conversation or of all of them, then
/// follows if asked to.
pub(super) async fn run(args: ReadArgs, ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let me = client.whoami()?.handle;
    client.sync().await?;
    let conversation = match args.conversation.as_deref() {
        Some(name) => match crate::names::conversation(&client, name).await {
            Ok(id) => Some(id),
            // Not a conversation (yet): nothing to show, and the person is told why.
            Err(parley_client::ClientError::UnknownConversation(_)) => {
                if !args.follow {
                    explain_unknown(name);
                    return Ok(());
                }
                None
            }
            Err(e) => return Err(e.into()),
        },
        None => None,
    };
    let unread = client.unread(conversation.as_ref()).await?;
    if unread.is_empty() && !args.follow && talking_to_a_person() {
        note("No new messages.");
    }
    show(&client, &me, &unread, ctx).await?;
    if args.follow {
        follow(&client, &me, conversation.as_ref(), ctx).await?;
    }
    Ok(())
}

/// Prints messages on stdout, then marks them read. The plain lines stay exactly
/// "sender: text"; a sender whose key CHANGED is pointed out on stderr, where it cannot break
/// a script reading stdout.
async fn show(client: &Client, me: &Handle, messages: &[Message], ctx: &Ctx) -> Result<()> {
    if ctx.json() {
        for message in messages {
            emit_json(&message_json(message))?;
        }
    } else {
        print_lines(messages.iter().map(|m| plain_line(m, me)))?;
    }
    let mut warned: Vec<&Handle> = Vec::new();
    for message in messages {
        if message.sender_status == Verification::Changed && !warned.contains(&&message.sender) {
            warned.push(&message.sender);
            to_stderr(&format!(
                "warning: the identity key of {} has CHANGED; compare safety numbers before \
                 trusting their messages: {} verify {}",
                message.sender,
                ctx.home().command(),
                shell_quote(message.sender.as_str())
            ));
        }
    }
    let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
    client.mark_read(&ids).await?;
    Ok(())
}

/// Streams new messages until Ctrl-C. A relay that goes away is retried by the library;
/// the person is told once per outage, not once per retry.
async fn follow(
    client: &Client,
    me: &Handle,
    conversation: Option<&ConversationId>,
    ctx: &Ctx,
) -> Result<()> {
    note("Waiting for new messages; press Ctrl-C to stop.");
    let mut events = Box::pin(client.events());
    let mut failing = false;
    // Listening from here on: a Ctrl-C that arrives while a message is being printed must
    // still end the loop at the next turn.
    let mut interrupted = std::pin::pin!(tokio::signal::ctrl_c());
    loop {
        let event = tokio::select! {
            _ = &mut interrupted => return Ok(()),
            event = events.next() => event,
        };
        match event {
            None => {
                return Err(Failure::new("the connection to the relay ended").into());
            }
            // Whatever arrived is among the unread entries, with anything another command
            // fetched meanwhile.
            Some(Ok(Event::Message(_))) => {
                failing = false;
                show(client, me, &client.unread(conversation).await?, ctx).await?;
            }
            Some(Ok(Event::Alert(alert))) => {
                to_stderr(&format!("alert: {}", one_line(&alert.to_string())));
            }
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
fn explain_unknown(name: &str) {
    if talking_to_a_person() {
        note(&format!(
            "You have no conversation named '{}' yet.",
            for_terminal(name)
        ));
    }
}
