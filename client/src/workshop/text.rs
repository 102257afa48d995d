//! The negotiating text: numbered versions chained by hash, and its paragraphs.
//!
//! Each version commits to the one before it, so a member holding the latest hash can show
//! exactly which sequence of texts the room saw; that only holds if the chain refuses any
//! version that does not follow on from the one it has.

use sha2::{Digest, Sha256};

/// Separates version hashes from every other SHA-256 Parley computes.
const VERSION_DOMAIN: &[u8] = b"parley text version v1";

/// One published version of the text.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TextVersion {
    /// 1 for the first version, one more for each after it.
    pub number: u32,
    /// The hash of the version before, all zeros for the first.
    pub previous: [u8; 32],
    /// The text itself.
    pub text: String,
    /// Who published it (a handle).
    pub published_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub published_at_ms: u64,
}

impl TextVersion {
    /// The version's hash, see [`version_hash`]. Publisher and time are not covered: they
    /// are facts about delivery, and the chain vouches only for which text came after which.
    pub fn hash(&self) -> [u8; 32] {
        version_hash(self.number, &self.previous, &self.text)
    }
}

/// SHA-256 over `b"parley text version v1" || u32 BE number || previous || u64 BE text
/// length || text bytes`. The length prefix keeps the encoding unambiguous should fields
/// ever follow the text.
pub fn version_hash(number: u32, previous: &[u8; 32], text: &str) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(VERSION_DOMAIN);
    hasher.update(number.to_be_bytes());
    hasher.update(previous);
    // usize is at most 64 bits on every target Rust supports.
    hasher.update((text.len() as u64).to_be_bytes());
    hasher.update(text.as_bytes());
    hasher.finalize().into()
}

/// Why a version cannot be appended to a chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// The version's number is not the one after the latest (a gap or a repeat).
    #[error("expected version {expected} of the text, got version {got}")]
    OutOfOrder {
        /// The number the next version must carry.
        expected: u32,
        /// The number it carried.
        got: u32,
    },
    /// The version does not name the latest version's hash as its previous one: it was
    /// written against a text this room did not see.
    #[error("version {number} of the text does not follow on from the version before it")]
    WrongPrevious {
        /// The number of the refused version.
        number: u32,
    },
}

/// The chain of versions a room has seen, in order.
///
/// Deserializing checks every link again, so a stored chain cannot hold what
/// [`TextChain::append`] would have refused.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "UncheckedChain")]
pub struct TextChain {
    versions: Vec<TextVersion>,
}

/// A chain as stored, before its links are checked.
#[derive(serde::Deserialize)]
struct UncheckedChain {
    versions: Vec<TextVersion>,
}

impl TryFrom<UncheckedChain> for TextChain {
    type Error = ChainError;

    fn try_from(unchecked: UncheckedChain) -> Result<Self, ChainError> {
        let mut chain = TextChain::default();
        for version in unchecked.versions {
            chain.append(version)?;
        }
        Ok(chain)
    }
}

impl TextChain {
    /// Every version, oldest first.
    pub fn versions(&self) -> &[TextVersion] {
        &self.versions
    }

    /// The newest version, if any was published.
    pub fn latest(&self) -> Option<&TextVersion> {
        self.versions.last()
    }

    /// The version with this number.
    pub fn get(&self, number: u32) -> Option<&TextVersion> {
        // Numbers run 1, 2, 3… without gaps (append sees to it), so number n sits at n - 1.
        let index = usize::try_from(number.checked_sub(1)?).ok()?;
        self.versions.get(index)
    }

    /// The number and previous hash the next version must carry.
    pub fn next(&self) -> (u32, [u8; 32]) {
        match self.latest() {
            // Saturating: reaching u32::MAX would take four billion versions in memory;
            // should it happen, the next version repeats a number and append refuses it.
            Some(latest) => (latest.number.saturating_add(1), latest.hash()),
            None => (1, [0; 32]),
        }
    }

    /// Appends `version` if it follows on from the latest one: the next number, and the
    /// latest version's hash as its previous.
    pub fn append(&mut self, version: TextVersion) -> Result<(), ChainError> {
        let (expected, previous) = self.next();
        // At u32::MAX `next` saturates to the latest number itself, still a repeat.
        let repeats_latest = self
            .latest()
            .is_some_and(|latest| latest.number == version.number);
        if version.number != expected || repeats_latest {
            return Err(ChainError::OutOfOrder {
                expected,
                got: version.number,
            });
        }
        if version.previous != previous {
            return Err(ChainError::WrongPrevious {
                number: version.number,
            });
        }
        self.versions.push(version);
        Ok(())
    }
}

/// The paragraphs of a text, in order: runs of lines separated by blank (empty or
/// whitespace-only) lines. Trailing space is dropped from every line and each paragraph
/// is trimmed, so that re-flowing whitespace does not count as a change; empty paragraphs
/// are dropped. Callers number them from 1.
pub fn paragraphs(text: &str) -> Vec<String> {
    let mut paragraphs = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    // `lines` takes "\r\n" as well as "\n"; trim_end drops a stray '\r' besides.
    for line in text.lines().map(str::trim_end) {
        if line.is_empty() {
            flush(&mut current, &mut paragraphs);
        } else {
            current.push(line);
        }
    }
    flush(&mut current, &mut paragraphs);
    paragraphs
}

/// Ends the paragraph being gathered, if it has any text.
fn flush(current: &mut Vec<&str>, paragraphs: &mut Vec<String>) {
    let joined = current.join("\n");
    current.clear();
    let trimmed = joined.trim();
    if !trimmed.is_empty() {
        paragraphs.push(trimmed.to_owned());
    }
}

/// `line` made safe to print on a terminal or in a document: control characters, bidi
/// overrides and Unicode line separators become U+FFFD, since any of them could redraw or
/// reorder what a reader sees.
pub(crate) fn printable(line: &str) -> String {
    line.chars()
        .map(|c| if is_unprintable(c) { '\u{FFFD}' } else { c })
        .collect()
}

/// Characters [`printable`] replaces. Tab is kept: it is ordinary in drafted text.
fn is_unprintable(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

#[cfg(test)]
mod tests;
