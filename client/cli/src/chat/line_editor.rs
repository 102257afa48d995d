//! The line being written: its text, a cursor, and the editing keys of a shell's line, the
//! ones fingers already know (readline's and emacs's).
//!
//! The cursor is a byte offset that always sits on a grapheme boundary, so no edit splits a
//! multibyte character, separates an accent from its letter or cuts a flag in two.

use unicode_segmentation::UnicodeSegmentation;

/// A change of the line or of the cursor, as a key asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Edit {
    /// One character (grapheme) left.
    Left,
    /// One character right.
    Right,
    /// To the start of this word, or of the previous one.
    WordLeft,
    /// To the end of this word, or of the next one.
    WordRight,
    /// To the start of the line.
    Home,
    /// To the end of the line.
    End,
    /// Delete the character before the cursor.
    Backspace,
    /// Delete the character at the cursor.
    Delete,
    /// Delete from the start of the word before the cursor up to the cursor.
    DeleteWordBefore,
    /// Delete everything before the cursor.
    DeleteToStart,
    /// Delete everything from the cursor on.
    DeleteToEnd,
}

/// A line of text being written, with its cursor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LineEditor {
    text: String,
    /// Byte offset into `text`, on a grapheme boundary.
    cursor: usize,
}

impl LineEditor {
    /// The text.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Where the cursor is: a byte offset into [`LineEditor::text`], on a grapheme boundary.
    pub(crate) fn cursor(&self) -> usize {
        self.cursor
    }

    /// Inserts a character at the cursor and moves past it. Control characters are dropped:
    /// they would only be shown as replacement characters to the people reading.
    pub(crate) fn insert(&mut self, c: char) {
        if c.is_control() {
            return;
        }
        self.text.insert(self.cursor, c);
        self.cursor += c.len_utf8();
        // A combining mark or a joiner may have merged with its neighbour: the cursor goes
        // to the end of the character it became part of.
        self.cursor = self.boundary_at_or_after(self.cursor);
    }

    /// Applies an edit; one that cannot move or delete anything (Left at the start) does
    /// nothing.
    pub(crate) fn apply(&mut self, edit: Edit) {
        let at = self.cursor;
        match edit {
            Edit::Left => self.cursor = self.previous_boundary(at),
            Edit::Right => self.cursor = self.next_boundary(at),
            Edit::WordLeft => self.cursor = self.word_start_before(at),
            Edit::WordRight => self.cursor = self.word_end_after(at),
            Edit::Home => self.cursor = 0,
            Edit::End => self.cursor = self.text.len(),
            Edit::Backspace => self.delete(self.previous_boundary(at), at),
            Edit::Delete => self.delete(at, self.next_boundary(at)),
            Edit::DeleteWordBefore => self.delete(self.word_start_before(at), at),
            Edit::DeleteToStart => self.delete(0, at),
            Edit::DeleteToEnd => self.delete(at, self.text.len()),
        }
    }

    /// Empties the line and returns what it held.
    pub(crate) fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Puts back a text that could not be sent: alone with the cursor at its end if the line
    /// is empty, else in front of what was typed since (it was written first), the cursor
    /// staying in the text it was in.
    pub(crate) fn restore(&mut self, unsent: &str) {
        if self.text.is_empty() {
            self.text = unsent.to_owned();
            self.cursor = self.text.len();
        } else if !unsent.is_empty() {
            self.text.insert(0, ' ');
            self.text.insert_str(0, unsent);
            self.cursor += unsent.len() + 1;
        }
    }

    /// Removes `start..end` (both boundaries) and leaves the cursor at `start`.
    fn delete(&mut self, start: usize, end: usize) {
        if start < end {
            self.text.replace_range(start..end, "");
        }
        self.cursor = start;
    }

    fn previous_boundary(&self, at: usize) -> usize {
        self.before(at).next_back().map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, at: usize) -> usize {
        self.after(at).next().map_or(at, |(i, g)| i + g.len())
    }

    /// The first grapheme boundary at or after `at` (a byte offset that may be inside one).
    fn boundary_at_or_after(&self, at: usize) -> usize {
        std::iter::once(0)
            .chain(self.text.grapheme_indices(true).map(|(i, g)| i + g.len()))
            .find(|&boundary| boundary >= at)
            .unwrap_or(self.text.len())
    }

    /// Back over the separators before `at`, then over the word before them.
    fn word_start_before(&self, at: usize) -> usize {
        let mut start = at;
        let mut in_word = false;
        for (i, g) in self.before(at).rev() {
            match (is_word(g), in_word) {
                (true, _) => in_word = true,
                (false, true) => break,
                (false, false) => {}
            }
            start = i;
        }
        start
    }

    /// Forward over the separators after `at`, then over the word after them.
    fn word_end_after(&self, at: usize) -> usize {
        let mut end = at;
        let mut in_word = false;
        for (i, g) in self.after(at) {
            match (is_word(g), in_word) {
                (true, _) => in_word = true,
                (false, true) => break,
                (false, false) => {}
            }
            end = i + g.len();
        }
        end
    }

    /// The graphemes before `at`, with their byte offsets.
    fn before(&self, at: usize) -> impl DoubleEndedIterator<Item = (usize, &str)> {
        self.text
            .get(..at)
            .unwrap_or_default()
            .grapheme_indices(true)
    }

    /// The graphemes from `at` on, with their byte offsets into the whole text.
    fn after(&self, at: usize) -> impl Iterator<Item = (usize, &str)> {
        self.text
            .get(at..)
            .unwrap_or_default()
            .grapheme_indices(true)
            .map(move |(i, g)| (at + i, g))
    }
}

/// Letters and digits make words; spaces and punctuation separate them.
fn is_word(grapheme: &str) -> bool {
    grapheme
        .chars()
        .next()
        .is_some_and(|c| c.is_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LineEditor {
        let mut line = LineEditor::default();
        text.chars().for_each(|c| line.insert(c));
        line
    }

    /// The text with the cursor drawn as `|`.
    fn shown(line: &LineEditor) -> String {
        let mut text = line.text().to_owned();
        text.insert(line.cursor(), '|');
        text
    }

    fn after(text: &str, edits: &[Edit]) -> String {
        let mut line = line(text);
        edits.iter().for_each(|&e| line.apply(e));
        shown(&line)
    }

    #[test]
    fn typing_appends_and_moves_the_cursor() {
        assert_eq!(shown(&line("helo")), "helo|");
        let mut fixed = line("helo");
        fixed.apply(Edit::Left);
        fixed.insert('l');
        assert_eq!(shown(&fixed), "hell|o");
    }

    #[test]
    fn cursor_moves_stop_at_both_ends() {
        use Edit::*;
        assert_eq!(after("ab", &[Left, Left, Left]), "|ab");
        assert_eq!(after("ab", &[Home, Right, Right, Right]), "ab|");
        assert_eq!(after("ab", &[Home]), "|ab");
        assert_eq!(after("ab", &[Home, End]), "ab|");
        assert_eq!(
            after("", &[Left, Right, WordLeft, WordRight, Backspace, Delete]),
            "|"
        );
    }

    #[test]
    fn words_jump_over_punctuation_and_spaces() {
        use Edit::*;
        assert_eq!(after("hello, big world", &[WordLeft]), "hello, big |world");
        assert_eq!(
            after("hello, big world", &[WordLeft, WordLeft]),
            "hello, |big world"
        );
        assert_eq!(
            after(
                "hello, big world",
                &[WordLeft, WordLeft, WordLeft, WordLeft]
            ),
            "|hello, big world"
        );
        assert_eq!(
            after("hello, big world", &[Home, WordRight]),
            "hello|, big world"
        );
        assert_eq!(
            after("hello, big world", &[Home, WordRight, WordRight]),
            "hello, big| world"
        );
        assert_eq!(after("end.  ", &[WordLeft]), "|end.  ");
    }

    #[test]
    fn deleting_before_at_and_around_the_cursor() {
        use Edit::*;
        assert_eq!(after("abc", &[Left, Backspace]), "a|c");
        assert_eq!(after("abc", &[Left, Delete]), "ab|");
        assert_eq!(after("abc", &[Home, Backspace]), "|abc");
        assert_eq!(after("abc", &[Delete]), "abc|");
        assert_eq!(
            after("offer: ten units", &[DeleteWordBefore]),
            "offer: ten |"
        );
        assert_eq!(
            after("offer: ten units", &[DeleteWordBefore, DeleteWordBefore]),
            "offer: |"
        );
        assert_eq!(after("offer: ten", &[WordLeft, DeleteWordBefore]), "|ten");
        assert_eq!(after("offer: ten", &[WordLeft, DeleteToStart]), "|ten");
        assert_eq!(after("offer: ten", &[WordLeft, DeleteToEnd]), "offer: |");
    }

    #[test]
    fn multibyte_text_is_edited_by_whole_characters() {
        use Edit::*;
        assert_eq!(after("prix 10 €", &[Backspace]), "prix 10 |");
        assert_eq!(after("日本語", &[Left, Backspace]), "日|語");
        assert_eq!(after("日本語", &[Home, Right, Delete]), "日|語");
        assert_eq!(
            after("Grüße aus Köln", &[WordLeft, WordLeft]),
            "Grüße |aus Köln"
        );
        assert_eq!(after("Grüße aus Köln", &[DeleteWordBefore]), "Grüße aus |");
        assert_eq!(after("日本 語", &[WordLeft, DeleteWordBefore]), "|語");
    }

    #[test]
    fn graphemes_are_never_split() {
        use Edit::*;
        // "e" and a combining acute accent, a family emoji joined with ZWJs, a flag.
        let text = "e\u{301}👨\u{200d}👩\u{200d}👧🇫🇷";
        assert_eq!(after(text, &[Backspace]), "e\u{301}👨\u{200d}👩\u{200d}👧|");
        assert_eq!(after(text, &[Left, Backspace]), "e\u{301}|🇫🇷");
        assert_eq!(after(text, &[Home, Delete]), "|👨\u{200d}👩\u{200d}👧🇫🇷");
        assert_eq!(
            after(text, &[Home, Right]),
            "e\u{301}|👨\u{200d}👩\u{200d}👧🇫🇷"
        );
        // The accent typed after its letter joins it; the cursor ends after both.
        let mut accented = line("cafe");
        accented.insert('\u{301}');
        assert_eq!(shown(&accented), "cafe\u{301}|");
        accented.apply(Left);
        assert_eq!(shown(&accented), "caf|e\u{301}");
        // Every edit at every position leaves the text valid and the cursor on a boundary.
        for edit in [
            Left,
            Right,
            WordLeft,
            WordRight,
            Backspace,
            Delete,
            DeleteWordBefore,
            DeleteToStart,
            DeleteToEnd,
        ] {
            for start in 0..=6 {
                let mut line = line(text);
                line.apply(Home);
                (0..start).for_each(|_| line.apply(Right));
                line.apply(edit);
                line.insert('x');
                assert!(line.text().is_char_boundary(line.cursor()), "{edit:?}");
            }
        }
    }

    #[test]
    fn control_characters_are_not_typed() {
        assert_eq!(shown(&line("a\u{1b}[2J\rb")), "a[2Jb|");
    }

    #[test]
    fn take_empties_and_restore_puts_an_unsent_text_back_first() {
        let mut line = line("offer");
        assert_eq!(line.take(), "offer");
        assert_eq!(shown(&line), "|");
        line.restore("offer");
        assert_eq!(shown(&line), "offer|");

        let mut busy = self::line("and mo");
        busy.apply(Edit::Left);
        busy.restore("offer");
        assert_eq!(shown(&busy), "offer and m|o");
    }
}
