//! Documents as the API shows them: what a message sharing one says about it, and what
//! sending or fetching one needs and reports. The document's key never leaves the library.

use std::fmt;

/// A document shared in a conversation, as a message shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct DocumentInfo {
    /// Its id (the blob id, hex): what [`crate::Client::fetch_file`] takes.
    pub id: String,
    /// The file name the sender gave. Untrusted: never use it as a path as it is.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its media type, as the sender gave it.
    pub media_type: String,
}

/// What to call a document being sent and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DocumentMeta {
    /// The file name to show (1 to 255 bytes; no path).
    pub name: String,
    /// Exactly how many bytes the reader will give.
    pub size: u64,
    /// Its media type, e.g. `application/pdf` (printable ASCII, no spaces).
    pub media_type: String,
}

impl DocumentMeta {
    /// A document called `name` of `size` bytes, of media type `media_type`.
    pub fn new(name: impl Into<String>, size: u64, media_type: impl Into<String>) -> Self {
        DocumentMeta {
            name: name.into(),
            size,
            media_type: media_type.into(),
        }
    }
}

/// How far an upload or a download is, in content bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Bytes done.
    pub done: u64,
    /// Bytes in all.
    pub total: u64,
}

impl fmt::Display for Transfer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} of {} bytes", self.done, self.total)
    }
}
