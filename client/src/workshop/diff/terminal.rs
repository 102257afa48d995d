//! The comparison as text for a terminal.

use super::ParagraphChange;
use crate::workshop::text::printable;

/// The changes from version `from` to version `to`, for a terminal:
///
/// ```text
/// Changes from version 1 to version 2:
/// ¶1 unchanged
/// ¶2 changed
///   - old wording
///   + new wording
/// ¶3 removed
///   - dropped paragraph
/// ¶4–5 unchanged (now ¶3–4)
/// added as ¶5
///   + new paragraph
/// 1 changed, 1 added, 1 removed, 3 unchanged
/// ```
///
/// A paragraph is named by its number in version `from`, with "(now ¶N)" where its number
/// in version `to` differs; an added paragraph has only the latter. Every line of a
/// paragraph is shown, with control characters and bidi overrides replaced so that
/// published text cannot drive the terminal.
pub fn render(changes: &[ParagraphChange], from: u32, to: u32) -> String {
    let mut out = format!("Changes from version {from} to version {to}:\n");
    let mut counts = Counts::default();
    let mut run: Option<Run> = None;
    for change in changes {
        if let ParagraphChange::Unchanged { old, new } = *change {
            counts.unchanged += 1;
            match run.as_mut() {
                Some(current) if current.continues(old, new) => current.len += 1,
                _ => {
                    if let Some(done) = run.replace(Run { old, new, len: 1 }) {
                        done.write(&mut out);
                    }
                }
            }
            continue;
        }
        if let Some(done) = run.take() {
            done.write(&mut out);
        }
        match change {
            ParagraphChange::Changed {
                old,
                new,
                before,
                after,
            } => {
                counts.changed += 1;
                out.push_str(&format!("¶{old} changed{}\n", now(*old, *new)));
                lines(&mut out, '-', before);
                lines(&mut out, '+', after);
            }
            ParagraphChange::Removed { old, text } => {
                counts.removed += 1;
                out.push_str(&format!("¶{old} removed\n"));
                lines(&mut out, '-', text);
            }
            ParagraphChange::Added { new, text } => {
                counts.added += 1;
                out.push_str(&format!("added as ¶{new}\n"));
                lines(&mut out, '+', text);
            }
            ParagraphChange::Unchanged { .. } => {}
        }
    }
    if let Some(done) = run {
        done.write(&mut out);
    }
    let Counts {
        changed,
        added,
        removed,
        unchanged,
    } = counts;
    out.push_str(&format!(
        "{changed} changed, {added} added, {removed} removed, {unchanged} unchanged\n"
    ));
    out
}

/// How many paragraphs each kind of change covers.
#[derive(Default)]
struct Counts {
    /// Reworded paragraphs.
    changed: usize,
    /// Paragraphs only in the later version.
    added: usize,
    /// Paragraphs only in the earlier version.
    removed: usize,
    /// Paragraphs in both.
    unchanged: usize,
}

/// Consecutive unchanged paragraphs, shown as one line.
struct Run {
    /// The first one's number in the earlier version.
    old: usize,
    /// The first one's number in the later version.
    new: usize,
    /// How many.
    len: usize,
}

impl Run {
    /// Whether paragraph `old` (now `new`) is the next one of this run.
    fn continues(&self, old: usize, new: usize) -> bool {
        old == self.old + self.len && new == self.new + self.len
    }

    /// Writes the run's line.
    fn write(&self, out: &mut String) {
        let last = self.len.saturating_sub(1);
        let old = range(self.old, self.old + last);
        let now = if self.old == self.new {
            String::new()
        } else {
            format!(" (now ¶{})", range(self.new, self.new + last))
        };
        out.push_str(&format!("¶{old} unchanged{now}\n"));
    }
}

/// "3" or "3–5".
fn range(first: usize, last: usize) -> String {
    if first == last {
        first.to_string()
    } else {
        format!("{first}–{last}")
    }
}

/// " (now ¶N)" when a paragraph's number changed, else nothing.
fn now(old: usize, new: usize) -> String {
    if old == new {
        String::new()
    } else {
        format!(" (now ¶{new})")
    }
}

/// Every line of `text`, indented and marked.
fn lines(out: &mut String, marker: char, text: &str) {
    for line in text.lines() {
        out.push_str(&format!("  {marker} {}\n", printable(line)));
    }
}
