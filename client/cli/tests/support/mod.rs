//! What the CLI tests share: people with their own data folder and passphrase file, and the
//! outcome of one run of the `parley` binary (the relay is parley_testkit's TestRelay, which
//! serves from its own runtime while a test blocks on the binary).

// Each test file uses a different part of this module.
#![allow(dead_code)]

pub(crate) use parley_testkit::TestRelay;
use std::io::Write;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tempfile::TempDir;

pub(crate) mod follower;
pub(crate) mod scenario;
pub(crate) mod tmux;

/// What one run of the binary produced.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn from_output(output: Output) -> Run {
        Run {
            code: output.status.code().expect("parley was killed by a signal"),
            stdout: String::from_utf8(output.stdout).unwrap(),
            stderr: String::from_utf8(output.stderr).unwrap(),
        }
    }

    /// Runs `command` to its end with `input` on its standard input.
    pub(crate) fn with_stdin(command: &mut Command, input: &str) -> Run {
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        Run::from_output(child.wait_with_output().unwrap())
    }

    #[track_caller]
    pub(crate) fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "parley failed\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    /// Asserts the failure contract: this exit code, the first stderr line is `error: ...`,
    /// and at most a `hint: ...` line follows; nothing on stdout, no panic text.
    #[track_caller]
    pub(crate) fn fails_with(self, code: i32) -> Run {
        assert_eq!(
            self.code, code,
            "unexpected exit code\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        let lines: Vec<&str> = self.stderr.lines().collect();
        assert!(
            !lines.is_empty() && lines[0].starts_with("error: "),
            "stderr: {}",
            self.stderr
        );
        assert!(
            lines.len() == 1 || (lines.len() == 2 && lines[1].starts_with("hint: ")),
            "stderr: {}",
            self.stderr
        );
        assert!(!self.stderr.contains("panicked"), "stderr: {}", self.stderr);
        assert!(self.stdout.is_empty(), "stdout: {}", self.stdout);
        self
    }

    pub(crate) fn error_line(&self) -> &str {
        self.stderr.lines().next().unwrap_or_default()
    }
}

/// The binary with a clean environment: no inherited Parley settings, no terminal.
pub(crate) fn parley_command() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_parley"));
    command
        .env_remove("PARLEY_HOME")
        .env_remove("PARLEY_PASSPHRASE_FILE")
        .env_remove("PARLEY_NEW_PASSPHRASE_FILE")
        .env_remove("PARLEY_PROXY")
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

/// Writes `contents` to a file only its owner may read, as a passphrase file must be.
pub(crate) fn private_file(path: &Path, contents: &str) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
}

/// One person: a data folder and a file holding their passphrase, in one temp dir.
pub(crate) struct Person {
    dir: TempDir,
}

impl Person {
    pub(crate) fn new() -> Person {
        let dir = TempDir::new().unwrap();
        private_file(
            &dir.path().join("passphrase"),
            "correct horse battery staple\n",
        );
        Person { dir }
    }

    /// The data folder (not created until `init`).
    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("parley")
    }

    pub(crate) fn passphrase_file(&self) -> PathBuf {
        self.dir.path().join("passphrase")
    }

    /// Writes a file (readable by its owner only, as passphrase files must be) in this
    /// person's temp dir and returns its path.
    pub(crate) fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        private_file(&path, contents);
        path
    }

    /// `parley` as this person runs it: PARLEY_HOME and PARLEY_PASSPHRASE_FILE set, as in
    /// a shell profile, so the hints show the plain `parley ...` commands.
    pub(crate) fn command(&self, args: &[&str]) -> Command {
        let mut command = parley_command();
        command
            .env("PARLEY_HOME", self.home())
            .env("PARLEY_PASSPHRASE_FILE", self.passphrase_file())
            .args(args);
        command
    }

    pub(crate) fn run(&self, args: &[&str]) -> Run {
        Run::from_output(self.command(args).output().unwrap())
    }

    pub(crate) fn run_with_stdin(&self, args: &[&str], input: &str) -> Run {
        Run::with_stdin(&mut self.command(args), input)
    }

    pub(crate) fn init(&self, relay: &TestRelay, handle: &str) -> Run {
        let (url, fingerprint) = (relay.url(), relay.fingerprint());
        let mut args = vec!["init", "--relay", &url, "--handle", handle];
        if let Some(fingerprint) = &fingerprint {
            args.extend(["--relay-fingerprint", fingerprint]);
        }
        self.run(&args).ok()
    }

    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// A loopback URL on which nothing listens (the port was just free).
pub(crate) fn dead_relay_url() -> String {
    let listener = StdListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

pub(crate) fn lines(text: &str) -> Vec<&str> {
    text.lines().collect()
}

/// The names in a folder, sorted.
pub(crate) fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
