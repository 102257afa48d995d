//! Makes text from other people safe to print on a terminal.
//!
//! Message text, sender names and group names come from other people. Printed raw, control
//! characters could rewrite the screen (fake a sender, hide a line) and bidirectional
//! overrides could make text read differently than it is stored, so both are replaced.

/// What a dangerous character is shown as.
const REPLACEMENT: char = '\u{FFFD}';

/// Replaces terminal control characters and bidi overrides, keeping line breaks and tabs.
pub(crate) fn for_terminal(text: &str) -> String {
    text.chars()
        .map(|c| if is_dangerous(c) { REPLACEMENT } else { c })
        .collect()
}

/// Like [`for_terminal`], and also folds line breaks into spaces, for text that must stay on
/// one line (error messages).
pub(crate) fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|part| !part.trim().is_empty())
        .map(|part| for_terminal(part.trim()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `c` could rewrite the screen or make text read differently than it is stored
/// (line breaks and tabs are not: [`for_terminal`] keeps them).
pub(crate) fn is_dangerous(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                // Line and paragraph separators: some terminals break lines at them.
                | '\u{2028}'
                | '\u{2029}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_sequences_are_neutralised() {
        assert_eq!(for_terminal("a\u{1b}[2Jb"), "a\u{FFFD}[2Jb");
        assert_eq!(for_terminal("a\rb"), "a\u{FFFD}b");
    }

    #[test]
    fn bidi_overrides_and_unusual_line_breaks_are_neutralised() {
        assert_eq!(for_terminal("x\u{202E}y"), "x\u{FFFD}y");
        assert_eq!(for_terminal("x\u{2028}y\u{85}z"), "x\u{FFFD}y\u{FFFD}z");
    }

    #[test]
    fn ordinary_text_is_untouched() {
        let text = "Offer: 10 000 €\n\tsee attachment — ok? 日本";
        assert_eq!(for_terminal(text), text);
    }

    #[test]
    fn one_line_folds_breaks() {
        assert_eq!(one_line("first\nsecond\r\n third\n"), "first second third");
    }
}
