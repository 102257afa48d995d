//! `parley read`: fetch new messages and print them, one line each in the order they were
//! sent: "\[conversation\] sender: text", or "sender: text" for one conversation; with
//! --follow, keep printing them as they arrive until Ctrl-C.

use anyhow::Result;
use futures::StreamExt;
use parley_client::{ClientError, ConversationId, Event, Handle, Message, MessageId, Verification};

use crate::args::ReadArgs;
use crate::context::Ctx;
use crate::daemon::folder::{Folder, Problem};
use crate::failure::Failure;
use crate::home::shell_quote;
use crate::message_view::{labelled_line, message_json, plain_line};
use crate::names::{near_miss, or_near_miss, Typed};
use crate::outbox_notes::send_waiting;
use crate::output::{emit_json, note, print_lines, talking_to_a_person, to_stderr};
use crate::sanitize::{for_terminal, one_line};

/// Syncs everything (so other conversations are stored too), sends what waits in the
/// outbox, prints every message not yet shown (whichever command fetched it) of the chosen
/// conversation or of all of them, then follows if asked to.
pub(super) async fn run(args: ReadArgs, ctx: &Ctx) -> Result<()> {
    let folder = if args.follow {
        ctx.open_shared().await?
    } else {
        ctx.open().await?
    };
    let me = folder.whoami().await?.handle;
    // Listening before looking at what is unread: whatever arrives in between is announced
    // by an event rather than lost between the two.
    let events = if args.follow {
        Some(folder.events().await?)
    } else {
        None
    };
    send_waiting(&folder).await;
    folder.sync().await?;
    let conversation = match args.conversation.as_deref() {
        Some(name) => match crate::names::conversation(&folder, name).await {
            // A handle with no conversation yet: with --follow, one may start while reading.
            Ok(id) if !args.follow && !has_conversation(&folder, &id).await => {
                if let Some(hint) = near_miss(&folder, &Typed::conversation(name)).await {
                    let error = ClientError::UnknownConversation(name.to_owned());
                    return Err(Failure::of_client(&error, ctx.home()).hint(hint).into());
                }
                explain_unknown(name);
                return Ok(());
            }
            Ok(id) => Some(id),
            // Not a conversation (yet): nothing to show, and the person is told why. Unless
            // the name is a near miss of one they have: then it is a typo, and showing
            // nothing would hide it.
            Err(Problem::Client(error @ ClientError::UnknownConversation(_))) => {
                if let Some(hint) = near_miss(&folder, &Typed::conversation(name)).await {
                    return Err(Failure::of_client(&error, ctx.home()).hint(hint).into());
                }
                if !args.follow {
                    explain_unknown(name);
                    return Ok(());
                }
                None
            }
            Err(e) => {
                let typed = [Typed::conversation(name)];
                return or_near_miss(Err(e.into()), &folder, ctx.home(), &typed).await;
            }
        },
        None => None,
    };
    let shown = Shown {
        folder: &folder,
        me: &me,
        only: conversation.as_ref(),
        ctx,
    };
    let unread = folder.unread(conversation.as_ref()).await?;
    if unread.is_empty() && !args.follow && talking_to_a_person() {
        note("No new messages.");
    }
    shown.show(unread).await?;
    if let Some(events) = events {
        shown.follow(events).await?;
    }
    Ok(())
}

/// What `read` prints, and for whom.
struct Shown<'a> {
    folder: &'a Folder,
    me: &'a Handle,
    /// The conversation asked for, if one was.
    only: Option<&'a ConversationId>,
    ctx: &'a Ctx,
}

impl Shown<'_> {
    /// Prints messages on stdout in the order they were sent, then marks them read. The
    /// conversation leads each line unless one was asked for or there is only one; a sender
    /// whose key CHANGED is pointed out on stderr, where it cannot break a script reading
    /// stdout.
    async fn show(&self, messages: Vec<Message>) -> Result<()> {
        let messages = in_sent_order(messages);
        if self.ctx.json() {
            for message in &messages {
                emit_json(&message_json(message))?;
            }
        } else if self.only.is_none() && self.folder.conversations().await?.len() > 1 {
            print_lines(messages.iter().map(|m| labelled_line(m, self.me)))?;
        } else {
            print_lines(messages.iter().map(|m| plain_line(m, self.me)))?;
        }
        let mut warned: Vec<&Handle> = Vec::new();
        for message in &messages {
            let Some(sender) = message.sender.handle() else {
                continue;
            };
            if message.sender_status == Verification::Changed && !warned.contains(&sender) {
                warned.push(sender);
                to_stderr(&format!(
                    "warning: the identity key of {sender} has CHANGED; compare safety numbers before \
                     trusting their messages: {} verify {}",
                    self.ctx.home().command(),
                    shell_quote(sender.as_str())
                ));
            }
        }
        let ids: Vec<MessageId> = messages.iter().map(|m| m.id).collect();
        self.folder.mark_read(&ids).await?;
        Ok(())
    }

    /// Streams new messages until Ctrl-C. A relay that goes away is retried; the person is
    /// told once per outage, not once per retry.
    async fn follow(
        &self,
        events: impl futures::Stream<Item = Result<Event, Problem>> + Send,
    ) -> Result<()> {
        note("Waiting for new messages; press Ctrl-C to stop.");
        let mut events = Box::pin(events);
        let mut failing = false;
        // Listening from here on: a Ctrl-C that arrives while a message is being printed
        // must still end the loop at the next turn.
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
                // Whatever arrived is among the unread entries, with anything another
                // command fetched meanwhile.
                Some(Ok(Event::Message(_))) => {
                    failing = false;
                    self.show(self.folder.unread(self.only).await?).await?;
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
}

/// Interleaves the conversations by the time their messages were sent, keeping each
/// conversation's own order (a change of members is stamped when it arrived, yet belongs
/// before the messages that came with it).
fn in_sent_order(messages: Vec<Message>) -> Vec<Message> {
    let mut queues: Vec<std::collections::VecDeque<Message>> = Vec::new();
    for message in messages {
        match queues.iter_mut().find(|q| {
            q.front()
                .is_some_and(|m| m.conversation == message.conversation)
        }) {
            Some(queue) => queue.push_back(message),
            None => queues.push(std::collections::VecDeque::from([message])),
        }
    }
    let mut ordered = Vec::new();
    // The earliest head goes next; the first conversation wins a tie, as it arrived first.
    while let Some(next) = queues
        .iter()
        .enumerate()
        .filter_map(|(i, q)| q.front().map(|m| (m.sent_at_ms, i)))
        .min()
        .map(|(_, i)| i)
    {
        if let Some(message) = queues[next].pop_front() {
            ordered.push(message);
        }
    }
    ordered
}

/// Whether `id` is one of the conversations kept here (a bare handle resolves to a 1:1 that
/// may not exist yet). When the list cannot be read, the conversation is assumed to exist,
/// as it was before this check.
async fn has_conversation(folder: &Folder, id: &ConversationId) -> bool {
    match folder.conversations().await {
        Ok(conversations) => conversations.iter().any(|c| &c.id == id),
        Err(_) => true,
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
