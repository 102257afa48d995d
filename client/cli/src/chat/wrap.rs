//! How the line being written fills the rows of the compose box: broken at the box's width,
//! counted in terminal columns (a wide character takes two and never straddles two rows), so
//! a long message stays readable as a whole and the cursor is always on screen.

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

use crate::sanitize::for_terminal;

/// A text broken into rows, and the cursor's place among them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wrapped {
    /// The rows, as they are drawn (control characters replaced).
    pub(crate) rows: Vec<String>,
    /// The cursor's row.
    pub(crate) cursor_row: usize,
    /// The cursor's column in that row.
    pub(crate) cursor_column: u16,
}

impl Wrapped {
    /// The index of the first row to draw when only `visible` rows fit: the first one if all
    /// fit, else so that the cursor's row is on screen.
    pub(crate) fn first_visible(&self, visible: usize) -> usize {
        let visible = visible.max(1);
        if self.rows.len() <= visible {
            0
        } else {
            (self.cursor_row + 1).saturating_sub(visible)
        }
    }
}

/// Breaks `text` into rows of at most `width` columns, with the cursor at byte offset
/// `cursor` (a grapheme boundary). A cursor after a full last row gets a row of its own.
pub(crate) fn wrap(text: &str, cursor: usize, width: u16) -> Wrapped {
    let width = usize::from(width.max(1));
    let mut rows = vec![String::new()];
    let mut column = 0usize;
    let mut place = None;
    for (offset, grapheme) in text.grapheme_indices(true) {
        let shown = for_terminal(grapheme);
        let columns = shown.width();
        if column > 0 && column + columns > width {
            rows.push(String::new());
            column = 0;
        }
        if offset == cursor {
            place = Some((rows.len() - 1, column));
        }
        if let Some(row) = rows.last_mut() {
            row.push_str(&shown);
        }
        column += columns;
    }
    let (cursor_row, cursor_column) = match place {
        Some(place) => place,
        None => {
            if column >= width {
                rows.push(String::new());
                column = 0;
            }
            (rows.len() - 1, column)
        }
    };
    Wrapped {
        rows,
        cursor_row,
        cursor_column: u16::try_from(cursor_column).unwrap_or(u16::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str, width: u16) -> Vec<String> {
        wrap(text, text.len(), width).rows
    }

    #[test]
    fn a_short_line_is_one_row_with_the_cursor_at_its_end() {
        let wrapped = wrap("hello", 5, 20);
        assert_eq!(wrapped.rows, ["hello"]);
        assert_eq!((wrapped.cursor_row, wrapped.cursor_column), (0, 5));
        assert_eq!(wrap("", 0, 20).rows, [""]);
    }

    #[test]
    fn a_long_line_wraps_and_the_cursor_follows() {
        assert_eq!(rows("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        let wrapped = wrap("abcdefghij", 5, 4);
        assert_eq!((wrapped.cursor_row, wrapped.cursor_column), (1, 1));
        // A full last row: the cursor after it starts the next one.
        let wrapped = wrap("abcdefgh", 8, 4);
        assert_eq!(wrapped.rows, ["abcd", "efgh", ""]);
        assert_eq!((wrapped.cursor_row, wrapped.cursor_column), (2, 0));
        // The cursor before a character that starts a row is drawn on that row.
        let wrapped = wrap("abcdefgh", 4, 4);
        assert_eq!((wrapped.cursor_row, wrapped.cursor_column), (1, 0));
    }

    #[test]
    fn wide_characters_take_two_columns_and_never_straddle_rows() {
        assert_eq!(wrap("a日本語", 0, 4).rows, ["a日", "本語"]);
        let wrapped = wrap("日本語", "日本".len(), 5);
        assert_eq!(wrapped.rows, ["日本", "語"]);
        assert_eq!((wrapped.cursor_row, wrapped.cursor_column), (1, 0));
        let wrapped = wrap("日本語", "日".len(), 10);
        assert_eq!(wrapped.cursor_column, 2);
        // Combining marks take no column of their own.
        let wrapped = wrap("e\u{301}x", 3, 10);
        assert_eq!(wrapped.cursor_column, 1);
    }

    #[test]
    fn the_cursor_row_is_always_visible() {
        let wrapped = wrap("abcdefghijklmnop", 0, 2);
        assert_eq!(wrapped.rows.len(), 8);
        assert_eq!(wrapped.first_visible(3), 0);
        let wrapped = wrap("abcdefghijklmnop", 16, 2);
        assert_eq!(wrapped.rows.len(), 9);
        assert_eq!(wrapped.first_visible(3), 6);
        let wrapped = wrap("abcdefghijklmnop", 9, 2);
        assert_eq!(wrapped.cursor_row, 4);
        assert_eq!(wrapped.first_visible(3), 2);
        assert_eq!(wrap("ab", 2, 20).first_visible(3), 0);
    }
}
