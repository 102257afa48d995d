//! The workshop record as a Markdown document, written by a facilitator at the end.
//!
//! Everything members wrote is either escaped inline or fenced (see the private `markdown`
//! module), so the document's headings and tables are only ever the ones written here.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use super::text::TextChain;

mod markdown;
mod utc;

use markdown::{fenced, inline};
use utc::iso8601;

/// One entry of the plenary record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordEntry {
    /// When it was said, in milliseconds since the Unix epoch.
    pub at_ms: u64,
    /// Who said it, already as the attribution policy allows ("north", "participant", or
    /// a handle).
    pub author: String,
    /// What was said.
    pub text: String,
}

/// A member's comment on one paragraph of one version of the text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Comment {
    /// The version commented on.
    pub version: u32,
    /// The paragraph, numbered from 1 within that version.
    pub para: u32,
    /// Who commented, already attributed.
    pub author: String,
    /// The comment.
    pub text: String,
    /// When, in milliseconds since the Unix epoch.
    pub at_ms: u64,
}

/// Everything the exported record shows.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The workshop's name.
    pub workshop: &'a str,
    /// The attribution policy in force, by name.
    pub attribution: &'a str,
    /// What the policy means for readers of the record.
    pub attribution_note: &'a str,
    /// Participants as (handle, role).
    pub roster: &'a [(String, String)],
    /// Every version of the text.
    pub chain: &'a TextChain,
    /// Comments on the text.
    pub comments: &'a [Comment],
    /// The plenary record, in order.
    pub plenary: &'a [RecordEntry],
    /// Who exported the record.
    pub exported_by: &'a str,
    /// When, in milliseconds since the Unix epoch.
    pub exported_at_ms: u64,
}

/// The record as Markdown: title and export line, attribution policy, participants, the
/// final text with its hashes, the version chain, comments by version and paragraph, and
/// the plenary record. Times are UTC.
pub fn render(record: &Record<'_>) -> String {
    let mut out = format!("# Workshop record: {}\n\n", inline(record.workshop));
    out.push_str(&format!(
        "Exported by {} at {} (UTC).\n\n",
        inline(record.exported_by),
        iso8601(record.exported_at_ms)
    ));
    out.push_str(&format!(
        "**Attribution:** {}\n\n",
        inline(record.attribution)
    ));
    if !record.attribution_note.trim().is_empty() {
        out.push_str(&format!("{}\n\n", inline(record.attribution_note)));
    }
    participants(&mut out, record.roster);
    final_text(&mut out, record.chain);
    version_chain(&mut out, record.chain);
    comments(&mut out, record.comments);
    plenary(&mut out, record.plenary);
    // Sections end with a blank line to separate them from the next; the last needs none.
    out.truncate(out.trim_end().len());
    out.push('\n');
    out
}

/// The "Participants" table.
fn participants(out: &mut String, roster: &[(String, String)]) {
    out.push_str("## Participants\n\n");
    if roster.is_empty() {
        out.push_str("No participants recorded.\n\n");
        return;
    }
    out.push_str("| Handle | Role |\n| --- | --- |\n");
    for (handle, role) in roster {
        out.push_str(&format!("| {} | {} |\n", inline(handle), inline(role)));
    }
    out.push('\n');
}

/// The latest version in full, with its version hash and the plain SHA-256 of its text
/// (which anyone can check with standard tools against a copy they hold).
fn final_text(out: &mut String, chain: &TextChain) {
    let Some(latest) = chain.latest() else {
        out.push_str("## Final text\n\nNo version of the text was published.\n\n");
        return;
    };
    out.push_str(&format!("## Final text (version {})\n\n", latest.number));
    out.push_str(&format!(
        "Published by {} at {} (UTC).\n\n",
        inline(&latest.published_by),
        iso8601(latest.published_at_ms)
    ));
    out.push_str(&format!(
        "- Version hash (SHA-256 over version number, previous hash and text): `{}`\n",
        hex::encode(latest.hash())
    ));
    out.push_str(&format!(
        "- SHA-256 of the text alone: `{}`\n\n",
        hex::encode(Sha256::digest(latest.text.as_bytes()))
    ));
    out.push_str(&fenced(&latest.text));
    out.push('\n');
}

/// The "Version chain" table: each version's hash and the previous hash it names.
fn version_chain(out: &mut String, chain: &TextChain) {
    out.push_str("## Version chain\n\n");
    if chain.versions().is_empty() {
        out.push_str("No versions.\n\n");
        return;
    }
    out.push_str(
        "| Version | Hash | Previous | Published by | Published at (UTC) |\n\
         | --- | --- | --- | --- | --- |\n",
    );
    for version in chain.versions() {
        out.push_str(&format!(
            "| {} | `{}` | `{}` | {} | {} |\n",
            version.number,
            hex::encode(version.hash()),
            hex::encode(version.previous),
            inline(&version.published_by),
            iso8601(version.published_at_ms)
        ));
    }
    out.push('\n');
}

/// The "Comments" section, by version, then paragraph, then time.
fn comments(out: &mut String, comments: &[Comment]) {
    out.push_str("## Comments\n\n");
    if comments.is_empty() {
        out.push_str("No comments.\n\n");
        return;
    }
    let mut grouped: BTreeMap<u32, BTreeMap<u32, Vec<&Comment>>> = BTreeMap::new();
    for comment in comments {
        grouped
            .entry(comment.version)
            .or_default()
            .entry(comment.para)
            .or_default()
            .push(comment);
    }
    for (version, paragraphs) in grouped {
        out.push_str(&format!("### Version {version}\n\n"));
        for (para, mut list) in paragraphs {
            // Stable: comments made in the same millisecond keep the order given.
            list.sort_by_key(|comment| comment.at_ms);
            out.push_str(&format!("#### ¶{para}\n\n"));
            for comment in list {
                out.push_str(&format!(
                    "**{}**, {} (UTC):\n\n",
                    who(&comment.author),
                    iso8601(comment.at_ms)
                ));
                out.push_str(&fenced(&comment.text));
                out.push('\n');
            }
        }
    }
}

/// The "Plenary record" section, in the order given.
fn plenary(out: &mut String, entries: &[RecordEntry]) {
    out.push_str("## Plenary record\n\n");
    if entries.is_empty() {
        out.push_str("Nothing was recorded in plenary.\n\n");
        return;
    }
    for entry in entries {
        out.push_str(&format!(
            "**{}**, {} (UTC):\n\n",
            who(&entry.author),
            iso8601(entry.at_ms)
        ));
        out.push_str(&fenced(&entry.text));
        out.push('\n');
    }
}

/// An author label for bold text: empty would leave a bare "****".
fn who(author: &str) -> String {
    let label = inline(author);
    if label.is_empty() {
        "(no name)".to_owned()
    } else {
        label
    }
}

#[cfg(test)]
mod tests;
