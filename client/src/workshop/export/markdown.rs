//! Putting text written by members into Markdown without letting it change the document's
//! structure: a message must not be able to forge a heading, a table row or a section.
//!
//! Two forms only. Short labels (names, handles, roles) go inline, on one line, with every
//! character Markdown could act on escaped; they never start a line, so block syntax cannot
//! apply. Anything longer goes in a fenced code block whose fence is longer than any run
//! of backticks inside, and inside a fence nothing is interpreted.

use crate::workshop::text::printable;

/// Characters escaped in inline text: those that start emphasis, code, links, images,
/// HTML, entities, table cells, strikethrough, math, or close an ATX heading. Backslash
/// escapes are defined for every ASCII punctuation character, so each is shown as itself.
const INLINE_SPECIAL: &[char] = &[
    '\\', '`', '*', '_', '[', ']', '(', ')', '<', '>', '&', '|', '~', '!', '#', '$',
];

/// `text` as inline Markdown on one line: line breaks become spaces, unprintable
/// characters are replaced, and Markdown punctuation is backslash-escaped.
pub(super) fn inline(text: &str) -> String {
    let one_line: String = text
        .chars()
        .map(|c| if matches!(c, '\r' | '\n') { ' ' } else { c })
        .collect();
    let mut out = String::with_capacity(one_line.len());
    for c in printable(one_line.trim()).chars() {
        if INLINE_SPECIAL.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// `text` as a fenced code block, ending with a newline. Lines are split on "\n" and
/// "\r\n"; a lone '\r' (a line break to CommonMark) is replaced with the other
/// unprintable characters, so the fence sees exactly the lines counted here.
pub(super) fn fenced(text: &str) -> String {
    let fence = "`".repeat(longest_backtick_run(text).max(2) + 1);
    let mut out = format!("{fence}text\n");
    for line in text.lines() {
        out.push_str(&printable(line));
        out.push('\n');
    }
    out.push_str(&fence);
    out.push('\n');
    out
}

/// The length of the longest run of consecutive backticks in `text`.
fn longest_backtick_run(text: &str) -> usize {
    text.split(|c| c != '`').map(str::len).max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_escapes_markdown_and_joins_lines() {
        assert_eq!(inline("a|b"), "a\\|b");
        assert_eq!(inline("*x* [l](u) <b>"), "\\*x\\* \\[l\\]\\(u\\) \\<b\\>");
        assert_eq!(
            inline("\n## Final text (version 99)\n"),
            "\\#\\# Final text \\(version 99\\)"
        );
        assert_eq!(inline("north-east, 2.0"), "north-east, 2.0");
        assert_eq!(inline("a\u{1b}b"), "a\u{FFFD}b");
    }

    #[test]
    fn fence_outgrows_backticks_inside() {
        assert_eq!(fenced("plain"), "```text\nplain\n```\n");
        assert_eq!(fenced("a ``` b"), "````text\na ``` b\n````\n");
        assert_eq!(fenced("`````"), "``````text\n`````\n``````\n");
        assert_eq!(fenced(""), "```text\n```\n");
    }

    #[test]
    fn fence_normalises_line_breaks() {
        assert_eq!(fenced("a\r\nb\rc"), "```text\na\nb\u{FFFD}c\n```\n");
    }
}
