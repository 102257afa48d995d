//! What a failed init must not leave behind: a half-made Parley folder would make the next
//! `parley init` fail, or look like an identity that does not exist.

use std::collections::HashSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The folder's entries before init began; what init adds is removed again unless kept.
pub(super) struct Leftovers {
    dir: PathBuf,
    /// None when the folder did not exist: then the whole folder is init's.
    before: Option<HashSet<OsString>>,
    keep: bool,
}

impl Leftovers {
    /// Notes what `dir` holds now.
    pub(super) fn note(dir: &Path) -> Leftovers {
        let (before, keep) = match std::fs::read_dir(dir) {
            Ok(entries) => match entries
                .map(|entry| entry.map(|e| e.file_name()))
                .collect::<Result<HashSet<OsString>, _>>()
            {
                Ok(names) => (Some(names), false),
                Err(_) => (None, true),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, false),
            // A folder we cannot list is never cleaned: nothing of the person's may go.
            Err(_) => (None, true),
        };
        Leftovers {
            dir: dir.to_owned(),
            before,
            keep,
        }
    }

    /// Init succeeded: everything stays.
    pub(super) fn keep(mut self) {
        self.keep = true;
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        // Best effort: a file that cannot be removed is no reason to hide why init failed.
        match &self.before {
            None => {
                let _ = std::fs::remove_dir_all(&self.dir);
            }
            Some(before) => {
                let Ok(entries) = std::fs::read_dir(&self.dir) else {
                    return;
                };
                for entry in entries.flatten() {
                    if before.contains(&entry.file_name()) {
                        continue;
                    }
                    let path = entry.path();
                    let _ = if path.is_dir() {
                        std::fs::remove_dir_all(&path)
                    } else {
                        std::fs::remove_file(&path)
                    };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_init_made_is_removed_unless_kept() {
        let root = tempfile::TempDir::new().unwrap();
        let dir = root.path().join("home");
        let failed = Leftovers::note(&dir);
        std::fs::create_dir_all(dir.join("store")).unwrap();
        drop(failed);
        assert!(!dir.exists());

        let succeeded = Leftovers::note(&dir);
        std::fs::create_dir_all(dir.join("store")).unwrap();
        succeeded.keep();
        assert!(dir.join("store").exists());
    }

    #[test]
    fn what_was_there_before_stays() {
        let root = tempfile::TempDir::new().unwrap();
        std::fs::write(root.path().join("mine.txt"), "kept").unwrap();
        let failed = Leftovers::note(root.path());
        std::fs::create_dir_all(root.path().join("store/db")).unwrap();
        std::fs::write(root.path().join("new.txt"), "gone").unwrap();
        drop(failed);
        assert!(root.path().join("mine.txt").exists());
        assert!(!root.path().join("store").exists());
        assert!(!root.path().join("new.txt").exists());
    }
}
