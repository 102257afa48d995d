//! The chat's state and how keys, relay events and finished requests change it. Nothing here
//! touches the terminal or the network, so every rule can be tested without either.

use parley_client::{
    ClientError, ConversationId, DocumentInfo, MessageId, Retention, TextVersionInfo, Verification,
};

use crate::daemon::folder::Problem;
use crate::documents::human_size;
use crate::sanitize::one_line;

use super::line_editor::{Edit, LineEditor};
use super::model::{Entry, Incoming, Member, Posting, Room};
use super::picker::Picker;
use super::text_view::TextView;
use super::workshop::{arrange, Group};

/// What a key asks for, once input.rs has translated it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// A character for the compose box (`?` in an empty box shows the help instead).
    Type(char),
    /// Move the cursor in, or delete from, the compose box.
    Edit(Edit),
    /// Send what is in the compose box.
    Submit,
    /// Show the next conversation.
    NextConversation,
    /// Show the previous conversation.
    PreviousConversation,
    /// Look a page further back in the messages.
    ScrollUp,
    /// Look a page further forward in the messages.
    ScrollDown,
    /// Show or hide the help.
    ToggleHelp,
    /// Ctrl-S: offer the documents of the conversation on screen to save; in that list,
    /// save the one chosen.
    SaveDocument,
    /// Ctrl-T: show the latest version of the negotiating text of the workshop on screen;
    /// while it is shown, close it.
    ShowText,
    /// Esc: closes the help if it is open, quits otherwise.
    Escape,
    /// Ctrl-C: quits, always.
    Quit,
}

/// Work the state asks the outside world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Action {
    /// Send `text` to `conversation` (a 1:1 with a person starts with the first message).
    Send {
        /// Where to send it.
        conversation: ConversationId,
        /// What to send.
        text: String,
    },
    /// These entries were on screen: they are no longer unread.
    MarkRead(Vec<MessageId>),
    /// Reload the members of `conversation` and the list of conversations.
    Refresh {
        /// The conversation whose members may have changed.
        conversation: ConversationId,
    },
    /// Fetch `document` and save it in the current folder, under a name of its own.
    Save {
        /// The document chosen.
        document: DocumentInfo,
    },
    /// Load the latest version of the negotiating text of the workshop whose plenary this is.
    ShowText {
        /// The workshop's plenary.
        plenary: ConversationId,
    },
    /// Leave the chat.
    Quit,
}

/// How much a status line matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Progress and hints.
    Info,
    /// Something failed; the chat goes on.
    Error,
    /// Something security-relevant: a changed key, a refused member, a removal.
    Alarm,
}

/// The line at the bottom of the screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Status {
    /// What to say.
    pub(crate) text: String,
    /// How loudly.
    pub(crate) level: Level,
}

/// What the last frame showed of the messages, so that a page is a page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Viewport {
    /// Rows of messages on screen.
    pub(crate) rows: u16,
    /// How many rows the view can be scrolled back before the oldest message is at the top.
    pub(crate) max_scroll: u16,
    /// Rows of the negotiating text on screen, while it is shown.
    pub(crate) text_rows: u16,
    /// How far the negotiating text can be scrolled down before its end is at the bottom.
    pub(crate) text_max_scroll: u16,
}

/// One conversation as the chat shows it.
#[derive(Debug, Clone)]
pub(crate) struct Conversation {
    /// Which conversation.
    pub(crate) id: ConversationId,
    /// Its local name (the other person's handle for a 1:1).
    pub(crate) name: String,
    /// Whether it is a named group rather than a 1:1.
    pub(crate) group: bool,
    /// Messages not shown on screen yet (counted in the list).
    pub(crate) unread: usize,
    /// Their ids, to mark them read once they are on screen.
    unseen: Vec<MessageId>,
    /// Messages, oldest first.
    pub(crate) messages: Vec<Entry>,
    /// Members with their verification status, as last loaded.
    pub(crate) members: Vec<Member>,
    /// A member whose changed key blocked a send here, until a send succeeds again.
    pub(crate) changed_key: Option<String>,
    /// Whether the person may write here.
    pub(crate) posting: Posting,
    /// How long messages live here.
    pub(crate) retention: Retention,
    /// What is being written here and not sent yet. It belongs to this conversation alone:
    /// switching away keeps it here, and it can never be sent anywhere else.
    draft: LineEditor,
}

impl Conversation {
    fn new(id: ConversationId, name: &str) -> Conversation {
        Conversation {
            id,
            name: name.to_owned(),
            group: false,
            unread: 0,
            unseen: Vec::new(),
            messages: Vec::new(),
            members: Vec::new(),
            changed_key: None,
            posting: Posting::Open,
            retention: Retention::Off,
            draft: LineEditor::default(),
        }
    }

    /// The text being written here, with its cursor.
    pub(crate) fn draft(&self) -> &LineEditor {
        &self.draft
    }

    /// The member whose key changed, if any: sending here is blocked until it is resolved.
    pub(crate) fn key_alarm(&self) -> Option<&str> {
        self.members
            .iter()
            .find(|m| m.status == Verification::Changed)
            .map(|m| m.handle.as_str())
            .or(self.changed_key.as_deref())
    }
}

/// Everything the chat screen shows.
#[derive(Debug)]
pub(crate) struct App {
    me: String,
    conversations: Vec<Conversation>,
    selected: Option<usize>,
    status: Option<Status>,
    /// Whether the status line only reports trouble of the push stream, which any newer
    /// news may replace.
    status_from_stream: bool,
    help: bool,
    scroll: u16,
    /// The message view as last drawn.
    viewport: Viewport,
    /// Entries that came on screen and are not marked read yet.
    seen: Vec<MessageId>,
    /// The documents offered to save, while the list is open.
    picker: Option<Picker>,
    /// The name of the document being saved, while one is (one at a time).
    saving: Option<String>,
    /// The workshops whose rooms the list brings together, as last loaded.
    workshops: Vec<Group>,
    /// The negotiating text, while it is shown.
    text: Option<TextView>,
}

/// A document saved from the chat, as the status line reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Saved {
    /// The name its sender gave.
    pub(crate) name: String,
    /// Its size in bytes.
    pub(crate) size: u64,
    /// Where it is now, as a person reads the path.
    pub(crate) path: String,
}

impl App {
    /// The state for `me` with these conversations, the first one selected.
    pub(crate) fn new(me: String, conversations: &[Room]) -> App {
        let mut app = App {
            me,
            conversations: Vec::new(),
            selected: None,
            status: None,
            status_from_stream: false,
            help: false,
            scroll: 0,
            viewport: Viewport::default(),
            seen: Vec::new(),
            picker: None,
            saving: None,
            workshops: Vec::new(),
            text: None,
        };
        app.merge_conversations(conversations);
        app.selected = (!app.conversations.is_empty()).then_some(0);
        app
    }

    /// Our own handle.
    pub(crate) fn me(&self) -> &str {
        &self.me
    }

    /// All conversations, in list order.
    pub(crate) fn conversations(&self) -> &[Conversation] {
        &self.conversations
    }

    /// The index of the conversation on screen.
    pub(crate) fn selected(&self) -> Option<usize> {
        self.selected
    }

    /// The conversation on screen.
    pub(crate) fn current(&self) -> Option<&Conversation> {
        self.selected.and_then(|i| self.conversations.get(i))
    }

    /// The text being written in the conversation on screen.
    pub(crate) fn input(&self) -> &str {
        self.current().map_or("", |c| c.draft.text())
    }

    /// The status line, if there is something to say.
    pub(crate) fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }

    /// Whether the help is shown.
    pub(crate) fn help_visible(&self) -> bool {
        self.help
    }

    /// The documents offered to save, while that list is shown.
    pub(crate) fn picker(&self) -> Option<&Picker> {
        self.picker.as_ref()
    }

    /// The negotiating text, while it is shown.
    pub(crate) fn text(&self) -> Option<&TextView> {
        self.text.as_ref()
    }

    /// The workshop room `id` belongs to, if it is a workshop's.
    pub(crate) fn workshop_of(&self, id: &ConversationId) -> Option<&Group> {
        self.workshops.iter().find(|g| g.room_label(id).is_some())
    }

    /// The workshop of the conversation on screen, if it is a workshop's room.
    pub(crate) fn current_workshop(&self) -> Option<&Group> {
        self.current().and_then(|c| self.workshop_of(&c.id))
    }

    /// Puts freshly loaded workshops in place: their rooms are listed together from now on.
    pub(crate) fn set_workshops(&mut self, workshops: Vec<Group>) {
        self.workshops = workshops;
        self.arrange();
    }

    /// The library's answer to [`Action::ShowText`]; dropped if the person closed the text,
    /// or opened another workshop's, meanwhile.
    pub(crate) fn on_text(
        &mut self,
        plenary: &ConversationId,
        result: Result<Option<TextVersionInfo>, Problem>,
    ) {
        if let Some(view) = self.text.as_mut().filter(|t| t.plenary == *plenary) {
            view.answer(result);
        }
    }

    /// How many lines the message view is scrolled back from the newest message.
    pub(crate) fn scroll(&self) -> u16 {
        self.scroll
    }

    /// Takes note of the message view as drawn: a page is its height, and scrolling stops
    /// at the oldest message.
    pub(crate) fn set_viewport(&mut self, viewport: Viewport) {
        self.viewport = viewport;
        self.scroll = self.scroll.min(viewport.max_scroll);
        if let Some(text) = self.text.as_mut() {
            text.scroll = text.scroll.min(viewport.text_max_scroll);
        }
    }

    /// Sets the status line.
    pub(crate) fn set_status(&mut self, level: Level, text: impl Into<String>) {
        self.status = Some(Status {
            text: text.into(),
            level,
        });
        self.status_from_stream = false;
    }

    /// Shows a conversation. One without history is added as an empty one: the first
    /// message sent to it starts a 1:1 with that person. Returns whether it existed.
    pub(crate) fn open(&mut self, id: &ConversationId, name: &str) -> bool {
        let existed = self.index_of(id).is_some();
        let index = self.ensure(id, name);
        self.select(index);
        existed
    }

    /// Adds conversations not listed yet and updates the name, kind and state of those that
    /// are.
    pub(crate) fn merge_conversations(&mut self, rooms: &[Room]) {
        for room in rooms {
            let index = self.ensure(&room.id, &room.name);
            if let Some(conversation) = self.conversations.get_mut(index) {
                conversation.group = room.group;
                conversation.name = room.name.clone();
                conversation.posting = room.posting;
                conversation.retention = room.retention;
            }
        }
    }

    /// Puts the stored history of a conversation in place (at start-up).
    pub(crate) fn set_history(&mut self, id: &ConversationId, messages: Vec<Entry>) {
        let index = self.ensure(id, "");
        if let Some(conversation) = self.conversations.get_mut(index) {
            conversation.messages = messages;
        }
    }

    /// Counts the unread entries the library kept (fetched by any command, not shown yet).
    /// Those of the conversation on screen are on screen now: see [`App::take_seen`].
    pub(crate) fn set_unread(&mut self, unread: &[Entry]) {
        for message in unread {
            let index = self.ensure(&message.conversation, &message.conversation_name);
            if let Some(conversation) = self.conversations.get_mut(index) {
                conversation.unread += 1;
                conversation.unseen.push(message.id);
            }
        }
        if let Some(index) = self.selected {
            self.select(index);
        }
    }

    /// The entries that came on screen since the last call, to be marked read.
    pub(crate) fn take_seen(&mut self) -> Option<Action> {
        let seen = std::mem::take(&mut self.seen);
        (!seen.is_empty()).then_some(Action::MarkRead(seen))
    }

    /// Puts freshly loaded members of a conversation in place.
    pub(crate) fn set_members(&mut self, id: &ConversationId, members: Vec<Member>) {
        let index = self.ensure(id, "");
        if let Some(conversation) = self.conversations.get_mut(index) {
            conversation.members = members;
        }
    }

    /// Applies a key.
    pub(crate) fn handle(&mut self, command: Command) -> Option<Action> {
        if self.help {
            // Any key closes the help, so nobody is stuck in it; Ctrl-C still quits.
            if command == Command::Quit {
                return Some(Action::Quit);
            }
            self.help = false;
            return None;
        }
        if self.picker.is_some() {
            return self.choose(command);
        }
        if self.text.is_some() {
            return self.read_text(command);
        }
        match command {
            Command::Type('?') if self.input().is_empty() => self.help = true,
            Command::Type(c) => {
                if let Some(draft) = self.writable_draft() {
                    draft.insert(c);
                }
            }
            Command::Edit(edit) => {
                if let Some(draft) = self.writable_draft() {
                    draft.apply(edit);
                }
            }
            Command::Submit => return self.submit(),
            Command::NextConversation => self.step(1),
            Command::PreviousConversation => self.step(-1),
            Command::ScrollUp => {
                self.scroll = self
                    .scroll
                    .saturating_add(self.page())
                    .min(self.viewport.max_scroll);
            }
            Command::ScrollDown => self.scroll = self.scroll.saturating_sub(self.page()),
            Command::ToggleHelp => self.help = true,
            Command::SaveDocument => self.offer_documents(),
            Command::ShowText => return self.show_text(),
            Command::Escape | Command::Quit => return Some(Action::Quit),
        }
        None
    }

    /// Opens the negotiating text of the workshop on screen (loading), or says why not.
    fn show_text(&mut self) -> Option<Action> {
        let Some(workshop) = self.current_workshop() else {
            self.set_status(
                Level::Info,
                "Ctrl-T shows a workshop's negotiating text; this conversation is not a room of a workshop.",
            );
            return None;
        };
        let plenary = workshop.plenary.clone();
        self.text = Some(TextView::loading(&workshop.name, plenary.clone()));
        Some(Action::ShowText { plenary })
    }

    /// A key while the text is shown: PageUp and PageDown (and the arrows) scroll it, Esc
    /// or Ctrl-T close it; the other keys do nothing, so nothing typed by mistake lands in
    /// the message being written.
    fn read_text(&mut self, command: Command) -> Option<Action> {
        let rows = self.viewport.text_rows.saturating_sub(1).max(1);
        let max = self.viewport.text_max_scroll;
        let text = self.text.as_mut()?;
        match command {
            Command::ScrollDown => text.scroll = text.scroll.saturating_add(rows).min(max),
            Command::ScrollUp => text.scroll = text.scroll.saturating_sub(rows),
            Command::NextConversation => text.scroll = text.scroll.saturating_add(1).min(max),
            Command::PreviousConversation => text.scroll = text.scroll.saturating_sub(1),
            Command::Escape | Command::ShowText => self.text = None,
            Command::Quit => return Some(Action::Quit),
            _ => {}
        }
        None
    }

    /// Opens the list of the documents of the conversation on screen, or says why not.
    fn offer_documents(&mut self) {
        let Some(current) = self.current() else {
            self.set_status(Level::Info, "No conversation on screen, so no documents.");
            return;
        };
        match Picker::of(&current.messages) {
            Some(picker) => self.picker = Some(picker),
            None => self.set_status(
                Level::Info,
                "No documents in this conversation yet: Ctrl-S saves one once it is shared.",
            ),
        }
    }

    /// A key while the list of documents is shown: Up and Down choose, Enter (or Ctrl-S
    /// again) saves, Esc closes it; the other keys do nothing, so nothing typed by mistake
    /// lands in the message being written.
    fn choose(&mut self, command: Command) -> Option<Action> {
        let picker = self.picker.as_mut()?;
        match command {
            Command::NextConversation => picker.older(),
            Command::PreviousConversation => picker.newer(),
            Command::Submit | Command::SaveDocument => {
                let document = self.picker.take().and_then(Picker::take)?;
                return self.save(document);
            }
            Command::Escape => self.picker = None,
            Command::Quit => return Some(Action::Quit),
            _ => {}
        }
        None
    }

    /// Starts saving `document`, unless another one is being saved.
    fn save(&mut self, document: DocumentInfo) -> Option<Action> {
        if let Some(name) = &self.saving {
            let text = format!("Still saving {name}; save the next one when it is done.");
            self.set_status(Level::Info, text);
            return None;
        }
        let name = one_line(&document.name);
        self.set_status(Level::Info, format!("Saving {name}…"));
        self.saving = Some(name);
        Some(Action::Save { document })
    }

    /// How far the document being saved is, in percent.
    pub(crate) fn on_save_progress(&mut self, percent: u64) {
        let Some(name) = &self.saving else {
            return;
        };
        let text = format!("Saving {name}… {percent}%");
        // Whatever else the status line says (a failed send, an alarm) matters more.
        if self.status.as_ref().is_none_or(|s| s.level == Level::Info) {
            self.set_status(Level::Info, text);
        }
    }

    /// A save finished: where the document is now, or why it was not saved.
    pub(crate) fn on_saved(&mut self, result: Result<Saved, String>) {
        let name = self.saving.take().unwrap_or_default();
        match result {
            Ok(saved) => self.set_status(
                Level::Info,
                format!(
                    "Saved {} ({}) to {}.",
                    one_line(&saved.name),
                    human_size(saved.size),
                    saved.path
                ),
            ),
            Err(why) => self.set_status(Level::Error, format!("{name} was not saved: {why}")),
        }
    }

    /// Applies something the relay's push stream reported.
    pub(crate) fn on_event(&mut self, event: Incoming) -> Option<Action> {
        // Something arrived, so the stream works again.
        if self.status_from_stream {
            self.status = None;
            self.status_from_stream = false;
        }
        match event {
            Incoming::Entry(entry) => self.on_message(entry),
            Incoming::MembershipChanged(conversation) => {
                self.ensure(&conversation, "");
                Some(Action::Refresh { conversation })
            }
            Incoming::Alert(text) => {
                self.set_status(Level::Alarm, text);
                None
            }
            // Kinds of event this version does not know change nothing on screen.
            Incoming::Other => None,
        }
    }

    /// The push stream failed; it retries by itself, so this only informs.
    pub(crate) fn on_stream_error(&mut self, error: &Problem) {
        match error.client_error() {
            Some(ClientError::KeyChanged(_) | ClientError::UntrustedMember(_)) => {
                self.set_status(Level::Alarm, describe(error));
            }
            _ => {
                // The stream retries and fails again and again while the relay is down; that
                // must not push a failed send's explanation off the screen.
                let quiet = self.status.as_ref().is_none_or(|s| s.level == Level::Info);
                if quiet || self.status_from_stream {
                    self.set_status(
                        Level::Error,
                        format!("Not receiving right now ({error}); retrying by itself."),
                    );
                    self.status_from_stream = true;
                }
            }
        }
    }

    /// A send finished. On failure the text goes back into the draft of the conversation it
    /// was meant for (whichever is on screen now), so nothing typed is lost or moved.
    pub(crate) fn on_sent(
        &mut self,
        conversation: &ConversationId,
        text: String,
        result: Result<Entry, Problem>,
    ) -> Option<Action> {
        let index = self.ensure(conversation, "");
        match result {
            Ok(message) => {
                if let Some(c) = self.conversations.get_mut(index) {
                    c.changed_key = None;
                    // The daemon's announcement of this very message may have come first.
                    if !c.messages.iter().any(|m| m.id == message.id) {
                        c.messages.push(message);
                    }
                }
                if self.status.as_ref().is_some_and(|s| s.level == Level::Info) {
                    self.status = None;
                }
                None
            }
            Err(error) => {
                self.set_status(
                    match error.client_error() {
                        Some(
                            ClientError::KeyChanged(_)
                            | ClientError::UntrustedMember(_)
                            | ClientError::MemberKeyChanged { .. },
                        ) => Level::Alarm,
                        _ => Level::Error,
                    },
                    describe(&error),
                );
                if let Some(c) = self.conversations.get_mut(index) {
                    c.draft.restore(&text);
                }
                match error.client_error() {
                    Some(
                        ClientError::KeyChanged(handle)
                        | ClientError::UntrustedMember(handle)
                        | ClientError::MemberKeyChanged { handle, .. },
                    ) => {
                        if let Some(c) = self.conversations.get_mut(index) {
                            c.changed_key = Some(handle.to_string());
                        }
                        Some(Action::Refresh {
                            conversation: conversation.clone(),
                        })
                    }
                    _ => None,
                }
            }
        }
    }

    fn on_message(&mut self, message: Entry) -> Option<Action> {
        let known = self.index_of(&message.conversation).is_some();
        let index = self.ensure(&message.conversation, &message.conversation_name);
        if self.selected.is_none() {
            self.select(index);
        }
        let on_screen = self.selected == Some(index);
        let id = message.conversation.clone();
        // Our own words, sent from another window, are news to nobody here.
        let ours = message.sender == self.me;
        if let Some(conversation) = self.conversations.get_mut(index) {
            // The daemon announces what any window sent or fetched, so an entry may arrive
            // that this window already shows.
            if conversation.messages.iter().any(|m| m.id == message.id) {
                return None;
            }
            if ours {
                // Nothing to mark: what we wrote is never unread.
            } else if on_screen {
                self.seen.push(message.id);
            } else {
                conversation.unread += 1;
                conversation.unseen.push(message.id);
            }
            conversation.messages.push(message);
        }
        (!known).then_some(Action::Refresh { conversation: id })
    }

    fn submit(&mut self) -> Option<Action> {
        let Some(current) = self.current() else {
            self.set_status(
                Level::Error,
                "No conversation to send to: start one with `parley chat HANDLE`.",
            );
            return None;
        };
        let (conversation, name) = (current.id.clone(), current.name.clone());
        if let Some(why) = current.posting.explanation() {
            self.set_status(Level::Error, why);
            return None;
        }
        if current.draft.text().trim().is_empty() {
            self.set_status(Level::Info, "Type a message first, then press Enter.");
            return None;
        }
        let text = self.writable_draft().map(LineEditor::take)?;
        self.set_status(Level::Info, format!("Sending to {name}…"));
        self.scroll = 0;
        Some(Action::Send { conversation, text })
    }

    /// The draft of the conversation on screen, if the person may write there.
    fn writable_draft(&mut self) -> Option<&mut LineEditor> {
        let index = self.selected?;
        self.conversations
            .get_mut(index)
            .filter(|c| c.posting == Posting::Open)
            .map(|c| &mut c.draft)
    }

    /// How far PageUp and PageDown move: the rows on screen, less one kept for context.
    fn page(&self) -> u16 {
        self.viewport.rows.saturating_sub(1).max(1)
    }

    fn step(&mut self, delta: isize) {
        let count = self.conversations.len();
        if count == 0 {
            return;
        }
        let current = self.selected.unwrap_or(0);
        let next = (current as isize + delta).rem_euclid(count as isize) as usize;
        self.select(next);
    }

    fn select(&mut self, index: usize) {
        if let Some(conversation) = self.conversations.get_mut(index) {
            conversation.unread = 0;
            self.seen.append(&mut conversation.unseen);
            self.selected = Some(index);
            self.scroll = 0;
        }
    }

    fn index_of(&self, id: &ConversationId) -> Option<usize> {
        self.conversations.iter().position(|c| c.id == *id)
    }

    /// The index of a conversation, added at the end (named `name`, or after its id when no
    /// name is known yet) if it is new.
    fn ensure(&mut self, id: &ConversationId, name: &str) -> usize {
        match self.index_of(id) {
            Some(index) => index,
            None => {
                let name = if name.is_empty() {
                    fallback_name(id)
                } else {
                    name.to_owned()
                };
                self.conversations
                    .push(Conversation::new(id.clone(), &name));
                self.arrange();
                self.index_of(id)
                    .unwrap_or(self.conversations.len().saturating_sub(1))
            }
        }
    }

    /// Puts the rooms of each workshop together (see [`arrange`]); the conversation on
    /// screen stays on screen.
    fn arrange(&mut self) {
        let ids: Vec<ConversationId> = self.conversations.iter().map(|c| c.id.clone()).collect();
        let order = arrange(&ids, &self.workshops);
        if order == ids {
            return;
        }
        let selected = self.current().map(|c| c.id.clone());
        let mut rest = std::mem::take(&mut self.conversations);
        for id in &order {
            if let Some(at) = rest.iter().position(|c| c.id == *id) {
                self.conversations.push(rest.swap_remove(at));
            }
        }
        // arrange never drops a conversation; should it ever, it is still listed.
        self.conversations.append(&mut rest);
        self.selected = selected.and_then(|id| self.index_of(&id));
    }
}

/// What to call a conversation until the list of conversations names it.
fn fallback_name(id: &ConversationId) -> String {
    match id {
        ConversationId::Direct(handle) => handle.to_string(),
        ConversationId::Group(gid) => {
            let hex = gid.to_string();
            format!("group {}", hex.get(..8).unwrap_or(&hex))
        }
        _ => "a conversation".to_owned(),
    }
}

/// A failure in one line, with what to do about it. A changed key gets the loudest words:
/// it is the one failure that may mean someone is impersonating a contact.
fn describe(error: &Problem) -> String {
    match error.client_error() {
        Some(
            ClientError::KeyChanged(handle)
            | ClientError::UntrustedMember(handle)
            | ClientError::MemberKeyChanged { handle, .. },
        ) => format!(
            "{handle}'s identity key has CHANGED; sending is blocked because someone may be \
             impersonating them. Compare safety numbers in person: parley verify {handle}"
        ),
        _ => format!("Not sent: {error}"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use parley_client::GroupId;

    use super::*;

    /// The id a test conversation goes by: groups are "team", "board" and "room", the rest
    /// are people.
    pub(crate) fn id(name: &str) -> ConversationId {
        match name {
            "team" | "board" | "room" => {
                let tag = name.bytes().fold(0u8, |a, b| a.wrapping_add(b));
                ConversationId::Group(GroupId::from_bytes([tag; 32]))
            }
            person => ConversationId::Direct(person.parse().unwrap()),
        }
    }

    fn info(name: &str, group: bool) -> Room {
        Room {
            id: id(name),
            name: name.to_owned(),
            group,
            posting: Posting::Open,
            retention: Retention::Off,
        }
    }

    fn app() -> App {
        App::new(
            "alice".to_owned(),
            &[info("bob", false), info("team", true)],
        )
    }

    pub(crate) fn message(conversation: &str, sender: &str, text: &str) -> Entry {
        Entry {
            // Distinct texts are distinct entries (entries with one id are one entry).
            id: MessageId::new(
                GroupId::from_bytes([text.len() as u8; 32]),
                text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                }),
            ),
            conversation: id(conversation),
            conversation_name: conversation.to_owned(),
            sender: sender.to_owned(),
            attributed: false,
            text: text.to_owned(),
            sent_at_ms: 1_700_000_000_000,
            status: Verification::Unverified,
            membership: false,
            document: None,
        }
    }

    /// A document of 2.4 MB called `name`, with `id` for an id.
    pub(crate) fn document(name: &str, id: &str) -> DocumentInfo {
        serde_json::from_value(serde_json::json!({
            "id": id,
            "name": name,
            "size": 2_400_000,
            "media_type": "application/pdf",
        }))
        .unwrap()
    }

    /// `sender` sharing the document `name` (id `id`) in `conversation`, as its line.
    pub(crate) fn shared(conversation: &str, sender: &str, name: &str, id: &str) -> Entry {
        let document = document(name, id);
        Entry {
            document: Some(Box::new(document.clone())),
            ..message(
                conversation,
                sender,
                &crate::message_view::document_text(&document),
            )
        }
    }

    fn member(handle: &str, status: Verification) -> Member {
        Member {
            handle: handle.to_owned(),
            status,
        }
    }

    fn unread(app: &App, name: &str) -> usize {
        app.conversations()
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.unread)
            .unwrap_or(usize::MAX)
    }

    fn type_text(app: &mut App, text: &str) {
        for c in text.chars() {
            assert_eq!(app.handle(Command::Type(c)), None);
        }
    }

    #[test]
    fn starts_on_the_first_conversation() {
        let app = app();
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("bob"));
        assert!(app.conversations()[1].group);
    }

    #[test]
    fn a_message_elsewhere_is_unread_until_selected() {
        let mut app = app();
        assert_eq!(
            app.on_event(Incoming::Entry(message("team", "carol", "hi"))),
            None
        );
        assert_eq!(
            app.on_event(Incoming::Entry(message("team", "bob", "yo"))),
            None
        );
        assert_eq!(unread(&app, "team"), 2);
        assert_eq!(unread(&app, "bob"), 0);

        app.handle(Command::NextConversation);
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("team"));
        assert_eq!(unread(&app, "team"), 0);
        assert_eq!(app.current().map(|c| c.messages.len()), Some(2));
    }

    #[test]
    fn a_message_on_screen_is_not_unread() {
        let mut app = app();
        app.on_event(Incoming::Entry(message("bob", "bob", "hello")));
        assert_eq!(unread(&app, "bob"), 0);
        assert_eq!(app.current().map(|c| c.messages.len()), Some(1));
    }

    #[test]
    fn entries_are_marked_read_once_they_are_on_screen() {
        let mut app = app();
        let on_screen = message("bob", "bob", "hi");
        let elsewhere = message("team", "carol", "agenda");
        app.set_unread(&[on_screen.clone(), elsewhere.clone()]);
        assert_eq!(app.take_seen(), Some(Action::MarkRead(vec![on_screen.id])));
        assert_eq!(unread(&app, "team"), 1);
        assert_eq!(app.take_seen(), None);
        app.handle(Command::NextConversation);
        assert_eq!(app.take_seen(), Some(Action::MarkRead(vec![elsewhere.id])));
        let live = message("team", "dave", "live one");
        app.on_event(Incoming::Entry(live.clone()));
        assert_eq!(app.take_seen(), Some(Action::MarkRead(vec![live.id])));
    }

    #[test]
    fn a_group_is_sent_to_by_name_and_a_person_by_handle() {
        let mut app = app();
        app.handle(Command::NextConversation);
        type_text(&mut app, "all");
        let Some(Action::Send { conversation, .. }) = app.handle(Command::Submit) else {
            panic!("no send action");
        };
        assert_eq!(conversation, id("team"));
    }

    #[test]
    fn switching_wraps_both_ways() {
        let mut app = app();
        app.handle(Command::PreviousConversation);
        assert_eq!(app.selected(), Some(1));
        app.handle(Command::NextConversation);
        assert_eq!(app.selected(), Some(0));
    }

    #[test]
    fn typing_and_enter_send_to_the_selected_conversation() {
        let mut app = app();
        type_text(&mut app, "hellox");
        assert_eq!(app.handle(Command::Edit(Edit::Backspace)), None);
        assert_eq!(app.input(), "hello");
        assert_eq!(
            app.handle(Command::Submit),
            Some(Action::Send {
                conversation: id("bob"),
                text: "hello".to_owned(),
            })
        );
        assert_eq!(app.input(), "");
    }

    #[test]
    fn enter_on_an_empty_box_sends_nothing() {
        let mut app = app();
        type_text(&mut app, "  ");
        assert_eq!(app.handle(Command::Submit), None);
        assert_eq!(app.status().map(|s| s.level), Some(Level::Info));
    }

    #[test]
    fn question_mark_toggles_help_but_types_inside_a_message() {
        let mut app = app();
        assert_eq!(app.handle(Command::Type('?')), None);
        assert!(app.help_visible());
        assert_eq!(app.handle(Command::Type('?')), None);
        assert!(!app.help_visible());

        type_text(&mut app, "ok?");
        assert!(!app.help_visible());
        assert_eq!(app.input(), "ok?");
    }

    #[test]
    fn escape_closes_help_before_it_quits() {
        let mut app = app();
        app.handle(Command::ToggleHelp);
        assert_eq!(app.handle(Command::Escape), None);
        assert!(!app.help_visible());
        assert_eq!(app.handle(Command::Escape), Some(Action::Quit));
        app.handle(Command::ToggleHelp);
        assert_eq!(app.handle(Command::Quit), Some(Action::Quit));
    }

    #[test]
    fn a_send_error_goes_to_the_status_line_and_keeps_the_text() {
        let mut app = app();
        type_text(&mut app, "offer");
        let Some(Action::Send {
            conversation, text, ..
        }) = app.handle(Command::Submit)
        else {
            panic!("no send action");
        };
        let action = app.on_sent(
            &conversation,
            text,
            Err(Problem::Client(ClientError::RelayUnreachable(
                "connection refused".to_owned(),
            ))),
        );
        assert_eq!(action, None);
        let status = app.status().cloned().unwrap();
        assert_eq!(status.level, Level::Error);
        assert!(
            status.text.contains("connection refused"),
            "{}",
            status.text
        );
        assert_eq!(app.input(), "offer");
    }

    #[test]
    fn stream_trouble_does_not_hide_a_failed_send() {
        let mut app = app();
        let down = || {
            Problem::Client(ClientError::RelayUnreachable(
                "connection refused".to_owned(),
            ))
        };
        app.on_stream_error(&down());
        assert!(app.status().unwrap().text.starts_with("Not receiving"));
        app.on_event(Incoming::Entry(message("team", "carol", "back")));
        assert_eq!(app.status(), None);
        app.on_stream_error(&down());
        app.on_sent(&id("bob"), "offer".to_owned(), Err(down()));
        app.on_stream_error(&down());
        assert!(app.status().unwrap().text.starts_with("Not sent"));
    }

    #[test]
    fn a_changed_key_is_an_alarm_and_reloads_members() {
        let mut app = app();
        let action = app.on_sent(
            &id("bob"),
            "offer".to_owned(),
            Err(Problem::Client(ClientError::KeyChanged(
                "bob".parse().unwrap(),
            ))),
        );
        assert_eq!(
            action,
            Some(Action::Refresh {
                conversation: id("bob")
            })
        );
        let status = app.status().cloned().unwrap();
        assert_eq!(status.level, Level::Alarm);
        assert!(status.text.contains("CHANGED"), "{}", status.text);
        assert!(status.text.contains("parley verify bob"), "{}", status.text);
        assert_eq!(app.current().and_then(|c| c.key_alarm()), Some("bob"));

        let sent = message("bob", "alice", "offer");
        assert_eq!(app.on_sent(&id("bob"), "offer".to_owned(), Ok(sent)), None);
        assert_eq!(app.current().and_then(|c| c.key_alarm()), None);
    }

    #[test]
    fn a_successful_send_shows_the_message_and_clears_progress() {
        let mut app = app();
        type_text(&mut app, "deal");
        let Some(Action::Send {
            conversation, text, ..
        }) = app.handle(Command::Submit)
        else {
            panic!("no send action");
        };
        assert_eq!(app.status().map(|s| s.level), Some(Level::Info));
        let sent = Entry {
            conversation: conversation.clone(),
            ..message("bob", "alice", &text)
        };
        assert_eq!(app.on_sent(&conversation, text, Ok(sent)), None);
        assert_eq!(app.status(), None);
        let shown = app.current().map(|c| c.messages.clone()).unwrap();
        assert_eq!(shown.len(), 1);
        assert_eq!(shown[0].text, "deal");
    }

    #[test]
    fn events_for_unknown_conversations_add_them() {
        let mut app = app();
        let action = app.on_event(Incoming::Entry(message("board", "dave", "agenda")));
        assert_eq!(
            action,
            Some(Action::Refresh {
                conversation: id("board")
            })
        );
        assert_eq!(unread(&app, "board"), 1);

        let action = app.on_event(Incoming::MembershipChanged(id("room")));
        assert_eq!(
            action,
            Some(Action::Refresh {
                conversation: id("room")
            })
        );
        assert_eq!(app.conversations().len(), 4);
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("bob"));
    }

    #[test]
    fn the_first_conversation_to_arrive_is_shown() {
        let mut app = App::new("alice".to_owned(), &[]);
        assert_eq!(app.handle(Command::Submit), None);
        assert_eq!(app.status().map(|s| s.level), Some(Level::Error));
        app.on_event(Incoming::Entry(message("bob", "bob", "hi")));
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("bob"));
        assert_eq!(unread(&app, "bob"), 0);
    }

    #[test]
    fn alerts_are_alarms() {
        let mut app = app();
        app.on_event(Incoming::Alert("carol was removed from team".to_owned()));
        assert_eq!(app.status().map(|s| s.level), Some(Level::Alarm));
    }

    #[test]
    fn opening_an_unknown_name_prepares_a_new_conversation() {
        let mut app = app();
        assert!(!app.open(&id("carol"), "carol"));
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("carol"));
        assert!(app.open(&id("team"), "team"));
        assert_eq!(app.selected(), Some(1));
    }

    #[test]
    fn members_with_a_changed_key_raise_the_alarm() {
        let mut app = app();
        app.set_members(&id("bob"), vec![member("bob", Verification::Changed)]);
        assert_eq!(app.current().and_then(|c| c.key_alarm()), Some("bob"));
    }

    fn edit(app: &mut App, edit: Edit) {
        assert_eq!(app.handle(Command::Edit(edit)), None);
    }

    fn select(app: &mut App, name: &str) {
        while app.current().map(|c| c.name.as_str()) != Some(name) {
            app.handle(Command::NextConversation);
        }
    }

    #[test]
    fn keys_edit_inside_the_line() {
        let mut app = app();
        type_text(&mut app, "helo world");
        edit(&mut app, Edit::WordLeft);
        edit(&mut app, Edit::Left);
        type_text(&mut app, ",");
        edit(&mut app, Edit::Home);
        edit(&mut app, Edit::WordRight);
        edit(&mut app, Edit::Left);
        type_text(&mut app, "l");
        assert_eq!(app.input(), "hello, world");
        edit(&mut app, Edit::End);
        edit(&mut app, Edit::DeleteWordBefore);
        assert_eq!(app.input(), "hello, ");
        edit(&mut app, Edit::DeleteToStart);
        assert_eq!(app.input(), "");
    }

    #[test]
    fn each_conversation_keeps_its_own_draft() {
        let mut app = app();
        type_text(&mut app, "our final offer is");
        app.handle(Command::NextConversation);
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("team"));
        assert_eq!(app.input(), "");
        type_text(&mut app, "status?");
        assert_eq!(
            app.handle(Command::Submit),
            Some(Action::Send {
                conversation: id("team"),
                text: "status?".to_owned(),
            })
        );
        app.handle(Command::PreviousConversation);
        assert_eq!(app.input(), "our final offer is");
        // The cursor came back where it was too.
        type_text(&mut app, " 12");
        assert_eq!(app.input(), "our final offer is 12");
        // A conversation that appears while typing does not take the draft.
        app.on_event(Incoming::Entry(message("carol", "carol", "hi")));
        select(&mut app, "carol");
        assert_eq!(app.input(), "");
        assert_eq!(app.handle(Command::Submit), None);
    }

    #[test]
    fn a_failed_send_goes_back_to_its_own_conversation() {
        let mut app = app();
        type_text(&mut app, "offer");
        let Some(Action::Send { conversation, text }) = app.handle(Command::Submit) else {
            panic!("no send action");
        };
        app.handle(Command::NextConversation);
        type_text(&mut app, "unrelated");
        let down = Problem::Client(ClientError::RelayUnreachable(
            "connection refused".to_owned(),
        ));
        app.on_sent(&conversation, text, Err(down));
        assert_eq!(app.input(), "unrelated");
        app.handle(Command::PreviousConversation);
        assert_eq!(app.input(), "offer");

        // Typed again meanwhile: the unsent text goes first, nothing is lost.
        type_text(&mut app, " and more");
        let Some(Action::Send { conversation, text }) = app.handle(Command::Submit) else {
            panic!("no send action");
        };
        type_text(&mut app, "then");
        let down = Problem::Client(ClientError::RelayUnreachable(
            "connection refused".to_owned(),
        ));
        app.on_sent(&conversation, text, Err(down));
        assert_eq!(app.input(), "offer and more then");
    }

    #[test]
    fn no_writing_where_the_person_may_not_post() {
        let mut app = app();
        app.merge_conversations(&[Room {
            posting: Posting::Removed,
            ..info("team", true)
        }]);
        select(&mut app, "team");
        type_text(&mut app, "let me back in");
        edit(&mut app, Edit::Backspace);
        assert_eq!(app.input(), "");
        assert_eq!(app.handle(Command::Submit), None);
        let status = app.status().cloned().unwrap();
        assert_eq!(status.level, Level::Error);
        assert!(
            status.text.contains("removed from this group"),
            "{}",
            status.text
        );
        // ? still opens the help; switching away still works.
        assert_eq!(app.handle(Command::Type('?')), None);
        assert!(app.help_visible());
        app.handle(Command::Escape);
        app.handle(Command::NextConversation);
        type_text(&mut app, "hi");
        assert_eq!(app.input(), "hi");
    }

    #[test]
    fn a_page_is_the_height_of_the_view_less_one_row() {
        let mut app = app();
        app.set_viewport(Viewport {
            rows: 20,
            max_scroll: 50,
            ..Viewport::default()
        });
        app.handle(Command::ScrollUp);
        assert_eq!(app.scroll(), 19);
        app.handle(Command::ScrollUp);
        assert_eq!(app.scroll(), 38);
        app.handle(Command::ScrollUp);
        assert_eq!(app.scroll(), 50, "stops at the oldest message");
        app.handle(Command::ScrollDown);
        assert_eq!(app.scroll(), 31);
        app.set_viewport(Viewport {
            rows: 20,
            max_scroll: 10,
            ..Viewport::default()
        });
        assert_eq!(app.scroll(), 10);
        app.handle(Command::ScrollDown);
        assert_eq!(app.scroll(), 0);
    }

    /// The daemon announces what another window sent or fetched: shown once, and our own
    /// words never count as unread.
    #[test]
    fn an_announced_entry_is_shown_once_and_ours_is_never_unread() {
        let mut app = app();
        app.open(&id("bob"), "bob");
        let answer = message("team", "bob", "the answer");
        app.on_event(Incoming::Entry(answer.clone()));
        app.on_event(Incoming::Entry(answer));
        assert_eq!(app.conversations()[1].messages.len(), 1);
        assert_eq!(unread(&app, "team"), 1);
        app.on_event(Incoming::Entry(message(
            "team",
            "alice",
            "from my other shell",
        )));
        assert_eq!(app.conversations()[1].messages.len(), 2);
        assert_eq!(unread(&app, "team"), 1, "our own words are not unread");
        let sent = message("bob", "alice", "sent here");
        app.on_event(Incoming::Entry(sent.clone()));
        app.on_sent(&id("bob"), "sent here".to_owned(), Ok(sent));
        assert_eq!(app.conversations()[0].messages.len(), 1);
    }

    /// Ctrl-S, then Enter: the newest document of the conversation on screen.
    #[test]
    fn ctrl_s_and_enter_save_the_newest_document_here() {
        let mut app = app();
        app.on_event(Incoming::Entry(shared("bob", "bob", "old.pdf", "aa11")));
        app.on_event(Incoming::Entry(message("bob", "bob", "and the new one")));
        app.on_event(Incoming::Entry(shared("bob", "bob", "budget.pdf", "bb22")));
        // Another conversation's documents are not offered here.
        app.on_event(Incoming::Entry(shared(
            "team",
            "carol",
            "agenda.pdf",
            "cc33",
        )));
        type_text(&mut app, "draft");
        assert_eq!(app.handle(Command::SaveDocument), None);
        let picker = app.picker().unwrap();
        let names: Vec<&str> = picker
            .choices()
            .iter()
            .map(|c| c.document.name.as_str())
            .collect();
        assert_eq!(names, ["budget.pdf", "old.pdf"]);
        assert_eq!(
            app.handle(Command::Submit),
            Some(Action::Save {
                document: document("budget.pdf", "bb22")
            })
        );
        assert_eq!(app.picker(), None);
        assert_eq!(app.input(), "draft", "Enter saved; it sent nothing");
        assert_eq!(
            app.status().map(|s| s.text.as_str()),
            Some("Saving budget.pdf…")
        );
    }

    #[test]
    fn an_older_document_is_chosen_with_the_arrows() {
        let mut app = app();
        app.set_history(
            &id("bob"),
            vec![
                shared("bob", "bob", "first.pdf", "aa11"),
                shared("bob", "alice", "second.pdf", "bb22"),
                shared("bob", "bob", "third.pdf", "cc33"),
            ],
        );
        app.handle(Command::SaveDocument);
        app.handle(Command::NextConversation);
        app.handle(Command::NextConversation);
        app.handle(Command::PreviousConversation);
        assert_eq!(app.picker().map(|p| p.chosen()), Some(1));
        assert_eq!(
            app.handle(Command::SaveDocument),
            Some(Action::Save {
                document: document("second.pdf", "bb22")
            })
        );
        // The arrows switch conversations again once the list is closed.
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("bob"));
        app.handle(Command::NextConversation);
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("team"));
    }

    #[test]
    fn the_list_of_documents_takes_no_typing_and_esc_only_closes_it() {
        let mut app = app();
        app.on_event(Incoming::Entry(shared("bob", "bob", "budget.pdf", "bb22")));
        app.handle(Command::SaveDocument);
        type_text(&mut app, "x?");
        app.handle(Command::Edit(Edit::Backspace));
        app.handle(Command::ToggleHelp);
        assert!(!app.help_visible());
        assert!(app.picker().is_some());
        assert_eq!(app.handle(Command::Escape), None, "Esc closes, not quits");
        assert_eq!(app.picker(), None);
        assert_eq!(app.input(), "");
        assert_eq!(app.current().map(|c| c.name.as_str()), Some("bob"));
        app.handle(Command::SaveDocument);
        assert_eq!(app.handle(Command::Quit), Some(Action::Quit));
    }

    #[test]
    fn nothing_to_save_is_said_in_the_status_line() {
        let mut app = app();
        app.on_event(Incoming::Entry(message("bob", "bob", "no documents here")));
        app.on_event(Incoming::Entry(shared(
            "team",
            "carol",
            "agenda.pdf",
            "cc33",
        )));
        assert_eq!(app.handle(Command::SaveDocument), None);
        assert_eq!(app.picker(), None);
        let status = app.status().cloned().unwrap();
        assert_eq!(status.level, Level::Info);
        assert!(status.text.starts_with("No documents in this conversation"));
        let mut empty = App::new("alice".to_owned(), &[]);
        assert_eq!(empty.handle(Command::SaveDocument), None);
        assert_eq!(empty.picker(), None);
        assert_eq!(empty.status().map(|s| s.level), Some(Level::Info));
    }

    #[test]
    fn one_save_at_a_time_and_its_end_is_reported() {
        let mut app = app();
        app.on_event(Incoming::Entry(shared("bob", "bob", "budget.pdf", "bb22")));
        app.handle(Command::SaveDocument);
        assert!(app.handle(Command::Submit).is_some());
        app.on_save_progress(42);
        assert_eq!(
            app.status().map(|s| s.text.as_str()),
            Some("Saving budget.pdf… 42%")
        );
        // A second one waits for the first.
        app.handle(Command::SaveDocument);
        assert_eq!(app.handle(Command::Submit), None);
        assert!(app
            .status()
            .unwrap()
            .text
            .starts_with("Still saving budget.pdf"));
        app.on_saved(Ok(Saved {
            name: "budget.pdf".to_owned(),
            size: 2_400_000,
            path: "/home/alice/budget (2).pdf".to_owned(),
        }));
        assert_eq!(
            app.status().cloned(),
            Some(Status {
                text: "Saved budget.pdf (2.4 MB) to /home/alice/budget (2).pdf.".to_owned(),
                level: Level::Info,
            })
        );
        // Then the next one can go, and a failure says why.
        app.handle(Command::SaveDocument);
        assert!(app.handle(Command::Submit).is_some());
        app.on_saved(Err("the relay could not be reached".to_owned()));
        assert_eq!(
            app.status().cloned(),
            Some(Status {
                text: "budget.pdf was not saved: the relay could not be reached".to_owned(),
                level: Level::Error,
            })
        );
    }

    #[test]
    fn save_progress_does_not_hide_an_alarm() {
        let mut app = app();
        app.on_event(Incoming::Entry(shared("bob", "bob", "budget.pdf", "bb22")));
        app.handle(Command::SaveDocument);
        app.handle(Command::Submit);
        app.on_event(Incoming::Alert("carol was removed from team".to_owned()));
        app.on_save_progress(50);
        assert_eq!(app.status().map(|s| s.level), Some(Level::Alarm));
    }

    /// A room of the test workshop "ann/talks" (see `workshop::tests::talks`).
    fn workshop_room(name: &str, label: &str) -> Room {
        Room {
            id: crate::chat::workshop::tests::room(label),
            name: name.to_owned(),
            group: true,
            posting: Posting::Open,
            retention: Retention::Off,
        }
    }

    #[test]
    fn a_workshop_s_rooms_are_listed_together_and_ctrl_t_asks_for_its_text() {
        use crate::chat::text_view::Content;
        use crate::chat::workshop::tests::{room, talks};
        let mut app = App::new(
            "carol".to_owned(),
            &[
                workshop_room("ann/talks:north", "north"),
                info("bob", false),
                workshop_room("ann/talks", "plenary"),
            ],
        );
        app.set_workshops(vec![talks()]);
        let names: Vec<&str> = app
            .conversations()
            .iter()
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(names, ["ann/talks", "ann/talks:north", "bob"]);
        assert_eq!(
            app.current().map(|c| c.name.as_str()),
            Some("ann/talks:north")
        );

        // From a caucus, the workshop's text; typing goes nowhere while it is shown.
        assert_eq!(
            app.handle(Command::ShowText),
            Some(Action::ShowText {
                plenary: room("plenary")
            })
        );
        assert_eq!(app.text().map(|t| &t.content), Some(&Content::Loading));
        type_text(&mut app, "x");
        assert_eq!(app.input(), "");
        app.on_text(&room("plenary"), Ok(None));
        assert_eq!(app.text().map(|t| &t.content), Some(&Content::NoneYet));
        assert_eq!(app.handle(Command::Escape), None, "Esc closes, not quits");
        assert_eq!(app.text(), None);
        // A late answer is not shown once the text is closed.
        app.on_text(&room("plenary"), Ok(None));
        assert_eq!(app.text(), None);

        // Elsewhere, Ctrl-T says why it shows nothing.
        select(&mut app, "bob");
        assert_eq!(app.handle(Command::ShowText), None);
        assert_eq!(app.text(), None);
        assert!(app
            .status()
            .is_some_and(|s| s.text.contains("not a room of a workshop")));

        // Without workshops (they could not be loaded), the rooms are plain conversations.
        let plain = App::new(
            "carol".to_owned(),
            &[workshop_room("ann/talks:north", "north")],
        );
        assert_eq!(plain.current_workshop(), None);
    }
}
