//! Draws the negotiating text (Ctrl-T) in place of the messages: who published the version
//! and when, then its paragraphs numbered as `parley text show` and `text comment` number
//! them, so that "paragraph 3" means the same everywhere.

use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};
use ratatui::Frame;

use super::text_view::{Content, TextView};
use crate::sanitize::for_terminal;
use crate::time::utc_minute;

/// Draws `view` over `area`; returns the rows of text on screen and how far it scrolls.
pub(super) fn draw(frame: &mut Frame<'_>, view: &TextView, area: Rect) -> (u16, u16) {
    let mut title = format!(" Text of {}", for_terminal(&view.workshop));
    if let Content::Shown { number, .. } = &view.content {
        title.push_str(&format!(" · version {number}"));
    }
    title.push_str(" · Esc closes ");
    let block = Block::bordered().title(title);
    let inner = block.inner(area);
    let paragraph = Paragraph::new(lines(view)).wrap(Wrap { trim: false });
    let total = paragraph.line_count(inner.width);
    let max_scroll =
        u16::try_from(total.saturating_sub(usize::from(inner.height))).unwrap_or(u16::MAX);
    frame.render_widget(Clear, area);
    frame.render_widget(
        paragraph
            .block(block)
            .scroll((view.scroll.min(max_scroll), 0)),
        area,
    );
    (inner.height, max_scroll)
}

/// The rows to show, before wrapping.
fn lines(view: &TextView) -> Vec<Line<'static>> {
    let dim = Style::new().fg(Color::DarkGray);
    match &view.content {
        Content::Loading => vec![Line::styled("Loading the text…", dim)],
        Content::NoneYet => vec![Line::raw("No version of the text has been published yet.")],
        Content::Failed(why) => vec![Line::styled(
            format!("Cannot show the text: {}", for_terminal(why)),
            Style::new().fg(Color::Red),
        )],
        Content::Shown {
            number,
            published_by,
            published_at_ms,
            paragraphs,
        } => {
            let mut lines = vec![Line::styled(
                format!(
                    "Version {number}, published by {} on {} UTC",
                    for_terminal(published_by),
                    utc_minute(*published_at_ms)
                ),
                dim,
            )];
            for (index, paragraph) in paragraphs.iter().enumerate() {
                lines.push(Line::raw(""));
                // Further lines of a paragraph are indented under its first.
                let text = for_terminal(paragraph).replace('\t', "    ");
                let mut rows = text.split('\n');
                let first = rows.next().unwrap_or_default();
                lines.push(Line::raw(format!("[{}] {first}", index + 1)));
                lines.extend(rows.map(|row| Line::raw(format!("    {row}"))));
            }
            lines
        }
    }
}
