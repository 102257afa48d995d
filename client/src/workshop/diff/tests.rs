#![allow(clippy::unwrap_used)]

use super::ParagraphChange::{Added, Changed, Removed, Unchanged};
use super::*;

fn s(text: &str) -> String {
    text.to_owned()
}

#[test]
fn identical_texts_are_unchanged() {
    let text = "A\n\nB\n\nC";
    assert_eq!(
        diff(text, text),
        vec![
            Unchanged { old: 1, new: 1 },
            Unchanged { old: 2, new: 2 },
            Unchanged { old: 3, new: 3 },
        ]
    );
}

#[test]
fn whitespace_only_differences_are_unchanged() {
    assert_eq!(
        diff("A  \r\n\r\n\r\nB", "A\n\nB\n"),
        vec![Unchanged { old: 1, new: 1 }, Unchanged { old: 2, new: 2 }]
    );
}

#[test]
fn empty_texts() {
    assert!(diff("", "").is_empty());
    assert_eq!(
        diff("", "A\n\nB"),
        vec![
            Added {
                new: 1,
                text: s("A")
            },
            Added {
                new: 2,
                text: s("B")
            },
        ]
    );
    assert_eq!(
        diff("A", "\n\n"),
        vec![Removed {
            old: 1,
            text: s("A")
        }]
    );
}

#[test]
fn insertion_in_the_middle() {
    assert_eq!(
        diff("A\n\nC", "A\n\nB\n\nC"),
        vec![
            Unchanged { old: 1, new: 1 },
            Added {
                new: 2,
                text: s("B")
            },
            Unchanged { old: 2, new: 3 },
        ]
    );
}

#[test]
fn deletion_in_the_middle() {
    assert_eq!(
        diff("A\n\nB\n\nC", "A\n\nC"),
        vec![
            Unchanged { old: 1, new: 1 },
            Removed {
                old: 2,
                text: s("B")
            },
            Unchanged { old: 3, new: 2 },
        ]
    );
}

#[test]
fn rewording_is_a_change() {
    assert_eq!(
        diff("A\n\nB\n\nC", "A\n\nB, amended\n\nC"),
        vec![
            Unchanged { old: 1, new: 1 },
            Changed {
                old: 2,
                new: 2,
                before: s("B"),
                after: s("B, amended"),
            },
            Unchanged { old: 3, new: 3 },
        ]
    );
}

#[test]
fn uneven_stretch_pairs_in_order_and_leaves_the_rest() {
    assert_eq!(
        diff("A\n\nB1\n\nB2\n\nB3\n\nC", "A\n\nX1\n\nC"),
        vec![
            Unchanged { old: 1, new: 1 },
            Changed {
                old: 2,
                new: 2,
                before: s("B1"),
                after: s("X1"),
            },
            Removed {
                old: 3,
                text: s("B2")
            },
            Removed {
                old: 4,
                text: s("B3")
            },
            Unchanged { old: 5, new: 3 },
        ]
    );
    assert_eq!(
        diff("A\n\nB\n\nC", "A\n\nX\n\nY\n\nC"),
        vec![
            Unchanged { old: 1, new: 1 },
            Changed {
                old: 2,
                new: 2,
                before: s("B"),
                after: s("X"),
            },
            Added {
                new: 3,
                text: s("Y")
            },
            Unchanged { old: 3, new: 4 },
        ]
    );
}

#[test]
fn a_moved_paragraph_is_removed_and_added() {
    assert_eq!(
        diff("A\n\nB\n\nC", "B\n\nC\n\nA"),
        vec![
            Removed {
                old: 1,
                text: s("A")
            },
            Unchanged { old: 2, new: 1 },
            Unchanged { old: 3, new: 2 },
            Added {
                new: 3,
                text: s("A")
            },
        ]
    );
}

#[test]
fn multi_line_paragraphs_compare_whole() {
    assert_eq!(
        diff("one\ntwo\n\nthree", "one\ntwo!\n\nthree"),
        vec![
            Changed {
                old: 1,
                new: 1,
                before: s("one\ntwo"),
                after: s("one\ntwo!"),
            },
            Unchanged { old: 2, new: 2 },
        ]
    );
}

/// `count` paragraphs that differ between the texts, except that new paragraph 1001
/// repeats old paragraph 501: only an LCS would match those two.
fn shifted_match(count: usize) -> Vec<ParagraphChange> {
    let old: Vec<String> = (0..count).map(|k| format!("old {k}")).collect();
    let mut new: Vec<String> = (0..count).map(|k| format!("new {k}")).collect();
    new[1000] = s("old 500");
    diff(&old.join("\n\n"), &new.join("\n\n"))
}

#[test]
fn lcs_up_to_the_bound() {
    // 2000 × 2000 is exactly the bound.
    let changes = shifted_match(2000);
    assert!(changes.contains(&Unchanged {
        old: 501,
        new: 1001
    }));
}

#[test]
fn large_texts_fall_back_to_position() {
    // 2001 × 2001 differing paragraphs exceed the bound.
    let changes = shifted_match(2001);
    assert_eq!(changes.len(), 2001);
    assert!(changes.iter().all(|c| matches!(c, Changed { .. })));
    assert_eq!(
        changes[1000],
        Changed {
            old: 1001,
            new: 1001,
            before: s("old 1000"),
            after: s("old 500"),
        }
    );
}

#[test]
fn fallback_by_position_handles_uneven_lengths() {
    let old = [s("a"), s("b"), s("c")];
    let new = [s("a"), s("x")];
    let changes = pair_up(&by_position(&old, &new), &old, &new);
    assert_eq!(
        changes,
        vec![
            Unchanged { old: 1, new: 1 },
            Changed {
                old: 2,
                new: 2,
                before: s("b"),
                after: s("x"),
            },
            Removed {
                old: 3,
                text: s("c")
            },
        ]
    );
}

#[test]
fn render_is_pinned() {
    let old = "A\n\nB\n\nC\n\nD\n\nE";
    let new = "A\n\nB2\nmore\n\nD\n\nE\n\nF";
    let rendered = render(&diff(old, new), 1, 2);
    assert_eq!(
        rendered,
        "Changes from version 1 to version 2:\n\
         ¶1 unchanged\n\
         ¶2 changed\n\
         \x20 - B\n\
         \x20 + B2\n\
         \x20 + more\n\
         ¶3 removed\n\
         \x20 - C\n\
         ¶4–5 unchanged (now ¶3–4)\n\
         added as ¶5\n\
         \x20 + F\n\
         1 changed, 1 added, 1 removed, 3 unchanged\n"
    );
}

#[test]
fn render_of_no_changes() {
    assert_eq!(
        render(&diff("A\n\nB", "A\n\nB"), 3, 4),
        "Changes from version 3 to version 4:\n\
         ¶1–2 unchanged\n\
         0 changed, 0 added, 0 removed, 2 unchanged\n"
    );
    assert_eq!(
        render(&[], 1, 2),
        "Changes from version 1 to version 2:\n0 changed, 0 added, 0 removed, 0 unchanged\n"
    );
}

#[test]
fn render_keeps_terminal_controls_out() {
    let rendered = render(&diff("A", "A\u{1b}[2J"), 1, 2);
    assert!(!rendered.contains('\u{1b}'));
    assert!(rendered.contains("  + A\u{FFFD}[2J\n"));
}
