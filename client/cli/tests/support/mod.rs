//! What the CLI tests share: a real relay on loopback, people with their own data folder and
//! passphrase file, and the outcome of one run of the `parley` binary.

// Each test file uses a different part of this module.
#![allow(dead_code)]

use std::io::Write;
use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use parley_relay::{Relay, RelayConfig, TlsSetting};
use tempfile::TempDir;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;

/// A relay serving on loopback from its own runtime, so the test thread can block on the
/// binary while the relay keeps answering.
pub(crate) struct TestRelay {
    pub(crate) url: String,
    pub(crate) port: u16,
    pub(crate) fingerprint: Option<String>,
    runtime: Option<Runtime>,
    shutdown: Option<oneshot::Sender<()>>,
    data: TempDir,
}

impl TestRelay {
    pub(crate) fn plaintext() -> TestRelay {
        TestRelay::start(TlsSetting::Plaintext, "http", TempDir::new().unwrap(), 0)
    }

    pub(crate) fn self_signed() -> TestRelay {
        TestRelay::start(TlsSetting::SelfSigned, "https", TempDir::new().unwrap(), 0)
    }

    /// A TLS relay on `port` whose data folder starts with a copy of `tls_from`'s `tls/`
    /// folder: same address, same certificate, but an empty directory of handles. To the
    /// clients it is the same relay that lost (or rewrote) its directory.
    pub(crate) fn self_signed_with_certificate_of(tls_from: &TestRelay, port: u16) -> TestRelay {
        let data = TempDir::new().unwrap();
        let tls = data.path().join("tls");
        std::fs::create_dir_all(&tls).unwrap();
        for entry in std::fs::read_dir(tls_from.data.path().join("tls")).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), tls.join(entry.file_name())).unwrap();
        }
        TestRelay::start(TlsSetting::SelfSigned, "https", data, port)
    }

    fn start(tls: TlsSetting, scheme: &str, data: TempDir, port: u16) -> TestRelay {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let relay = Relay::open(RelayConfig {
            data_dir: data.path().to_path_buf(),
            tls,
            ..Default::default()
        })
        .unwrap();
        let fingerprint = relay.tls_fingerprint();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind(("127.0.0.1", port)))
            .unwrap();
        let port = listener.local_addr().unwrap().port();
        let (shutdown, stop) = oneshot::channel::<()>();
        runtime.spawn(async move {
            let stopped = async {
                let _ = stop.await;
            };
            relay.serve(listener, stopped).await.unwrap();
        });
        TestRelay {
            url: format!("{scheme}://127.0.0.1:{port}"),
            port,
            fingerprint,
            runtime: Some(runtime),
            shutdown: Some(shutdown),
            data,
        }
    }

    /// The operator frees `handle` (`parley-relay handle release`): the relay stops, the
    /// handle is released in its data, and it starts again on the same port with the same
    /// certificate and everything else it held.
    pub(crate) fn release_handle(&mut self, handle: &str) {
        self.stop();
        let released = parley_relay::release_handle(self.data.path(), handle).unwrap();
        assert!(released.record, "{handle} was registered");
        let tls = if self.fingerprint.is_some() {
            TlsSetting::SelfSigned
        } else {
            TlsSetting::Plaintext
        };
        let scheme = if self.fingerprint.is_some() {
            "https"
        } else {
            "http"
        };
        let data = std::mem::replace(&mut self.data, TempDir::new().unwrap());
        *self = TestRelay::start(tls, scheme, data, self.port);
    }

    pub(crate) fn stop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for TestRelay {
    fn drop(&mut self) {
        self.stop();
    }
}

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
        .env_remove("RUST_LOG")
        .stdin(Stdio::null());
    command
}

/// One person: a data folder and a file holding their passphrase, in one temp dir.
pub(crate) struct Person {
    dir: TempDir,
}

impl Person {
    pub(crate) fn new() -> Person {
        let dir = TempDir::new().unwrap();
        std::fs::write(
            dir.path().join("passphrase"),
            "correct horse battery staple\n",
        )
        .unwrap();
        Person { dir }
    }

    /// The data folder (not created until `init`).
    pub(crate) fn home(&self) -> PathBuf {
        self.dir.path().join("parley")
    }

    pub(crate) fn passphrase_file(&self) -> PathBuf {
        self.dir.path().join("passphrase")
    }

    /// Writes a file in this person's temp dir and returns its path.
    pub(crate) fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
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
        let mut child = self
            .command(args)
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

    pub(crate) fn init(&self, relay: &TestRelay, handle: &str) -> Run {
        let mut args = vec!["init", "--relay", &relay.url, "--handle", handle];
        if let Some(fingerprint) = &relay.fingerprint {
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
