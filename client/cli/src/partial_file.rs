//! The hidden file a document is written to before it takes its name, next to where it
//! goes: `.NAME.parley-partial`, readable by its owner only, removed when dropped unless it
//! took its name. `get-file` and the chat save documents through it, so that a document is
//! never seen under its name before it was checked whole, nor left behind in part.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::documents::numbered_name;
use crate::failure::io_reason;
use crate::sanitize::for_terminal;

/// How a temporary file ends: `.NAME.parley-partial`, next to where the document goes.
const PARTIAL_SUFFIX: &str = "parley-partial";
/// How many temporary names are tried before giving up (other downloads may hold some).
const TEMP_ATTEMPTS: u32 = 20;
/// How many names [`TempFile::put_in_free_place`] tries: "budget.pdf", "budget (2).pdf",
/// ... "budget (99).pdf".
const FREE_NAME_ATTEMPTS: u32 = 99;

/// Why a document could not be written or given its name.
#[derive(Debug, thiserror::Error)]
pub(crate) enum FileError {
    /// The temporary file could not be made in this folder.
    #[error("cannot create a file in {dir}: {reason}")]
    Create {
        /// The folder, safe for a terminal.
        dir: String,
        /// Why, in words.
        reason: String,
    },
    /// Something is there already under the name (and no other was to be chosen).
    #[error("{path} exists already; nothing was saved")]
    Exists {
        /// The path, safe for a terminal.
        path: String,
    },
    /// The name could not be given.
    #[error("cannot save {path}: {reason}")]
    Save {
        /// The path, safe for a terminal.
        path: String,
        /// Why, in words.
        reason: String,
    },
}

/// A path as an error shows it.
fn shown(path: &Path) -> String {
    for_terminal(&path.display().to_string())
}

/// The failure for a file that is there already.
pub(crate) fn exists(out: &Path) -> FileError {
    FileError::Exists { path: shown(out) }
}

/// The temporary file of one document; see the module's documentation.
#[derive(Debug)]
pub(crate) struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    /// Creates `.NAME.parley-partial` next to `out` (or `.NAME.2.parley-partial`, ... if
    /// that one is taken by another download), readable by its owner only: a document
    /// shared in a conversation is nobody else's business on this computer either.
    pub(crate) fn create_next_to(out: &Path) -> Result<TempFile, FileError> {
        let dir = out.parent().unwrap_or(Path::new("/"));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut last_error = None;
        for attempt in 1..=TEMP_ATTEMPTS {
            let temp_name = match attempt {
                1 => format!(".{name}.{PARTIAL_SUFFIX}"),
                n => format!(".{name}.{n}.{PARTIAL_SUFFIX}"),
            };
            let path = dir.join(temp_name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => return Ok(TempFile { path, kept: false }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => {
                    last_error = Some(e);
                    break;
                }
            }
        }
        Err(FileError::Create {
            dir: shown(dir),
            reason: last_error.map_or_else(String::new, |e| io_reason(&e)),
        })
    }

    /// Where the document is being written.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Gives the document its name: replacing what is there with `force`, otherwise only
    /// if nothing is (checked by the file system itself where it can, by a hard link).
    pub(crate) fn put_in_place(mut self, out: &Path, force: bool) -> Result<(), FileError> {
        if !force && self.link_to(out)? {
            // In place under its name; the temporary name goes when `self` is dropped.
            return Ok(());
        }
        std::fs::rename(&self.path, out).map_err(|e| FileError::Save {
            path: shown(out),
            reason: io_reason(&e),
        })?;
        self.kept = true;
        Ok(())
    }

    /// Gives the document the name `first`, or if something is there already the first of
    /// "NAME (2).EXT", "NAME (3).EXT", ... that is free; never replaces anything. Returns the
    /// path it took.
    pub(crate) fn put_in_free_place(mut self, first: &Path) -> Result<PathBuf, FileError> {
        let dir = first.parent().unwrap_or(Path::new("/"));
        let name = first
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        for n in 1..=FREE_NAME_ATTEMPTS {
            let out = dir.join(numbered_name(&name, n));
            match self.link_to(&out) {
                Ok(true) => return Ok(out),
                Ok(false) => {
                    // No hard links here, and nothing under this name: renamed instead.
                    std::fs::rename(&self.path, &out).map_err(|e| FileError::Save {
                        path: shown(&out),
                        reason: io_reason(&e),
                    })?;
                    self.kept = true;
                    return Ok(out);
                }
                Err(FileError::Exists { .. }) => continue,
                Err(error) => return Err(error),
            }
        }
        Err(exists(first))
    }

    /// Links the document under `out`: `Ok(true)` when it is there, `Ok(false)` when the
    /// file system has no hard links and nothing is at `out` (the caller renames),
    /// [`FileError::Exists`] when something is.
    fn link_to(&self, out: &Path) -> Result<bool, FileError> {
        match std::fs::hard_link(&self.path, out) {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == ErrorKind::AlreadyExists => Err(exists(out)),
            Err(_) if std::fs::symlink_metadata(out).is_ok() => Err(exists(out)),
            Err(_) => Ok(false),
        }
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_dropped_temporary_file_leaves_nothing() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::TempDir::new()?;
        let temp = TempFile::create_next_to(&dir.path().join("budget.pdf"))?;
        assert_eq!(names_in(dir.path()), [".budget.pdf.parley-partial"]);
        let second = TempFile::create_next_to(&dir.path().join("budget.pdf"))?;
        assert_eq!(
            second.path().file_name().and_then(|n| n.to_str()),
            Some(".budget.pdf.2.parley-partial")
        );
        drop((temp, second));
        assert!(names_in(dir.path()).is_empty());
        Ok(())
    }

    #[test]
    fn a_free_name_is_found_and_nothing_is_replaced() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::TempDir::new()?;
        let first = dir.path().join("budget.pdf");
        std::fs::write(&first, b"mine")?;
        std::fs::write(dir.path().join("budget (2).pdf"), b"mine too")?;
        let temp = TempFile::create_next_to(&first)?;
        std::fs::write(temp.path(), b"theirs")?;
        let saved = temp.put_in_free_place(&first)?;
        assert_eq!(saved, dir.path().join("budget (3).pdf"));
        assert_eq!(std::fs::read(&saved)?, b"theirs");
        assert_eq!(std::fs::read(&first)?, b"mine");
        assert_eq!(
            names_in(dir.path()),
            ["budget (2).pdf", "budget (3).pdf", "budget.pdf"]
        );
        Ok(())
    }

    #[test]
    fn put_in_place_refuses_an_existing_file_unless_forced(
    ) -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::TempDir::new()?;
        let out = dir.path().join("notes.txt");
        std::fs::write(&out, b"mine")?;
        let temp = TempFile::create_next_to(&out)?;
        std::fs::write(temp.path(), b"theirs")?;
        assert!(matches!(
            temp.put_in_place(&out, false),
            Err(FileError::Exists { .. })
        ));
        assert_eq!(std::fs::read(&out)?, b"mine");
        assert_eq!(names_in(dir.path()), ["notes.txt"]);
        let temp = TempFile::create_next_to(&out)?;
        std::fs::write(temp.path(), b"theirs")?;
        temp.put_in_place(&out, true)?;
        assert_eq!(std::fs::read(&out)?, b"theirs");
        assert_eq!(names_in(dir.path()), ["notes.txt"]);
        Ok(())
    }
}
