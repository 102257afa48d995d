//! Draws the chat from its state: conversations on the left, messages in the middle, members
//! on the right, the compose box and the status line below, the help on top when asked for.
//! Drawing never changes the state.

use parley_client::Verification;
use ratatui::layout::{Constraint, Layout, Position, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Clear, List, ListItem, ListState, Paragraph, Wrap};
use ratatui::Frame;

use super::app::{App, Conversation, Level};
use super::model::{Entry, Member};
use crate::sanitize::for_terminal;
use crate::time::utc_minute;

/// Width of the conversation list, borders included.
const LIST_WIDTH: u16 = 26;
/// Width of the member list, borders included.
const MEMBERS_WIDTH: u16 = 30;

/// The keys, as the help shows them; input.rs is the authority on what they do.
const HELP: &[(&str, &str)] = &[
    ("Enter", "send the message"),
    ("Tab, Down, Ctrl-N", "next conversation"),
    ("Shift-Tab, Up, Ctrl-P", "previous conversation"),
    ("PageUp, PageDown", "scroll the messages"),
    ("Backspace", "delete the last character"),
    ("Ctrl-U", "clear the message being written"),
    ("? or F1", "show or hide this help (? in a message types ?)"),
    ("Esc, Ctrl-C, Ctrl-D", "quit"),
];

/// Draws one frame.
pub(super) fn draw(frame: &mut Frame<'_>, app: &App, now_ms: u64) {
    let [main, compose, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(3),
        Constraint::Length(2),
    ])
    .areas(frame.area());
    let [list, messages, members] = Layout::horizontal([
        Constraint::Length(LIST_WIDTH),
        Constraint::Min(20),
        Constraint::Length(MEMBERS_WIDTH),
    ])
    .areas(main);

    draw_conversations(frame, app, list);
    draw_messages(frame, app, messages, now_ms);
    draw_members(frame, app, members);
    draw_compose(frame, app, compose);
    draw_status(frame, app, status);
    if app.help_visible() {
        draw_help(frame);
    }
}

fn draw_conversations(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let items: Vec<ListItem<'_>> = app
        .conversations()
        .iter()
        .map(|c| {
            let mut spans = vec![Span::raw(if c.group { "#" } else { " " })];
            spans.push(Span::raw(for_terminal(&c.name)));
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
        })
        .collect();
    let list = List::new(items)
        .block(Block::bordered().title(" Conversations "))
        .highlight_symbol("> ")
        .highlight_style(Style::new().add_modifier(Modifier::REVERSED));
    let mut state = ListState::default().with_selected(app.selected());
    frame.render_stateful_widget(list, area, &mut state);
}

fn draw_messages(frame: &mut Frame<'_>, app: &App, area: Rect, now_ms: u64) {
    let Some(conversation) = app.current() else {
        let hint = Paragraph::new(
            "No conversations yet. Quit with Esc and start one with `parley chat HANDLE`, \
             or wait here: new conversations appear as soon as someone writes to you.",
        )
        .wrap(Wrap { trim: true })
        .block(Block::bordered().title(" Messages "));
        frame.render_widget(hint, area);
        return;
    };
    let title = format!(
        " {}{} · times in UTC ",
        if conversation.group { "#" } else { "" },
        for_terminal(&conversation.name),
    );
    let block = Block::bordered().title(title);
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
    if message.sender != app.me() {
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

fn draw_members(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let members: &[Member] = app.current().map_or(&[], |c| &c.members);
    let items: Vec<ListItem<'_>> = members
        .iter()
        .map(|m| {
            let name = Span::raw(format!("{} ", for_terminal(&m.handle)));
            if m.handle == app.me() {
                ListItem::new(Line::from(vec![
                    name,
                    Span::styled("(you)", Style::new().fg(Color::DarkGray)),
                ]))
            } else {
                ListItem::new(Line::from(vec![name, status_span(m.status)]))
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

fn draw_compose(frame: &mut Frame<'_>, app: &App, area: Rect) {
    let title = match app.current() {
        Some(c) => format!(" Message to {} · Enter sends ", for_terminal(&c.name)),
        None => " Message ".to_owned(),
    };
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    frame.render_widget(block, area);
    let shown = for_terminal(app.input());
    let width = Line::raw(shown.as_str()).width();
    // Keep the end of a long message, where the cursor is, in view.
    let room = usize::from(inner.width.saturating_sub(1));
    let skip = width.saturating_sub(room);
    let skip = u16::try_from(skip).unwrap_or(u16::MAX);
    frame.render_widget(Paragraph::new(shown).scroll((0, skip)), inner);
    if !app.help_visible() {
        let cursor = u16::try_from(width.min(room)).unwrap_or(0);
        frame.set_cursor_position(Position::new(inner.x.saturating_add(cursor), inner.y));
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
    use parley_client::{GroupId, MessageId};
    use ratatui::backend::TestBackend;
    use ratatui::Terminal;

    use super::*;
    use crate::chat::app::tests::id;
    use crate::chat::app::Command;
    use crate::chat::model::{Incoming, Room};

    const NOW: u64 = 1_700_000_000_000;

    fn screen(app: &App) -> String {
        let mut terminal = Terminal::new(TestBackend::new(120, 30)).unwrap();
        terminal.draw(|frame| draw(frame, app, NOW)).unwrap();
        let buffer = terminal.backend().buffer().clone();
        (0..buffer.area.height)
            .map(|y| {
                (0..buffer.area.width)
                    .map(|x| buffer[(x, y)].symbol())
                    .collect::<String>()
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    fn message(conversation: &str, sender: &str, text: &str, status: Verification) -> Entry {
        Entry {
            id: MessageId::new(GroupId::from_bytes([0; 32]), text.len() as u64),
            conversation: id(conversation),
            conversation_name: conversation.to_owned(),
            sender: sender.to_owned(),
            text: text.to_owned(),
            sent_at_ms: NOW - 60_000,
            status,
            membership: false,
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
            },
            Room {
                id: id("team"),
                name: "team".to_owned(),
                group: true,
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
}
