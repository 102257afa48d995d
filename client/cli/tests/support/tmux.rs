//! A terminal for tests: a tmux server of our own running one program in a session named
//! "main"; the test types with `tmux send-keys` and reads the screen with `capture-pane`.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long anything on screen may take to appear.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(45);

/// One tmux server of our own (its own socket), killed when the test ends however it ends.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    pub(crate) fn new() -> Tmux {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Tmux {
            socket: format!("parley-test-{}-{nanos}", std::process::id()),
        }
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "tmux {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// Starts `/bin/sh -c script` in the session "main", on a terminal of this size.
    pub(crate) fn start(&self, width: u16, height: u16, script: &str) {
        self.run(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            &width.to_string(),
            "-y",
            &height.to_string(),
            "/bin/sh",
            "-c",
            script,
        ]);
    }

    /// Appends everything the program writes to the terminal from now on (escape sequences
    /// included, and what is rewritten in place before any screen could be read) to `log`.
    pub(crate) fn record(&self, log: &Path) {
        let command = format!("cat >> {}", quoted(&log.display().to_string()));
        self.run(&["pipe-pane", "-o", "-t", "main", &command]);
    }

    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "main"]).stdout)
            .into_owned()
    }

    /// Types text literally (no key names), then nothing else.
    pub(crate) fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "main", "-l", text]);
    }

    /// Presses one named key (Enter, Escape, ...).
    pub(crate) fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "main", key]);
    }

    /// Waits until the screen satisfies `ready`; fails with the last screen otherwise.
    #[track_caller]
    pub(crate) fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(TIMEOUT, what, ready)
    }

    /// Like [`Tmux::wait_for`], with its own time limit.
    #[track_caller]
    pub(crate) fn wait_for_within(
        &self,
        timeout: Duration,
        what: &str,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}; the screen shows:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
    }
}

pub(crate) fn tmux_installed() -> bool {
    Command::new("tmux")
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `text` as one single-quoted shell word.
pub(crate) fn quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}
