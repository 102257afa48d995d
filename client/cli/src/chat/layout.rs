//! Where each pane goes for a terminal of a given size. The messages are what a person reads
//! and answers, so they get the width first: the members pane goes below 100 columns (the
//! messages still mark each sender's status), the conversation list narrows, and below 60
//! columns it goes too (the messages pane's title then says how to switch).
//!
//! | columns  | conversations | messages     | members |
//! |----------|---------------|--------------|---------|
//! | 120 and more | 26        | the rest     | 30      |
//! | 100..120 | 20            | the rest     | 24      |
//! | 60..100  | 16            | the rest     | hidden  |
//! | under 60 | hidden        | all          | hidden  |

use ratatui::layout::{Constraint, Layout, Rect};

/// Rows of the status line at the bottom (it wraps a long explanation onto a second row).
const STATUS_HEIGHT: u16 = 2;

/// The areas of one frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Panes {
    /// The conversation list, when there is room for it.
    pub(crate) list: Option<Rect>,
    /// The messages of the conversation on screen.
    pub(crate) messages: Rect,
    /// The members of that conversation, when there is room for them.
    pub(crate) members: Option<Rect>,
    /// The compose box, or the line saying why there is none.
    pub(crate) compose: Rect,
    /// The status line.
    pub(crate) status: Rect,
}

/// The widths of the conversation list and of the members pane (0: hidden), borders
/// included, for a terminal `width` columns wide.
pub(crate) fn side_widths(width: u16) -> (u16, u16) {
    match width {
        120.. => (26, 30),
        100..120 => (20, 24),
        60..100 => (16, 0),
        _ => (0, 0),
    }
}

/// How many rows of text the compose box may grow to on a terminal `height` rows high, so
/// that a long message never crowds out the messages.
pub(crate) fn compose_rows(height: u16) -> u16 {
    (height / 6).clamp(1, 5)
}

/// The panes of `area`, with `compose_height` rows for the compose box (borders included).
pub(crate) fn panes(area: Rect, compose_height: u16) -> Panes {
    let [main, compose, status] = Layout::vertical([
        Constraint::Min(3),
        Constraint::Length(compose_height),
        Constraint::Length(STATUS_HEIGHT),
    ])
    .areas(area);
    let (list_width, members_width) = side_widths(area.width);
    let [list, messages, members] = Layout::horizontal([
        Constraint::Length(list_width),
        Constraint::Min(1),
        Constraint::Length(members_width),
    ])
    .areas(main);
    Panes {
        list: (list_width > 0).then_some(list),
        messages,
        members: (members_width > 0).then_some(members),
        compose,
        status,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(width: u16, height: u16, compose_height: u16) -> Panes {
        panes(Rect::new(0, 0, width, height), compose_height)
    }

    #[test]
    fn at_80_by_24_the_messages_get_most_of_the_width() {
        let panes = at(80, 24, 3);
        assert_eq!(panes.list.map(|r| r.width), Some(16));
        assert_eq!(panes.members, None);
        assert_eq!(panes.messages.width, 64);
        assert_eq!(panes.messages.x, 16);
        assert_eq!(panes.messages.height, 24 - 3 - 2);
        assert_eq!(panes.compose, Rect::new(0, 19, 80, 3));
        assert_eq!(panes.status, Rect::new(0, 22, 80, 2));
        assert_eq!(compose_rows(24), 4);
    }

    #[test]
    fn at_100_by_30_both_side_panes_are_shown() {
        let panes = at(100, 30, 3);
        assert_eq!(panes.list.map(|r| r.width), Some(20));
        assert_eq!(panes.members.map(|r| (r.x, r.width)), Some((76, 24)));
        assert_eq!(panes.messages.width, 56);
        assert_eq!(panes.messages.height, 25);
        assert_eq!(compose_rows(30), 5);
    }

    #[test]
    fn at_50_by_20_only_the_messages_are_shown() {
        let panes = at(50, 20, 4);
        assert_eq!(panes.list, None);
        assert_eq!(panes.members, None);
        assert_eq!(panes.messages, Rect::new(0, 0, 50, 14));
        assert_eq!(panes.compose, Rect::new(0, 14, 50, 4));
        assert_eq!(compose_rows(20), 3);
    }

    #[test]
    fn wide_terminals_keep_the_full_side_panes() {
        let panes = at(120, 40, 3);
        assert_eq!(panes.list.map(|r| r.width), Some(26));
        assert_eq!(panes.members.map(|r| r.width), Some(30));
        assert_eq!(panes.messages.width, 64);
        assert_eq!(side_widths(99), (16, 0));
        assert_eq!(side_widths(59), (0, 0));
        assert_eq!(compose_rows(5), 1);
    }
}
