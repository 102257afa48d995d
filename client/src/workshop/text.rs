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
    /// The text itself; empty while a text published as a document (too long to go inline)
    /// has not been fetched yet, see [`TextVersion::pending`].
    pub text: String,
    /// Who published it (a handle).
    pub published_by: String,
    /// When, in milliseconds since the Unix epoch.
    pub published_at_ms: u64,
    /// A text published as a document and not fetched yet: where it is and what it hashes
    /// to. The chain holds on its hash alone; the text is fetched, and checked against it,
    /// when someone reads it.
    #[serde(default)]
    pub pending: Option<PendingText>,
}

/// A version's text kept at the relay as a document, not fetched yet.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PendingText {
    /// The document's id (hex), as the documents of a conversation are known.
    pub document: String,
    /// The SHA-256 of the text's UTF-8 bytes, which the document carries.
    pub sha256: [u8; 32],
}

impl TextVersion {
    /// The version's hash, see [`version_hash`]. Publisher and time are not covered: they
    /// are facts about delivery, and the chain vouches only for which text came after which.
    pub fn hash(&self) -> [u8; 32] {
        let digest = match &self.pending {
            Some(pending) => pending.sha256,
            None => Sha256::digest(self.text.as_bytes()).into(),
        };
        version_hash_of_digest(self.number, &self.previous, &digest)
    }
}

/// SHA-256 over `b"parley text version v1" || u32 BE number || previous || SHA-256(text)`:
/// the text enters by its own hash (fixed length, so the encoding is unambiguous), which a
/// text published as a document carries before anyone fetches it.
pub fn version_hash(number: u32, previous: &[u8; 32], text: &str) -> [u8; 32] {
    version_hash_of_digest(number, previous, &Sha256::digest(text.as_bytes()).into())
}

/// [`version_hash`] from the SHA-256 of the text.
pub fn version_hash_of_digest(number: u32, previous: &[u8; 32], digest: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(VERSION_DOMAIN);
    hasher.update(number.to_be_bytes());
    hasher.update(previous);
    hasher.update(digest);
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
        // Numbers run on without gaps from the first one held (append sees to it).
        let first = self.versions.first()?.number;
        let index = usize::try_from(number.checked_sub(first)?).ok()?;
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
    /// latest version's hash as its previous. An empty chain starts with version 1 (whose
    /// previous is all zeros) or, for a member who joined the room after earlier versions
    /// were published (MLS gives a newcomer nothing sent before), with whatever version
    /// comes first: from there on every link is checked.
    pub fn append(&mut self, version: TextVersion) -> Result<(), ChainError> {
        if self.accepts(version.number, &version.previous) {
            self.versions.push(version);
            return Ok(());
        }
        let (expected, _) = self.next();
        if version.number != expected || self.latest().is_some_and(|l| l.number == version.number) {
            return Err(ChainError::OutOfOrder {
                expected,
                got: version.number,
            });
        }
        Err(ChainError::WrongPrevious {
            number: version.number,
        })
    }

    /// Whether a version `number` revising `previous` follows on from this chain (see
    /// [`TextChain::append`]).
    pub fn accepts(&self, number: u32, previous: &[u8; 32]) -> bool {
        match self.latest() {
            None => number > 1 || (number == 1 && *previous == [0; 32]),
            // At u32::MAX `next` saturates to the latest number itself: a repeat, refused.
            Some(latest) => {
                let (expected, hash) = self.next();
                number == expected && number != latest.number && *previous == hash
            }
        }
    }

    /// The versions whose text is still to be fetched (published as documents).
    pub fn pending(&self) -> impl Iterator<Item = &TextVersion> {
        self.versions.iter().filter(|v| v.pending.is_some())
    }

    /// Puts the fetched `text` of version `number` in place; refused unless its SHA-256 is
    /// the one the chain holds for it (the chain's hashes stay what they were).
    pub fn fill(&mut self, number: u32, text: String) -> Result<(), ChainError> {
        let version = self
            .versions
            .iter_mut()
            .find(|v| v.number == number)
            .ok_or(ChainError::OutOfOrder {
                expected: number,
                got: number,
            })?;
        let Some(pending) = &version.pending else {
            return Ok(());
        };
        let digest: [u8; 32] = Sha256::digest(text.as_bytes()).into();
        if digest != pending.sha256 {
            return Err(ChainError::WrongPrevious { number });
        }
        version.text = text;
        version.pending = None;
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
