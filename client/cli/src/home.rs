//! Which folder holds the user's Parley data, and how to repeat that choice in a hint.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;

/// The folder name used under the user's home folder when nothing else is said.
const DEFAULT_DIR_NAME: &str = ".parley";

/// The Parley data folder for this run.
#[derive(Debug, Clone)]
pub(crate) struct Home {
    dir: PathBuf,
    /// Whether the folder came from `--home` on the command line. Only then do the commands
    /// we suggest in hints need to repeat it; PARLEY_HOME and the default carry over by
    /// themselves.
    from_flag: bool,
}

/// Why no data folder could be chosen.
#[derive(Debug, thiserror::Error)]
#[error("cannot tell where your home folder is, so there is no default Parley folder")]
pub(crate) struct NoHomeDir;

impl Home {
    /// Picks the folder from `--home` / PARLEY_HOME (already merged by clap, which reports
    /// where the value came from) or falls back to `$HOME/.parley`.
    pub(crate) fn resolve(
        given: Option<PathBuf>,
        source: Option<ValueSource>,
    ) -> Result<Home, NoHomeDir> {
        if let Some(dir) = given {
            return Ok(Home {
                // Absolute, so that what we print ("kept in ...") and suggest stays true
                // from any working directory.
                dir: std::path::absolute(&dir).unwrap_or(dir),
                from_flag: source == Some(ValueSource::CommandLine),
            });
        }
        let user_home = non_empty_var("HOME")
            .or_else(|| non_empty_var("USERPROFILE"))
            .ok_or(NoHomeDir)?;
        Ok(Home {
            dir: PathBuf::from(user_home).join(DEFAULT_DIR_NAME),
            from_flag: false,
        })
    }

    /// The folder itself.
    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether the folder was named with `--home` (a process started for it must be given
    /// the same flag for its hints to read the same).
    pub(crate) fn named_by_flag(&self) -> bool {
        self.from_flag
    }

    /// How to start a `parley` command that uses this same folder, for hints.
    pub(crate) fn command(&self) -> String {
        if self.from_flag {
            format!("parley --home {}", shell_quote(&self.dir.to_string_lossy()))
        } else {
            "parley".to_owned()
        }
    }
}

fn non_empty_var(name: &str) -> Option<OsString> {
    std::env::var_os(name).filter(|value| !value.is_empty())
}

/// Quotes a word for a POSIX shell so a suggested command can be pasted back as is.
pub(crate) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+:=@,%".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_unquoted() {
        assert_eq!(shell_quote("/tmp/parley-1"), "/tmp/parley-1");
    }

    #[test]
    fn spaces_and_quotes_are_quoted() {
        assert_eq!(shell_quote("/my data"), "'/my data'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn flag_folder_is_repeated_in_hints() {
        let home =
            Home::resolve(Some(PathBuf::from("/x y")), Some(ValueSource::CommandLine)).unwrap();
        assert_eq!(home.command(), "parley --home '/x y'");
        let home =
            Home::resolve(Some(PathBuf::from("/x")), Some(ValueSource::EnvVariable)).unwrap();
        assert_eq!(home.command(), "parley");
    }
}
