//! `parley chat`: the interactive terminal chat.
//!
//! The state and its rules live in `app` (testable without a terminal), the drawing in `ui`
//! (the panes placed by `layout`), the keys in `input`, the line being written in
//! `line_editor` (shown by `wrap`), the library calls in `worker`, the terminal's care in
//! `terminal`; the list of documents to save in `picker`, and the saving itself in `save`;
//! the rooms of a workshop and its roles in `workshop`, its negotiating text in `text_view`
//! (drawn by `ui_text`).
//! This file only wires them: keys, relay events and finished requests in; frames out.

mod app;
mod input;
mod layout;
mod line_editor;
mod model;
mod picker;
mod save;
mod terminal;
mod text_view;
mod ui;
mod ui_text;
mod worker;
mod workshop;
mod wrap;

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{Context as _, Result};
use crossterm::event::{Event as TerminalEvent, EventStream};
use futures::StreamExt;
use parley_client::{ClientError, ConversationId, Event, Handle};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::args::ChatArgs;
use crate::context::Ctx;
use crate::daemon::folder::{Folder, Problem};
use app::{Action, App, Level};
use model::{Entry, Incoming, Member, Room};
use terminal::{Screen, Session};
use worker::{Outcome, Request};
use workshop::Group;

/// How many stored messages of each conversation are shown when the chat opens.
const HISTORY_LIMIT: usize = 500;

/// Opens the chat, on `args.conversation` if given, and runs it until the person quits.
pub(crate) async fn run(args: ChatArgs, ctx: &Ctx) -> Result<()> {
    // Everything that may ask for the passphrase or fail early happens on the normal screen,
    // before the terminal is taken over.
    terminal::require_terminal()?;
    let client = ctx.open_shared().await?;
    let me = client.whoami().await?.handle;
    // Listening before loading: what arrives while the history loads is announced, not lost
    // between the two (an entry both loaded and announced is shown once).
    let events = client.events().await?;
    let rooms: Vec<Room> = client
        .conversations()
        .await?
        .iter()
        .map(Room::from)
        .collect();
    let mut app = App::new(me.to_string(), &rooms);
    // Without the workshops the chat still works: their rooms are listed as plain groups.
    if let Ok(workshops) = client.workshops().await {
        app.set_workshops(workshops.iter().map(Group::from).collect());
    }
    load(&client, &me, &mut app).await;
    // Fetched earlier by another command and not shown yet: counted, and marked read once on
    // screen.
    let unread: Vec<Entry> = client
        .unread(None)
        .await?
        .iter()
        .map(|m| Entry::of(m, &me))
        .collect();
    app.set_unread(&unread);
    if let Some(name) = args.conversation.as_deref() {
        let id = crate::names::conversation(&client, name).await;
        let typed = [crate::names::Typed::conversation(name)];
        let id =
            crate::names::or_near_miss(id.map_err(Into::into), &client, ctx.home(), &typed).await?;
        if !app.open(&id, name) {
            app.set_status(
                Level::Info,
                format!("No conversation with {name} yet: your first message starts one."),
            );
        }
    }
    let mut session = Session::enter()?;
    let result = chat(&mut session.screen, &mut app, &client, &me, events).await;
    drop(session);
    result
}

/// Fills in the stored history and members of every conversation.
async fn load(client: &Folder, me: &Handle, app: &mut App) {
    let ids: Vec<ConversationId> = app.conversations().iter().map(|c| c.id.clone()).collect();
    for id in ids {
        // A conversation we were removed from may have no members or history to show; the
        // others are still worth opening the chat for.
        if let Ok(history) = client.history(&id, Some(HISTORY_LIMIT)).await {
            app.set_history(&id, history.iter().map(|m| Entry::of(m, me)).collect());
        }
        if let Ok(members) = client.members(&id).await {
            app.set_members(&id, members.iter().map(Member::from).collect());
        }
    }
}

/// Aborts the worker when the chat ends, whichever way it ends.
struct Worker(JoinHandle<()>);

impl Drop for Worker {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The loop: draw, wait for the next key, relay event or finished request, apply it.
async fn chat(
    screen: &mut Screen,
    app: &mut App,
    client: &Folder,
    me: &Handle,
    events: impl futures::Stream<Item = Result<Event, Problem>> + Send,
) -> Result<()> {
    let (requests, request_rx) = mpsc::unbounded_channel();
    let (outcome_tx, mut outcomes) = mpsc::unbounded_channel();
    let _worker = Worker(tokio::spawn(worker::run(
        client.clone(),
        request_rx,
        outcome_tx.clone(),
    )));
    // Held only to be dropped: at the end of the chat, a save still under way is stopped
    // and leaves nothing behind. The app starts one save at a time, so the one replaced by
    // the next has ended.
    let mut _saving: Option<save::Saving> = None;
    let mut events = Box::pin(events).fuse();
    let mut keys = EventStream::new().fuse();
    let mut stop = Termination::new();
    loop {
        let now = now_ms();
        let mut viewport = app::Viewport::default();
        screen
            .draw(|frame| viewport = ui::draw(frame, app, now))
            .context("cannot draw the chat")?;
        app.set_viewport(viewport);
        let action = tokio::select! {
            key = keys.next() => match key {
                Some(Ok(TerminalEvent::Key(key))) => input::command(key).and_then(|c| app.handle(c)),
                // A resize or focus change only needs the redraw at the top of the loop.
                Some(Ok(_)) => None,
                Some(Err(error)) => return Err(error).context("cannot read the keyboard"),
                None => Some(Action::Quit),
            },
            Some(event) = events.next() => match event {
                Ok(event) => app.on_event(Incoming::of(&event, me)),
                Err(error) => {
                    app.on_stream_error(&error);
                    None
                }
            },
            Some(outcome) = outcomes.recv() => apply(app, me, outcome),
            () = stop.wait() => Some(Action::Quit),
        };
        let mut requests_now: Vec<Request> = Vec::with_capacity(2);
        match action {
            None => {}
            Some(Action::Quit) => return Ok(()),
            Some(Action::Send { conversation, text }) => {
                requests_now.push(Request::Send { conversation, text });
            }
            Some(Action::Refresh { conversation }) => {
                requests_now.push(Request::Refresh { conversation });
            }
            Some(Action::MarkRead(ids)) => requests_now.push(Request::MarkRead(ids)),
            Some(Action::ShowText { plenary }) => requests_now.push(Request::Text { plenary }),
            Some(Action::Save { document }) => {
                _saving = Some(save::start(client.clone(), document, outcome_tx.clone()));
            }
        }
        if let Some(Action::MarkRead(ids)) = app.take_seen() {
            requests_now.push(Request::MarkRead(ids));
        }
        for request in requests_now {
            if requests.send(request).is_err() {
                app.set_status(
                    Level::Error,
                    "parley cannot reach its own background worker; quit with Esc and start the chat again",
                );
            }
        }
    }
}

/// Applies a finished request to the state.
fn apply(app: &mut App, me: &Handle, outcome: Outcome) -> Option<Action> {
    match outcome {
        Outcome::Sent {
            conversation,
            text,
            result,
        } => app.on_sent(&conversation, text, result.map(|m| Entry::of(&m, me))),
        Outcome::Members {
            conversation,
            result,
        } => {
            match result {
                Ok(members) => {
                    app.set_members(&conversation, members.iter().map(Member::from).collect());
                }
                // A conversation the person is about to start has no members yet.
                Err(Problem::Client(ClientError::UnknownConversation(_))) => {}
                // One they were removed from has none to show; the removal's alert stays.
                Err(Problem::Client(ClientError::NotAMember(_))) => {
                    app.set_members(&conversation, Vec::new())
                }
                Err(error) => app.set_status(
                    Level::Error,
                    format!("Cannot show the members of this conversation: {error}"),
                ),
            }
            None
        }
        Outcome::Conversations(result) => {
            if let Ok(infos) = result {
                let rooms: Vec<Room> = infos.iter().map(Room::from).collect();
                app.merge_conversations(&rooms);
            }
            None
        }
        Outcome::Workshops(result) => {
            // A failure keeps the grouping last loaded: nothing on screen depends on it.
            if let Ok(workshops) = result {
                app.set_workshops(workshops.iter().map(Group::from).collect());
            }
            None
        }
        Outcome::Text { plenary, result } => {
            app.on_text(&plenary, result);
            None
        }
        Outcome::SaveProgress(percent) => {
            app.on_save_progress(percent);
            None
        }
        Outcome::Saved(result) => {
            app.on_saved(result);
            None
        }
        Outcome::NotMarked(error) => {
            app.set_status(
                Level::Error,
                format!(
                    "Could not note what you have read ({error}); `parley read` may show it again."
                ),
            );
            None
        }
    }
}

/// Milliseconds since the Unix epoch, to tell today's messages from older ones.
fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

/// SIGTERM and SIGHUP (a closed terminal window) end the chat like Esc does, so the terminal
/// is restored rather than left in raw mode.
struct Termination {
    #[cfg(unix)]
    signals: Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>,
}

impl Termination {
    fn new() -> Termination {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let signals = signal(SignalKind::terminate())
                .and_then(|term| Ok((term, signal(SignalKind::hangup())?)))
                .ok();
            Termination { signals }
        }
        #[cfg(not(unix))]
        Termination {}
    }

    async fn wait(&mut self) {
        #[cfg(unix)]
        if let Some((term, hangup)) = self.signals.as_mut() {
            tokio::select! {
                _ = term.recv() => {}
                _ = hangup.recv() => {}
            }
            return;
        }
        std::future::pending::<()>().await;
    }
}
