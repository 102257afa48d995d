//! Where the passphrase that unlocks the Parley folder comes from: a file named by an
//! environment variable, a command (a password manager), or a no-echo prompt. Never a flag
//! value: those end up in shell history and in every process listing.

use std::io::{self, IsTerminal};
use std::path::PathBuf;
use std::process::{Command, Stdio};

use zeroize::Zeroizing;

use super::failure::{Failure, EXIT_USAGE};
use super::output::to_stderr;
use super::strength::{self, Verdict};

/// The variable naming a file that holds the passphrase.
pub(crate) const PASSPHRASE_FILE_VAR: &str = "PARLEY_PASSPHRASE_FILE";
/// The variable naming a file that holds the new passphrase for `parley passphrase change`.
pub(crate) const NEW_PASSPHRASE_FILE_VAR: &str = "PARLEY_NEW_PASSPHRASE_FILE";

/// A passphrase as read, wiped from memory when dropped.
pub(crate) type Secret = Zeroizing<String>;

/// One place a passphrase can come from, chosen once per run.
#[derive(Debug, Clone)]
pub(crate) enum Source {
    /// The whole file, one trailing newline trimmed.
    File {
        /// The file.
        path: PathBuf,
        /// The variable that named it, for error messages.
        var: &'static str,
    },
    /// The standard output of `sh -c CMD`, one trailing newline trimmed.
    Command {
        /// The command line.
        command: String,
        /// The flag that gave it, for error messages.
        flag: &'static str,
    },
    /// Ask on the terminal without echo.
    Prompt {
        /// The environment variable and flag that would have avoided the prompt, for the
        /// error shown when there is no terminal.
        var: &'static str,
        /// See `var`.
        flag: &'static str,
    },
}

impl Source {
    /// The source of the current passphrase: PARLEY_PASSPHRASE_FILE wins over
    /// `--passphrase-command`, which wins over the prompt.
    pub(crate) fn current(command: Option<String>) -> Source {
        Source::pick(PASSPHRASE_FILE_VAR, command, "--passphrase-command")
    }

    /// The source of the new passphrase of `parley passphrase change`.
    pub(crate) fn new_one(command: Option<String>) -> Source {
        Source::pick(NEW_PASSPHRASE_FILE_VAR, command, "--new-passphrase-command")
    }

    fn pick(var: &'static str, command: Option<String>, flag: &'static str) -> Source {
        if let Some(path) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return Source::File {
                path: PathBuf::from(path),
                var,
            };
        }
        match command {
            Some(command) => Source::Command { command, flag },
            None => Source::Prompt { var, flag },
        }
    }

    /// Reads the passphrase of an existing Parley folder (asked once).
    pub(crate) fn read(&self, prompt: &str) -> Result<Secret, Failure> {
        self.read_checked(prompt)
    }

    /// Reads a passphrase being chosen and judges its strength (`context`: words an attacker
    /// would try first, such as the handle). At a prompt it is asked twice, and both must
    /// match; a mismatch or a passphrase too easy to guess is explained and asked again. From
    /// a file or a command, a passphrase too easy to guess is an error; a weak one is
    /// accepted with a warning.
    pub(crate) fn read_new(
        &self,
        prompt: &str,
        again: &str,
        context: &[&str],
    ) -> Result<Secret, Failure> {
        let Source::Prompt { var, flag } = self else {
            let secret = self.read_checked(prompt)?;
            return match strength::judge(&secret, context) {
                Verdict::Refused(advice) => Err(Failure::new(format!(
                    "the passphrase {} is too easy to guess",
                    self.origin()
                ))
                .hint(format!(
                    "{advice} Someone holding your laptop could try it quickly."
                ))
                .code(EXIT_USAGE)),
                Verdict::Weak(advice) => {
                    warn_weak(&advice);
                    Ok(secret)
                }
                Verdict::Fine => Ok(secret),
            };
        };
        loop {
            let secret = ask(prompt, var, flag)?;
            if secret.is_empty() {
                to_stderr("The passphrase is empty; a few unrelated words make a good one.");
                continue;
            }
            if !same(&secret, &ask(again, var, flag)?) {
                to_stderr("The two passphrases differ; type the same one twice.");
                continue;
            }
            match strength::judge(&secret, context) {
                Verdict::Refused(advice) => {
                    to_stderr(&format!(
                        "That passphrase is too easy to guess: someone holding your laptop \
                         could try it quickly. {advice} Choose another."
                    ));
                }
                Verdict::Weak(advice) => {
                    warn_weak(&advice);
                    return Ok(secret);
                }
                Verdict::Fine => return Ok(secret),
            }
        }
    }

    fn read_checked(&self, prompt: &str) -> Result<Secret, Failure> {
        let secret = match self {
            Source::File { path, var } => from_file(path, var)?,
            Source::Command { command, flag } => from_command(command, flag)?,
            Source::Prompt { var, flag } => ask(prompt, var, flag)?,
        };
        if secret.is_empty() {
            return Err(
                Failure::new(format!("the passphrase {} is empty", self.origin()))
                    .hint("a passphrase of several words is easy to remember and hard to guess"),
            );
        }
        Ok(secret)
    }

    /// Where the passphrase came from, in words, for error messages.
    fn origin(&self) -> String {
        match self {
            Source::File { path, var } => format!("in {} (named by {var})", path.display()),
            Source::Command { flag, .. } => format!("printed by the {flag} command"),
            Source::Prompt { .. } => "typed".to_owned(),
        }
    }
}

/// A weak passphrase is the person's call; they are told what it is worth.
fn warn_weak(advice: &str) {
    to_stderr(&format!(
        "warning: this passphrase could be guessed by someone holding your laptop and \
         patient enough. {advice} Change it later with: parley passphrase change"
    ));
}

fn from_file(path: &std::path::Path, var: &str) -> Result<Secret, Failure> {
    refuse_shared_file(path, var)?;
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|err| {
        Failure::new(format!(
            "cannot read the passphrase file {} (named by {var}): {err}",
            path.display()
        ))
    })?);
    utf8(bytes, || {
        format!("the passphrase file {} (named by {var})", path.display())
    })
}

/// Like ssh with a private key: a passphrase file that other users of this computer may read
/// is refused, since the passphrase in it is all that protects the folder.
fn refuse_shared_file(path: &std::path::Path, var: &str) -> Result<(), Failure> {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        // Reading it reports what is wrong with it.
        return Ok(());
    };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 == 0 {
        return Ok(());
    }
    Err(Failure::new(format!(
        "the passphrase file {} (named by {var}) can be read by other users of this computer \
         (permissions {mode:03o}); it is not used",
        path.display()
    ))
    .hint(format!(
        "make it yours alone with: chmod 600 {}",
        path.display()
    )))
}

fn from_command(command: &str, flag: &str) -> Result<Secret, Failure> {
    let output = Command::new("sh")
        .arg("-c")
        .arg(command)
        .stdin(Stdio::inherit())
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|err| Failure::new(format!("cannot run the {flag} command: {err}")))?;
    let stdout = Zeroizing::new(output.stdout);
    if !output.status.success() {
        return Err(Failure::new(format!(
            "the {flag} command failed ({}), so there is no passphrase",
            output.status
        )));
    }
    utf8(stdout, || format!("the output of the {flag} command"))
}

/// Turns the bytes into text, dropping the one line break that files and `echo` add.
fn utf8(bytes: Zeroizing<Vec<u8>>, what: impl Fn() -> String) -> Result<Secret, Failure> {
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Failure::new(format!("{} is not UTF-8 text", what())))?;
    let text = text
        .strip_suffix("\r\n")
        .or_else(|| text.strip_suffix('\n'))
        .unwrap_or(text);
    Ok(Zeroizing::new(text.to_owned()))
}

/// Whether two typed passphrases are equal, in time that depends only on their lengths.
fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// Asks on the terminal without echo. A person must be there: a script waiting on a prompt
/// nobody sees would hang, so without one the error names the other two sources.
fn ask(prompt: &str, var: &str, flag: &str) -> Result<Secret, Failure> {
    let person = io::stdin().is_terminal() || io::stderr().is_terminal();
    let no_terminal = || {
        Failure::new("parley needs your passphrase, but there is no terminal to ask it on").hint(
            format!(
                "set {var} to a file holding it, or use {flag} 'CMD' with a command that prints it"
            ),
        )
    };
    if !person {
        return Err(no_terminal());
    }
    rpassword::prompt_password(prompt)
        .map(Zeroizing::new)
        .map_err(|err| match err.kind() {
            io::ErrorKind::NotFound | io::ErrorKind::NotConnected => no_terminal(),
            _ => Failure::new(format!(
                "cannot read the passphrase from the terminal: {err}"
            )),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_trimmed() {
        let read = |s: &str| utf8(Zeroizing::new(s.as_bytes().to_vec()), String::new).unwrap();
        assert_eq!(read("open sesame\n").as_str(), "open sesame");
        assert_eq!(read("open sesame\r\n").as_str(), "open sesame");
        assert_eq!(read("open sesame\n\n").as_str(), "open sesame\n");
        assert_eq!(read(" spaces kept ").as_str(), " spaces kept ");
    }

    #[test]
    fn typed_twice_must_match() {
        assert!(same("open sesame", "open sesame"));
        assert!(!same("open sesame", "open sesamE"));
        assert!(!same("open sesame", "open sesame "));
    }

    #[test]
    fn a_command_prints_the_passphrase() {
        let source = Source::Command {
            command: "printf 'correct horse\\n'".into(),
            flag: "--passphrase-command",
        };
        assert_eq!(source.read("?").unwrap().as_str(), "correct horse");
    }

    #[test]
    fn a_failing_command_is_an_error() {
        let source = Source::Command {
            command: "exit 3".into(),
            flag: "--passphrase-command",
        };
        let failure = source.read("?").err().unwrap();
        assert!(failure.to_string().contains("--passphrase-command"));
    }

    #[test]
    fn an_empty_passphrase_is_refused() {
        let source = Source::Command {
            command: "echo".into(),
            flag: "--passphrase-command",
        };
        assert!(source
            .read("?")
            .err()
            .unwrap()
            .to_string()
            .contains("empty"));
    }

    #[test]
    fn a_missing_file_is_named() {
        let source = Source::File {
            path: PathBuf::from("/nonexistent/parley-pass"),
            var: PASSPHRASE_FILE_VAR,
        };
        let message = source.read("?").err().unwrap().to_string();
        assert!(message.contains("/nonexistent/parley-pass"), "{message}");
        assert!(message.contains(PASSPHRASE_FILE_VAR), "{message}");
    }
}
