//! Draws the chat from its state: conversations on the left, messages in the middle, members
//! on the right (as far as the width allows, see `layout`), the compose box and the status
//! line below, the help on top when asked for. Drawing never changes the state; it reports
//! what the message view showed, for the next PageUp.

use parley_client::Verification;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Conversation, Level, Viewport};
use super::layout;
use super::model::{Entry, Member, Posting};
use super::picker::Picker;
use super::wrap::{wrap, Wrapped};
use crate::documents::human_size;
use crate::sanitize::{for_terminal, one_line};
use crate::time::utc_minute;

/// The keys, as the help shows them; input.rs is the authority on what they do.
const HELP: &[(&str, &str)] = &[
    ("Enter", "send the message"),
    ("Tab, Down, Ctrl-N", "next conversation"),
    ("Shift-Tab, Up, Ctrl-P", "previous conversation"),
    ("PageUp, PageDown", "scroll the messages by a page"),
    ("Left, Right", "move in the message (also Ctrl-B, Ctrl-F)"),
    ("Home, End", "go to its start or end (also Ctrl-A, Ctrl-E)"),
    (
        "Ctrl-Left, Ctrl-Right",
        "move by a word (also Alt-B, Alt-F)",
    ),
    ("Backspace, Delete", "delete before or at the cursor"),
    ("Ctrl-W", "delete the word before the cursor"),
    ("Ctrl-U, Ctrl-K", "delete to the start, to the end"),
    (
        "Ctrl-S",
        "save a document of this conversation in the current folder",
    ),
    ("Ctrl-T", "the workshop's negotiating text (Esc closes)"),
    ("? or F1", "show or hide this help (? in a message types ?)"),
    ("Esc, Ctrl-C, Ctrl-D", "quit"),
];

/// Draws one frame.
pub(super) fn draw(frame: &mut Frame<'_>, app: &App, now_ms: u64) -> Viewport {
    let area = frame.area();
    let compose = Compose::of(app, area);
    let panes = layout::panes(area, compose.height());
    if let Some(list) = panes.list {
        draw_conversations(frame, app, list);
    }
    let side = Hidden {
        list: panes.list.is_none(),
        members: panes.members.is_none(),
    };
    let mut viewport = draw_messages(frame, app, panes.messages, side, now_ms);
    // In place of the messages, so the rooms and the members stay in view beside it.
    if let Some(text) = app.text() {
        (viewport.text_rows, viewport.text_max_scroll) =
            super::ui_text::draw(frame, text, panes.messages);
    }
    if let Some(members) = panes.members {
        draw_members(frame, app, members);
    }
    draw_compose(frame, app, &compose, panes.compose);
    draw_status(frame, app, panes.status);
    if let Some(picker) = app.picker() {
        draw_picker(frame, picker, now_ms);
    }
    if app.help_visible() {
        draw_help(frame);
    }
    viewport
}

/// Which side panes did not fit, so the message pane's title stands in for them.
#[derive(Clone, Copy)]
struct Hidden {
    list: bool,
    members: bool,
}

/// What goes below the messages: a compose box, or why there is none.
enum Compose {
    /// The draft, broken into rows, of which `visible` are shown.
    Box { wrapped: Wrapped, visible: u16 },
    /// A line in place of the box: the person may not write here.
    Notice { text: &'static str, height: u16 },
}

impl Compose {
    fn of(app: &App, area: Rect) -> Compose {
        let refusal = match app.current() {
            None => Some("Nothing to write in yet: quit with Esc and start a conversation with `parley chat HANDLE`."),
            Some(conversation) => conversation.posting.explanation(),
        };
        if let Some(text) = refusal {
            let lines = Paragraph::new(text)
                .wrap(Wrap { trim: true })
                .line_count(area.width);
            let height = u16::try_from(lines).unwrap_or(u16::MAX).clamp(1, 3);
            return Compose::Notice { text, height };
        }
        let draft = app.current().map(Conversation::draft);
        let (text, cursor) = draft.map_or(("", 0), |d| (d.text(), d.cursor()));
        let wrapped = wrap(text, cursor, area.width.saturating_sub(2));
        let rows = u16::try_from(wrapped.rows.len()).unwrap_or(u16::MAX);
        let visible = rows.min(layout::compose_rows(area.height));
        Compose::Box { wrapped, visible }
    }

    /// Rows it takes, borders included.
    fn height(&self) -> u16 {
        match self {
            Compose::Box { visible, .. } => visible.saturating_add(2),
            Compose::Notice { height, .. } => *height,
        }
    }
}

/// The conversations, the rooms of each workshop indented under a line with its name (not
/// a conversation itself, so never selected).
fn draw_conversations(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let mut items: Vec<ListItem<'_>> = Vec::with_capacity(app.conversations().len());
    let mut selected_row = None;
    let mut last_workshop = None;
    for (index, c) in app.conversations().iter().enumerate() {
        let workshop = app.workshop_of(&c.id);
        let label = workshop.and_then(|w| w.room_label(&c.id));
        if let Some(w) = workshop {
            if last_workshop != Some(&w.plenary) {
                items.push(ListItem::new(Line::styled(
                    format!(" {} (workshop)", for_terminal(&w.name)),
                    Style::new().add_modifier(Modifier::BOLD),
                )));
            }
        }
        last_workshop = workshop.map(|w| &w.plenary);
        if app.selected() == Some(index) {
            selected_row = Some(items.len());
        }
        items.push(conversation_item(c, label));
    }
    let list = List::new(items)
        .block(Block::bordered().title(" Conversations "))
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = ListState::default().with_selected(selected_row);
    frame.render_stateful_widget(list, area, &mut state);
}

/// One conversation of the list: `#name`, or for a workshop's room its label (`plenary`,
/// `caucus north`) indented under the workshop; then what is new, and the alarm.
fn conversation_item<'a>(c: &Conversation, label: Option<&str>) -> ListItem<'a> {
    let (marker, name) = match label {
        Some(label) => ("   ", label.to_owned()),
        None => (if c.group { "#" } else { " " }, for_terminal(&c.name)),
    };
    // Conversations that can only be read are dimmed.
    let name_style = match c.posting {
        Posting::Open => Style::new(),
        _ => Style::new().fg(Color::DarkGray),
    };
    let mut spans = vec![Span::raw(marker), Span::styled(name, name_style)];
    if c.unread > 0 {
        spans.push(Span::styled(
            format!(" ({})", c.unread),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ));
    }
    if c.key_alarm().is_some() {
        spans.push(Span::styled(" !", alarm_style()));
    }
    ListItem::new(Line::from(spans))
}

fn draw_messages(
    frame: &mut Frame<'_>,
    app: &App,
    area: Rect,
    hidden: Hidden,
    now_ms: u64,
) -> Viewport {
    let Some(conversation) = app.current() else {
        let hint = Paragraph::new(
            "No conversations yet. Quit with Esc and start one with `parley chat HANDLE`, \
             or wait here: new conversations appear as soon as someone writes to you.",
        )
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(" Messages "));
        frame.render_widget(hint, area);
        return Viewport::default();
    };
    let block = Block::bordered().title(messages_title(app, conversation, hidden));
    let inner = block.inner(area);
    frame.render_widget(block, area);

    let mut inner = inner;
    if let Some(handle) = conversation.key_alarm() {
        let banner = Paragraph::new(format!(
            "{}'s identity key has CHANGED. Sending here is blocked: someone may be \
             impersonating them. Compare safety numbers in person with `parley verify {0}`.",
            for_terminal(handle)
        ))
        .style(alarm_style())
        .wrap(Wrap { trim: true });
        let height = (banner.line_count(inner.width) as u16).min(inner.height / 2);
        let [top, rest] =
            Layout::vertical([Constraint::Length(height), Constraint::Min(0)]).areas(inner);
        frame.render_widget(banner, top);
        inner = rest;
    }

    let text = Text::from(
        conversation
            .messages
            .iter()
            .flat_map(|m| message_lines(app, m, now_ms))
            .collect::<Vec<_>>(),
    );
    let paragraph = Paragraph::new(text).wrap(Wrap { trim: false });
    // Newest at the bottom; PageUp scrolls back from there.
    let total = paragraph.line_count(inner.width);
    let bottom = total.saturating_sub(usize::from(inner.height));
    let offset = bottom.saturating_sub(usize::from(app.scroll()));
    let offset = u16::try_from(offset).unwrap_or(u16::MAX);
    frame.render_widget(paragraph.scroll((offset, 0)), inner);
    Viewport {
        rows: inner.height,
        max_scroll: u16::try_from(bottom).unwrap_or(u16::MAX),
        ..Viewport::default()
    }
}

/// The conversation's name; where the side panes did not fit, what they would have said:
/// how many members, and how to reach the other conversations.
fn messages_title(app: &App, conversation: &Conversation, hidden: Hidden) -> String {
    let mut title = format!(
        " {}{}",
        if conversation.group { "#" } else { "" },
        for_terminal(&conversation.name),
    );
    if hidden.members && conversation.group && !conversation.members.is_empty() {
        title.push_str(&format!(" · {} members", conversation.members.len()));
    }
    if conversation.retention.duration().is_some() {
        title.push_str(&format!(
            " · disappears after {}",
            crate::message_view::retention_words(conversation.retention)
        ));
    }
    let count = app.conversations().len();
    if hidden.list && count > 1 {
        let position = app.selected().map_or(0, |i| i + 1);
        title.push_str(&format!(" · {position}/{count}, Tab for next"));
        let unread: usize = app.conversations().iter().map(|c| c.unread).sum();
        if unread > 0 {
            title.push_str(&format!(" · {unread} new elsewhere"));
        }
    }
    title.push_str(" · times in UTC ");
    title
}

/// `HH:MM sender [status]: text`; further lines of a multi-line text are indented. A change
/// of members is `HH:MM * alice added erin to team`.
fn message_lines(app: &App, message: &Entry, now_ms: u64) -> Vec<Line<'static>> {
    let time = Span::styled(
        format!("{} ", short_time(message.sent_at_ms, now_ms)),
        Style::new().fg(Color::DarkGray),
    );
    if message.membership {
        return vec![Line::from(vec![
            time,
            Span::styled(
                format!(
                    "* {} {}",
                    for_terminal(&message.sender),
                    for_terminal(&message.text).replace('\n', " ")
                ),
                Style::new().fg(Color::Yellow),
            ),
        ])];
    }
    let mut header = vec![
        time,
        Span::styled(
            for_terminal(&message.sender),
            Style::new()
                .add_modifier(Modifier::BOLD)
                .fg(if message.sender == app.me() {
                    Color::Cyan
                } else {
                    Color::Green
                }),
        ),
    ];
    // A side or role speaks for nobody in particular: there is no one's key to vouch for.
    if message.sender != app.me() && !message.attributed {
        header.push(Span::raw(" "));
        header.push(status_span(message.status));
    }
    header.push(Span::raw(": "));
    // Tabs would be drawn as nothing; other control characters are neutralised.
    let text = for_terminal(&message.text).replace('\t', "    ");
    let mut parts = text.split('\n');
    header.push(Span::raw(parts.next().unwrap_or_default().to_owned()));
    let mut lines = vec![Line::from(header)];
    lines.extend(parts.map(|part| Line::from(format!("    {part}"))));
    lines
}

/// Today's messages by time only, older ones with their date.
fn short_time(sent_at_ms: u64, now_ms: u64) -> String {
    let when = utc_minute(sent_at_ms);
    let today = utc_minute(now_ms);
    match (when.split_once(' '), today.split_once(' ')) {
        (Some((day, time)), Some((this_day, _))) if day == this_day => time.to_owned(),
        _ => when,
    }
}

/// The members with their status; in a workshop's room, with their role or side too
/// (`carol  north  [unverified]`; the status goes to a line of its own where the pane is too
/// narrow for both, so that a changed key is never cut off).
fn draw_members(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let members: &[Member] = app.current().map_or(&[], |c| &c.members);
    let workshop = app.current_workshop();
    let width = usize::from(area.width.saturating_sub(2));
    let items: Vec<ListItem<'_>> = members
        .iter()
        .map(|m| {
            let role = workshop.and_then(|w| w.role_of(&m.handle));
            let mut name = vec![Span::raw(for_terminal(&m.handle))];
            if let Some(role) = role {
                name.push(Span::raw("  "));
                name.push(Span::styled(role.to_owned(), Style::new().fg(Color::Cyan)));
                name.push(Span::raw("  "));
            } else {
                name.push(Span::raw(" "));
            }
            let status = if m.handle == app.me() {
                Span::styled("(you)", Style::new().fg(Color::DarkGray))
            } else {
                status_span(m.status)
            };
            let used: usize = name.iter().map(Span::width).sum();
            if role.is_some() && used + status.width() > width {
                ListItem::new(vec![
                    Line::from(name),
                    Line::from(vec![Span::raw("  "), status]),
                ])
            } else {
                name.push(status);
                ListItem::new(Line::from(name))
            }
        })
        .collect();
    let title = match app.current() {
        Some(Conversation { members, .. }) if !members.is_empty() => {
            format!(" Members ({}) ", members.len())
        }
        _ => " Members ".to_owned(),
    };
    frame.render_widget(List::new(items).block(Block::bordered().title(title)), area);
}

fn draw_compose(frame: &mut Frame<'_>, app: &App, compose: &Compose, area: Rect) {
    let (wrapped, visible) = match compose {
        Compose::Notice { text, .. } => {
            let notice = Paragraph::new(*text)
                .style(Style::new().fg(Color::Yellow))
                .wrap(Wrap { trim: true });
            frame.render_widget(notice, area);
            return;
        }
        Compose::Box { wrapped, visible } => (wrapped, usize::from(*visible)),
    };
    let title = match app.current() {
        Some(c) => format!(" Message to {} · Enter sends ", for_terminal(&c.name)),
        None => " Message ".to_owned(),
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    // A long message wraps; when it is taller than the box, the rows around the cursor show.
    let first = wrapped.first_visible(visible);
    let rows: Vec<Line<'_>> = wrapped
        .rows
        .iter()
        .skip(first)
        .take(visible)
        .map(|row| Line::raw(row.as_str()))
        .collect();
    frame.render_widget(Paragraph::new(rows), inner);
    // Under an overlay, the cursor would blink in the middle of it.
    if !app.help_visible() && app.picker().is_none() && app.text().is_none() {
        let row = u16::try_from(wrapped.cursor_row.saturating_sub(first)).unwrap_or(0);
        frame.set_cursor_position(Position::new(
            inner.x.saturating_add(wrapped.cursor_column),
            inner.y.saturating_add(row),
        ));
    }
}

fn draw_status(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let line = match app.status() {
        Some(status) => {
            let style = match status.level {
                Level::Info => Style::new(),
                Level::Error => Style::new().fg(Color::Red),
                Level::Alarm => alarm_style(),
            };
            Line::styled(for_terminal(&status.text), style)
        }
        // Ctrl-S is pointed out where it has something to save.
        None if app
            .current()
            .is_some_and(|c| c.messages.iter().any(|m| m.document.is_some())) =>
        {
            Line::styled(
                "? help · Enter send · Ctrl-S save a document · Tab next conversation · Esc quit",
                Style::new().fg(Color::DarkGray),
            )
        }
        // Ctrl-T is pointed out in a workshop's rooms, where it has a text to show.
        None if app.current_workshop().is_some() => Line::styled(
            "? help · Enter send · Ctrl-T the text · Tab next conversation · Esc quit",
            Style::new().fg(Color::DarkGray),
        ),
        None => Line::styled(
            "? help · Enter send · Tab next conversation · Esc quit",
            Style::new().fg(Color::DarkGray),
        ),
    };
    frame.render_widget(Paragraph::new(line).wrap(Wrap { trim: true }), area);
}

fn draw_help(frame: &mut Frame<'_>) {
    let mut lines: Vec<Line<'_>> = HELP
        .iter()
        .map(|(keys, what)| {
            Line::from(vec![
                Span::styled(
                    format!("{keys:<24}"),
                    Style::new().add_modifier(Modifier::BOLD),
                ),
                Span::raw(*what),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::raw("Beside each name:"));
    lines.push(Line::from(vec![
        status_span(Verification::Verified),
        Span::raw("    you compared safety numbers in person"),
    ]));
    lines.push(Line::from(vec![
        status_span(Verification::Unverified),
        Span::raw("  not compared yet: `parley verify NAME`"),
    ]));
    lines.push(Line::from(vec![
        status_span(Verification::Changed),
        Span::raw("     their key changed; sending is blocked until you"),
    ]));
    lines.push(Line::raw(
        "              verify again or run `parley contact accept-new-key NAME`",
    ));
    lines.push(Line::raw(""));
    lines.push(Line::raw(
        "(n) after a conversation: new messages you have not seen.",
    ));
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 76, height);
    let help = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::bordered().title(" Keys · press any key to close "));
    frame.render_widget(Clear, area);
    frame.render_widget(help, area);
}

/// The documents of the conversation on screen, newest first, the chosen one highlighted:
/// "budget.pdf (2.4 MB) from bob, 10:31".
fn draw_picker(frame: &mut Frame<'_>, picker: &Picker, now_ms: u64) {
    let items: Vec<ListItem<'_>> = picker
        .choices()
        .iter()
        .map(|choice| {
            ListItem::new(Line::from(vec![
                Span::raw(format!(
                    "{} ({})",
                    one_line(&choice.document.name),
                    human_size(choice.document.size)
                )),
                Span::styled(
                    format!(
                        " from {}, {}",
                        for_terminal(&choice.sender),
                        short_time(choice.sent_at_ms, now_ms)
                    ),
                    Style::new().fg(Color::DarkGray),
                ),
            ]))
        })
        .collect();
    let rows = u16::try_from(items.len()).unwrap_or(u16::MAX);
    let area = centered(frame.area(), 76, rows.saturating_add(2));
    let list = List::new(items)
        .block(Block::bordered().title(" Save which document? · Enter saves · Esc closes "))
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = ListState::default().with_selected(Some(picker.chosen()));
    frame.render_widget(Clear, area);
    frame.render_stateful_widget(list, area, &mut state);
}

fn status_span(status: Verification) -> Span<'static> {
    match status {
        Verification::Verified => Span::styled("[verified]", Style::new().fg(Color::Green)),
        Verification::Changed => Span::styled("[CHANGED]", alarm_style()),
        _ => Span::styled("[unverified]", Style::new().fg(Color::Yellow)),
    }
}

fn alarm_style() -> Style {
    Style::new()
        .fg(Color::White)
        .bg(Color::Red)
        .add_modifier(Modifier::BOLD)
}

/// A box of at most `width` × `height` in the middle of `area`.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

#[cfg(test)]
mod tests {
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::chat::app::tests::id;
    use crate::chat::app::Command;
    use unicode_width::UnicodeWidthStr;

    use crate::chat::line_editor::Edit;
    use crate::chat::model::{Incoming, Room};
    use parley_client::Retention;

    const NOW: u64 = 1_700_000_000_000;

    fn screen(app: &App) -> String {
        screen_of(app, 120, 30).0
    }

    /// The screen's text at this size, and where the cursor was put.
    fn screen_of(app: &App, width: u16, height: u16) -> (String, Position) {
        let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        terminal.draw(|frame| _ = draw(frame, app, NOW)).unwrap();
        let cursor = terminal.get_cursor_position().unwrap();
        let buffer = terminal.backend().buffer().clone();
        let text = (0..buffer.area.height)
            .map(|y| {
                // A wide character's second cell is drawn over by it: skipped, as a
                // terminal shows it.
                let mut row = String::new();
                let mut x = 0;
                while x < buffer.area.width {
                    let symbol = buffer[(x, y)].symbol();
                    row.push_str(symbol);
                    x += u16::try_from(symbol.width()).unwrap().max(1);
                }
                row
            })
            .collect::<Vec<_>>()
            .join("\n");
        (text, cursor)
    }

    fn row_of<'a>(screen: &'a str, needle: &str) -> &'a str {
        screen
            .lines()
            .find(|row| row.contains(needle))
            .unwrap_or_else(|| panic!("no row with {needle:?} in\n{screen}"))
    }

    fn message(conversation: &str, sender: &str, text: &str, status: Verification) -> Entry {
        Entry {
            status,
            sent_at_ms: NOW - 60_000,
            ..crate::chat::app::tests::message(conversation, sender, text)
        }
    }

    fn member(handle: &str, status: Verification) -> Member {
        Member {
            handle: handle.to_owned(),
            status,
        }
    }

    fn app() -> App {
        let rooms = [
            Room {
                id: id("bob"),
                name: "bob".to_owned(),
                group: false,
                posting: Posting::Open,
                retention: Retention::Off,
            },
            Room {
                id: id("team"),
                name: "team".to_owned(),
                group: true,
                posting: Posting::Open,
                retention: Retention::Off,
            },
        ];
        App::new("alice".to_owned(), &rooms)
    }

    #[test]
    fn shows_messages_with_sender_status_and_unread_counts() {
        let mut app = app();
        app.on_event(Incoming::Entry(message(
            "bob",
            "bob",
            "the offer stands",
            Verification::Verified,
        )));
        app.on_event(Incoming::Entry(message(
            "team",
            "carol",
            "agenda?",
            Verification::Unverified,
        )));
        app.set_members(
            &id("bob"),
            vec![
                member("alice", Verification::Verified),
                member("bob", Verification::Verified),
            ],
        );
        let shown = screen(&app);
        assert!(
            shown.contains("22:12 bob [verified]: the offer stands"),
            "{shown}"
        );
        assert!(shown.contains("#team (1)"), "{shown}");
        assert!(shown.contains("alice (you)"), "{shown}");
        assert!(shown.contains("Message to bob"), "{shown}");
    }

    #[test]
    fn a_changed_key_shows_a_banner() {
        let mut app = app();
        app.set_members(&id("bob"), vec![member("bob", Verification::Changed)]);
        let shown = screen(&app);
        assert!(shown.contains("bob's identity key has CHANGED"), "{shown}");
        assert!(shown.contains("[CHANGED]"), "{shown}");
    }

    #[test]
    fn help_lists_the_keys() {
        let mut app = app();
        assert!(!screen(&app).contains("press any key to close"));
        app.handle(Command::ToggleHelp);
        let shown = screen(&app);
        assert!(shown.contains("press any key to close"), "{shown}");
        assert!(shown.contains("next conversation"), "{shown}");
    }

    #[test]
    fn a_document_is_one_line_and_ctrl_s_lists_the_documents() {
        let mut app = app();
        assert!(!screen(&app).contains("Ctrl-S"), "nothing to save yet");
        let shared = Entry {
            sent_at_ms: NOW - 60_000,
            ..crate::chat::app::tests::shared("bob", "bob", "budget.pdf", "7f3c1a2b9d")
        };
        app.on_event(Incoming::Entry(shared));
        // Wide enough for the line not to wrap.
        let shown = screen_of(&app, 200, 30).0;
        assert!(
            shown.contains("22:12 bob [unverified]: [document] budget.pdf (2.4 MB) id 7f3c1a2b"),
            "{shown}"
        );
        assert!(shown.contains("Ctrl-S save a document"), "{shown}");
        app.handle(Command::SaveDocument);
        let shown = screen(&app);
        assert!(shown.contains("Save which document?"), "{shown}");
        assert!(
            row_of(&shown, "> budget.pdf (2.4 MB) from bob, 22:12").contains("│"),
            "{shown}"
        );
    }

    #[test]
    fn the_newest_message_stays_in_view() {
        let mut app = app();
        for i in 0..100 {
            app.on_event(Incoming::Entry(message(
                "bob",
                "bob",
                &format!("line number {i}"),
                Verification::Unverified,
            )));
        }
        let shown = screen(&app);
        assert!(shown.contains("line number 99"), "{shown}");
        assert!(!shown.contains("line number 10 "), "{shown}");
    }

    #[test]
    fn control_characters_from_others_are_neutralised() {
        let mut app = app();
        app.on_event(Incoming::Entry(message(
            "bob",
            "bob",
            "a\u{1b}[2Jb",
            Verification::Unverified,
        )));
        let shown = screen(&app);
        assert!(shown.contains("a\u{FFFD}[2Jb"), "{shown}");
    }

    #[test]
    fn dates_are_shown_only_for_older_messages() {
        assert_eq!(short_time(NOW - 60_000, NOW), "22:12");
        assert_eq!(short_time(NOW - 86_400_000, NOW), "2023-11-13 22:13");
    }

    fn type_text(app: &mut App, text: &str) {
        text.chars().for_each(|c| _ = app.handle(Command::Type(c)));
    }

    #[test]
    fn at_80_columns_the_list_narrows_and_the_members_go() {
        let mut app = app();
        let long = "x".repeat(47);
        app.on_event(Incoming::Entry(message(
            "bob",
            "alice",
            &long,
            Verification::Verified,
        )));
        app.set_members(&id("bob"), vec![member("carol", Verification::Verified)]);
        let (shown, _) = screen_of(&app, 80, 24);
        // "22:12 alice: " and 47 characters: 60 columns, on one row.
        assert!(shown.contains(&format!("22:12 alice: {long}")), "{shown}");
        assert!(shown.contains("Conversations"), "{shown}");
        assert!(!shown.contains("Members"), "{shown}");
        assert!(!shown.contains("carol"), "{shown}");
    }

    #[test]
    fn below_60_columns_the_title_says_how_to_switch() {
        let mut app = app();
        app.on_event(Incoming::Entry(message(
            "team",
            "carol",
            "agenda?",
            Verification::Verified,
        )));
        let (shown, _) = screen_of(&app, 50, 20);
        assert!(!shown.contains("Conversations"), "{shown}");
        assert!(shown.contains(" bob · 1/2, Tab for next"), "{shown}");
        app.handle(Command::NextConversation);
        app.set_members(
            &id("team"),
            vec![
                member("alice", Verification::Verified),
                member("carol", Verification::Verified),
            ],
        );
        let (shown, _) = screen_of(&app, 80, 24);
        assert!(shown.contains("#team · 2 members"), "{shown}");
    }

    #[test]
    fn the_cursor_is_where_the_edit_happens_even_after_wide_characters() {
        let mut app = app();
        type_text(&mut app, "価格 ok");
        let (shown, cursor) = screen_of(&app, 80, 24);
        let compose = row_of(&shown, "価格 ok");
        assert!(compose.starts_with("│価格 ok"), "{shown}");
        let row = u16::try_from(shown.lines().position(|r| r == compose).unwrap()).unwrap();
        // Two wide characters, a space and two letters.
        assert_eq!(cursor, Position::new(1 + 7, row));
        app.handle(Command::Edit(Edit::Home));
        app.handle(Command::Edit(Edit::Right));
        let (_, cursor) = screen_of(&app, 80, 24);
        assert_eq!(cursor, Position::new(1 + 2, row));
    }

    #[test]
    fn a_long_draft_wraps_and_the_box_grows() {
        let mut app = app();
        let words: Vec<String> = (0..40).map(|i| format!("word{i:02}")).collect();
        type_text(&mut app, &words.join(" "));
        let (shown, cursor) = screen_of(&app, 80, 24);
        // 279 characters in rows of 78: four rows, all on screen, the cursor after the last.
        assert!(shown.contains("word00 word01"), "{shown}");
        assert!(shown.contains("word39"), "{shown}");
        let last = row_of(&shown, "word39");
        let row = u16::try_from(shown.lines().position(|r| r == last).unwrap()).unwrap();
        assert_eq!(cursor.y, row);
        // Taller than the box may grow: the start scrolls out, the cursor's row stays.
        type_text(&mut app, &format!(" {}", words.join(" ")));
        let (shown, cursor) = screen_of(&app, 80, 24);
        assert!(!shown.contains("word00 word01"), "{shown}");
        assert_eq!(cursor.y, 24 - 2 - 2);
        app.handle(Command::Edit(Edit::Home));
        let (shown, cursor) = screen_of(&app, 80, 24);
        assert!(shown.contains("│word00 word01"), "{shown}");
        assert_eq!(cursor.x, 1);
    }

    #[test]
    fn no_compose_box_where_the_person_may_not_write() {
        let mut app = app();
        app.merge_conversations(&[Room {
            id: id("team"),
            name: "team".to_owned(),
            group: true,
            posting: Posting::Removed,
            retention: Retention::Off,
        }]);
        app.handle(Command::NextConversation);
        let (shown, _) = screen_of(&app, 80, 24);
        assert!(!shown.contains("Message to"), "{shown}");
        assert!(
            shown.contains(
                "You were removed from this group; you can read its history but not write."
            ),
            "{shown}"
        );
        app.handle(Command::NextConversation);
        let (shown, _) = screen_of(&app, 80, 24);
        assert!(shown.contains("Message to bob"), "{shown}");
    }

    #[test]
    fn the_view_reports_its_height_and_how_far_it_scrolls() {
        let mut app = app();
        for i in 0..100 {
            app.on_event(Incoming::Entry(message(
                "bob",
                "bob",
                &format!("line number {i}"),
                Verification::Unverified,
            )));
        }
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
        let mut viewport = Viewport::default();
        terminal
            .draw(|frame| viewport = draw(frame, &app, NOW))
            .unwrap();
        // 24 rows less the compose box (3), the status line (2) and the borders (2).
        assert_eq!(viewport.rows, 17);
        assert_eq!(viewport.max_scroll, 100 - 17);
    }

    #[test]
    fn a_workshop_is_grouped_with_roles_and_its_text_numbered() {
        use crate::chat::workshop::tests::{room, talks};
        let rooms = [
            Room {
                id: room("plenary"),
                name: "ann/talks".to_owned(),
                group: true,
                posting: Posting::Open,
                retention: Retention::Off,
            },
            Room {
                id: room("north"),
                name: "ann/talks:north".to_owned(),
                group: true,
                posting: Posting::Open,
                retention: Retention::Off,
            },
        ];
        let mut app = App::new("carol".to_owned(), &rooms);
        app.set_workshops(vec![talks()]);
        app.set_members(
            &room("plenary"),
            vec![
                member("ann", Verification::Unverified),
                member("carol", Verification::Verified),
                member("dave", Verification::Changed),
            ],
        );
        let said = Entry {
            attributed: true,
            conversation: room("plenary"),
            conversation_name: "ann/talks".to_owned(),
            ..message("bob", "south", "we accept", Verification::Unverified)
        };
        app.on_event(Incoming::Entry(said));
        let shown = screen(&app);
        assert!(shown.contains(" ann/talks (workshop)"), "{shown}");
        assert!(row_of(&shown, "> ").contains("   plenary"), "{shown}");
        assert!(shown.contains("│     caucus north"), "{shown}");
        assert!(shown.contains("22:12 south: we accept"), "{shown}");
        assert!(shown.contains("carol  north  (you)"), "{shown}");
        assert!(shown.contains("dave  south  [CHANGED]"), "{shown}");
        // Too wide for one row: the status goes below, never cut off.
        assert!(shown.contains("ann  facilitator "), "{shown}");
        assert!(shown.contains("│  [unverified]"), "{shown}");

        app.handle(Command::ShowText);
        assert!(screen(&app).contains("Loading the text"));
        let version: parley_client::TextVersionInfo = serde_json::from_value(serde_json::json!({
            "number": 2,
            "hash": "ab",
            "previous": "cd",
            "text": "Article 1. Meet again.\n\nArticle 2. A ceasefire\nholds.\n",
            "published_by": "facilitator",
            "published_at_ms": NOW,
        }))
        .unwrap();
        app.on_text(&room("plenary"), Ok(Some(version)));
        let shown = screen(&app);
        assert!(shown.contains("Text of ann/talks · version 2"), "{shown}");
        assert!(shown.contains("[1] Article 1. Meet again."), "{shown}");
        assert!(shown.contains("[2] Article 2. A ceasefire"), "{shown}");
        assert!(shown.contains("    holds."), "{shown}");
        assert!(!shown.contains("south: we accept"), "{shown}");
        app.on_text(&room("plenary"), Ok(None));
        let shown = screen(&app);
        assert!(
            shown.contains("No version of the text has been published yet."),
            "{shown}"
        );
    }
}
