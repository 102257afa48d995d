//! Documents as files on this computer: their sizes and media types as people read them,
//! a safe file name from the one a sender chose (numbered when it is taken), and the two
//! transfers between a file and the library (the same code whether the command or the
//! daemon does them).

use std::io;
use std::path::Path;

use parley_client::{
    Client, ClientError, ConversationId, DocumentInfo, DocumentMeta, Message, Transfer,
};
use tokio::io::AsyncWriteExt;

use crate::sanitize::is_dangerous;

/// The media type told to receivers when the extension says nothing we know.
const UNKNOWN_MEDIA_TYPE: &str = "application/octet-stream";
/// What a document is saved as when nothing is left of the name its sender gave.
const FALLBACK_NAME: &str = "document";
/// The longest file name made from a sender's name, in bytes: room is left for the
/// temporary name (`.NAME.parley-partial`) within the usual 255-byte limit.
const MAX_SAFE_NAME: usize = 200;

/// A size in decimal units with one decimal, as people read it: "512 B", "2.4 MB"
/// (1 KB = 1,000 bytes, 1 MB = 1,000,000 bytes).
pub(crate) fn human_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("KB", 1_000), ("MB", 1_000_000), ("GB", 1_000_000_000)];
    if bytes < 1_000 {
        return format!("{bytes} B");
    }
    // The largest unit whose rounded value is at least 1.0; a value that rounds up to
    // 1000.0 of a unit is shown in the next one ("1.0 MB", not "1000.0 KB").
    let mut shown = None;
    for (name, unit) in UNITS {
        let tenths = (u128::from(bytes) * 10 + u128::from(unit) / 2) / u128::from(unit);
        if tenths >= 10 {
            shown = Some((name, tenths));
        }
        if tenths < 10_000 {
            break;
        }
    }
    match shown {
        Some((name, tenths)) => format!("{}.{} {name}", tenths / 10, tenths % 10),
        None => format!("{bytes} B"),
    }
}

/// The first 8 characters of a document id, as `read` and `files` show it.
pub(crate) fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

/// The media type of a file by its extension (a few common kinds; anything else is
/// `application/octet-stream`).
pub(crate) fn media_type_of(path: &Path) -> &'static str {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match extension.as_str() {
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "md" => "text/markdown",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "docx" => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "xlsx" => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "zip" => "application/zip",
        _ => UNKNOWN_MEDIA_TYPE,
    }
}

/// A file name made from the name a sender chose, that cannot leave the folder it is saved
/// in: only what follows the last `/` or `\` is kept, control characters and bidirectional
/// overrides are dropped, leading dots and spaces are removed (no hidden file, no `..`), and
/// a name longer than 200 bytes is shortened, keeping its extension. Nothing left:
/// "document".
pub(crate) fn safe_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !is_dangerous(*c))
        .collect();
    let cleaned = cleaned
        .trim_start_matches(|c: char| c == '.' || c.is_whitespace())
        .trim_end();
    let shortened = shorten(cleaned, MAX_SAFE_NAME);
    if shortened.is_empty() {
        FALLBACK_NAME.to_owned()
    } else {
        shortened
    }
}

/// The `n`th name to try for a file called `name` when the name is taken: `name` itself
/// first, then "budget (2).pdf", "budget (3).pdf", ... (the number before the extension, as
/// file managers do).
pub(crate) fn numbered_name(name: &str, n: u32) -> String {
    if n <= 1 {
        return name.to_owned();
    }
    match name.rfind('.') {
        Some(dot) if dot > 0 => {
            let (stem, extension) = name.split_at(dot);
            format!("{stem} ({n}){extension}")
        }
        _ => format!("{name} ({n})"),
    }
}

/// `name` within `max` bytes, cut at a character boundary, keeping a short extension.
fn shorten(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, extension) = match name.rfind('.') {
        Some(dot) if dot > 0 && name.len() - dot <= 16 => name.split_at(dot),
        _ => (name, ""),
    };
    let mut end = max.saturating_sub(extension.len());
    while !stem.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}{extension}", stem[..end].trim_end())
}

/// Sends the file at `path` as a document called `name` of type `media_type`: its size is
/// the file's as it is opened, and its content is read as it is uploaded.
pub(crate) async fn send_from_path(
    client: &Client,
    to: &ConversationId,
    path: &Path,
    name: &str,
    media_type: &str,
    progress: &mut (dyn FnMut(Transfer) + Send),
) -> Result<Message, ClientError> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(ClientError::DocumentIo)?;
    let metadata = file.metadata().await.map_err(ClientError::DocumentIo)?;
    if !metadata.is_file() {
        return Err(ClientError::DocumentIo(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        )));
    }
    let meta = DocumentMeta::new(name, metadata.len(), media_type);
    client.send_file(to, &mut file, meta, progress).await
}

/// Fetches the document `id` into the file at `path`, which must exist (the caller made it,
/// so that it alone decides where it is and removes it when anything fails): it is emptied,
/// written, and flushed to the disk. On failure, what was written must be thrown away.
pub(crate) async fn fetch_to_path(
    client: &Client,
    id: &str,
    path: &Path,
    progress: &mut (dyn FnMut(Transfer) + Send),
) -> Result<DocumentInfo, ClientError> {
    let mut file = tokio::fs::OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(path)
        .await
        .map_err(ClientError::DocumentIo)?;
    let info = client.fetch_file(id, &mut file, progress).await?;
    file.flush().await.map_err(ClientError::DocumentIo)?;
    file.sync_all().await.map_err(ClientError::DocumentIo)?;
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_read_them() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(999), "999 B");
        assert_eq!(human_size(1_000), "1.0 KB");
        assert_eq!(human_size(300_000), "300.0 KB");
        assert_eq!(human_size(2_400_000), "2.4 MB");
        assert_eq!(human_size(2_449_999), "2.4 MB");
        assert_eq!(human_size(999_960), "1.0 MB");
        assert_eq!(human_size(1_000_000_000), "1.0 GB");
        assert_eq!(human_size(268_435_456), "268.4 MB");
    }

    #[test]
    fn media_types_by_extension() {
        assert_eq!(media_type_of(Path::new("budget.PDF")), "application/pdf");
        assert_eq!(media_type_of(Path::new("a/b.jpeg")), "image/jpeg");
        assert_eq!(media_type_of(Path::new("notes")), UNKNOWN_MEDIA_TYPE);
        assert_eq!(media_type_of(Path::new("x.exe")), UNKNOWN_MEDIA_TYPE);
    }

    #[test]
    fn a_senders_name_never_leaves_the_folder() {
        assert_eq!(safe_file_name("budget.pdf"), "budget.pdf");
        assert_eq!(safe_file_name("../../evil.txt"), "evil.txt");
        assert_eq!(safe_file_name("/etc/passwd"), "passwd");
        assert_eq!(safe_file_name("..\\..\\win.ini"), "win.ini");
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name("a\u{1b}[2Jb\n.txt"), "a[2Jb.txt");
        assert_eq!(safe_file_name("x\u{202E}fdp.exe"), "xfdp.exe");
        for nothing in ["", "..", ".", "/", "../", " . ", "\u{7}"] {
            assert_eq!(safe_file_name(nothing), "document", "{nothing:?}");
        }
        let long = format!("{}.pdf", "é".repeat(200));
        let short = safe_file_name(&long);
        assert!(short.len() <= MAX_SAFE_NAME, "{}", short.len());
        assert!(short.ends_with("é.pdf"), "{short}");
    }

    #[test]
    fn taken_names_are_numbered_before_the_extension() {
        assert_eq!(numbered_name("budget.pdf", 1), "budget.pdf");
        assert_eq!(numbered_name("budget.pdf", 2), "budget (2).pdf");
        assert_eq!(numbered_name("notes", 3), "notes (3)");
        assert_eq!(numbered_name("archive.tar.gz", 2), "archive.tar (2).gz");
    }

    #[test]
    fn short_ids() {
        assert_eq!(short_id("7f3c1a2b9d"), "7f3c1a2b");
        assert_eq!(short_id("7f3c"), "7f3c");
    }
}
