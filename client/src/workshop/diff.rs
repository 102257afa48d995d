//! Comparing two versions of the text paragraph by paragraph, the unit members comment on
//! and negotiate over, rather than line by line.

use super::text::paragraphs;

mod terminal;

pub use terminal::render;

/// Above this many paragraph pairs the comparison is made by position instead of by
/// longest common subsequence, whose table would grow too large (4 million `u32`s is 16 MB).
const LCS_LIMIT: usize = 4_000_000;

/// What happened to one paragraph between two versions. Numbers are 1-based: `old` in the
/// earlier version, `new` in the later one.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ParagraphChange {
    /// The paragraph is the same in both versions.
    Unchanged {
        /// Its number in the earlier version.
        old: usize,
        /// Its number in the later version.
        new: usize,
    },
    /// The paragraph is only in the earlier version.
    Removed {
        /// Its number in the earlier version.
        old: usize,
        /// Its text.
        text: String,
    },
    /// The paragraph is only in the later version.
    Added {
        /// Its number in the later version.
        new: usize,
        /// Its text.
        text: String,
    },
    /// The paragraph was reworded in place.
    Changed {
        /// Its number in the earlier version.
        old: usize,
        /// Its number in the later version.
        new: usize,
        /// Its text in the earlier version.
        before: String,
        /// Its text in the later version.
        after: String,
    },
}

/// One step of an alignment, by 0-based paragraph index.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Paragraph `.0` of the old text is paragraph `.1` of the new one.
    Same(usize, usize),
    /// Old paragraph `.0` is not in the new text.
    Removed(usize),
    /// New paragraph `.0` is not in the old text.
    Added(usize),
}

/// The paragraph changes from `old` to `new`: a longest common subsequence of paragraphs,
/// with removals and additions at the same place paired up, in order, as changes. When
/// the part that differs has more than 4 million paragraph pairs, paragraphs are paired by
/// position instead so that time and memory stay bounded.
pub fn diff(old: &str, new: &str) -> Vec<ParagraphChange> {
    let old = paragraphs(old);
    let new = paragraphs(new);
    pair_up(&align(&old, &new), &old, &new)
}

/// Aligns the two paragraph lists. The common head and tail are matched first: edits are
/// usually local, and it keeps the quadratic part to the span that actually differs.
fn align(old: &[String], new: &[String]) -> Vec<Step> {
    let head = old.iter().zip(new).take_while(|(a, b)| a == b).count();
    let tail = old[head..]
        .iter()
        .rev()
        .zip(new[head..].iter().rev())
        .take_while(|(a, b)| a == b)
        .count();
    let old_middle = &old[head..old.len() - tail];
    let new_middle = &new[head..new.len() - tail];

    let mut steps: Vec<Step> = (0..head).map(|i| Step::Same(i, i)).collect();
    let middle = if old_middle.len().saturating_mul(new_middle.len()) > LCS_LIMIT {
        by_position(old_middle, new_middle)
    } else {
        by_lcs(old_middle, new_middle)
    };
    steps.extend(middle.into_iter().map(|step| match step {
        Step::Same(i, j) => Step::Same(head + i, head + j),
        Step::Removed(i) => Step::Removed(head + i),
        Step::Added(j) => Step::Added(head + j),
    }));
    let (old_tail, new_tail) = (old.len() - tail, new.len() - tail);
    steps.extend((0..tail).map(|k| Step::Same(old_tail + k, new_tail + k)));
    steps
}

/// Longest common subsequence by dynamic programming over suffixes, walked forward so that
/// within a differing stretch removals come before additions.
fn by_lcs(old: &[String], new: &[String]) -> Vec<Step> {
    let (n, m) = (old.len(), new.len());
    let width = m + 1;
    // table[i * width + j]: length of the LCS of old[i..] and new[j..].
    let mut table = vec![0u32; (n + 1) * width];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            table[i * width + j] = if old[i] == new[j] {
                table[(i + 1) * width + j + 1] + 1
            } else {
                table[(i + 1) * width + j].max(table[i * width + j + 1])
            };
        }
    }

    let mut steps = Vec::with_capacity(n + m);
    let (mut i, mut j) = (0, 0);
    while i < n && j < m {
        if old[i] == new[j] {
            steps.push(Step::Same(i, j));
            i += 1;
            j += 1;
        } else if table[(i + 1) * width + j] >= table[i * width + j + 1] {
            steps.push(Step::Removed(i));
            i += 1;
        } else {
            steps.push(Step::Added(j));
            j += 1;
        }
    }
    steps.extend((i..n).map(Step::Removed));
    steps.extend((j..m).map(Step::Added));
    steps
}

/// Pairs paragraph k of one text with paragraph k of the other: crude, but linear.
fn by_position(old: &[String], new: &[String]) -> Vec<Step> {
    let mut steps = Vec::with_capacity(old.len() + new.len());
    for k in 0..old.len().max(new.len()) {
        match (old.get(k), new.get(k)) {
            (Some(a), Some(b)) if a == b => steps.push(Step::Same(k, k)),
            (a, b) => {
                if a.is_some() {
                    steps.push(Step::Removed(k));
                }
                if b.is_some() {
                    steps.push(Step::Added(k));
                }
            }
        }
    }
    steps
}

/// Turns steps into changes. Within each stretch between unchanged paragraphs the first
/// removal pairs with the first addition, and so on; what is left over stays removed or
/// added.
fn pair_up(steps: &[Step], old: &[String], new: &[String]) -> Vec<ParagraphChange> {
    let mut changes = Vec::with_capacity(steps.len());
    let mut removed = Vec::new();
    let mut added = Vec::new();
    for step in steps {
        match *step {
            Step::Removed(i) => removed.push(i),
            Step::Added(j) => added.push(j),
            Step::Same(i, j) => {
                flush(&mut removed, &mut added, old, new, &mut changes);
                changes.push(ParagraphChange::Unchanged {
                    old: i + 1,
                    new: j + 1,
                });
            }
        }
    }
    flush(&mut removed, &mut added, old, new, &mut changes);
    changes
}

/// Emits one stretch of removals and additions, paired as far as they go.
fn flush(
    removed: &mut Vec<usize>,
    added: &mut Vec<usize>,
    old: &[String],
    new: &[String],
    changes: &mut Vec<ParagraphChange>,
) {
    let text = |list: &[String], k: usize| list.get(k).cloned().unwrap_or_default();
    let paired = removed.len().min(added.len());
    for (&i, &j) in removed.iter().zip(added.iter()) {
        changes.push(ParagraphChange::Changed {
            old: i + 1,
            new: j + 1,
            before: text(old, i),
            after: text(new, j),
        });
    }
    for &i in &removed[paired..] {
        changes.push(ParagraphChange::Removed {
            old: i + 1,
            text: text(old, i),
        });
    }
    for &j in &added[paired..] {
        changes.push(ParagraphChange::Added {
            new: j + 1,
            text: text(new, j),
        });
    }
    removed.clear();
    added.clear();
}

#[cfg(test)]
mod tests;
