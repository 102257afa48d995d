//! `parley chat` on a real terminal: the binary runs inside tmux against a real relay on
//! 127.0.0.1:0; the test types with `tmux send-keys` and reads the screen with
//! `tmux capture-pane`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parley_testkit::TestRelay;
use tempfile::TempDir;

/// How long anything on screen may take to appear.
const TIMEOUT: Duration = Duration::from_secs(45);
/// How long a message sent while the chat is open may take to appear: well under the 30 s
/// fallback poll of the event stream, so only the relay's push can deliver it in time.
const LIVE_TIMEOUT: Duration = Duration::from_secs(20);

/// One tmux server of our own (its own socket), killed when the test ends however it ends.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn new() -> Tmux {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        Tmux {
            socket: format!("parley-chat-test-{}-{nanos}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> Output {
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

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "chat"]).stdout)
            .into_owned()
    }

    /// Types text literally (no key names), then nothing else.
    fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", "chat", "-l", text]);
    }

    /// Presses one named key (Enter, Escape, ...).
    fn press(&self, key: &str) {
        self.run(&["send-keys", "-t", "chat", key]);
    }

    /// Waits until the screen satisfies `ready`; fails with the last screen otherwise.
    #[track_caller]
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        self.wait_for_within(TIMEOUT, what, ready)
    }

    /// Like [`Tmux::wait_for`], with its own time limit.
    #[track_caller]
    fn wait_for_within(
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

fn tmux_installed() -> bool {
    Command::new("tmux")
        .arg("-V")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Runs the binary to completion for `home`, asserting success; returns stdout.
#[track_caller]
fn parley(home: &Path, passphrase: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_parley"))
        .env_remove("PARLEY_HOME")
        .env_remove("RUST_LOG")
        .env("PARLEY_PASSPHRASE_FILE", passphrase)
        .arg("--home")
        .arg(home)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "parley {args:?} failed\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A path as one single-quoted shell word.
fn quoted(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

/// Reads the file the shell writes when the chat has ended, once it is there.
#[track_caller]
fn wait_for_file(path: &PathBuf, tmux: &Tmux) -> String {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            if text.ends_with('\n') {
                return text;
            }
        }
        if Instant::now() > deadline {
            panic!(
                "parley chat did not exit; the screen shows:\n{}",
                tmux.screen()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Alice and Bob on one relay, Bob's first message already read by Alice, and Alice's
/// `parley chat bob` running in tmux.
struct Scene {
    tmux: Tmux,
    bob: PathBuf,
    passphrase: PathBuf,
    /// Written by the shell when the chat has ended: "exit=CODE icanon|-icanon".
    ended: PathBuf,
    relay: TestRelay,
    _dir: TempDir,
}

impl Scene {
    fn start() -> Scene {
        let relay = TestRelay::plaintext();
        let dir = TempDir::new().unwrap();
        let passphrase = dir.path().join("passphrase");
        std::fs::write(&passphrase, "a long passphrase for tests\n").unwrap();
        let alice = dir.path().join("alice");
        let bob = dir.path().join("bob");
        parley(
            &alice,
            &passphrase,
            &["init", "--relay", &relay.url(), "--handle", "alice"],
        );
        parley(
            &bob,
            &passphrase,
            &["init", "--relay", &relay.url(), "--handle", "bob"],
        );
        parley(
            &bob,
            &passphrase,
            &["send", "alice", "first words from bob"],
        );
        let read = parley(&alice, &passphrase, &["read"]);
        assert!(read.contains("bob: first words from bob"), "{read}");

        let ended = dir.path().join("ended");
        // After the chat, the shell records its exit code and whether the terminal is back
        // in normal (canonical) mode, then stays, so the screen can still be read.
        let script = format!(
            "PARLEY_PASSPHRASE_FILE={pass} {bin} --home {home} chat bob; \
             code=$?; printf 'exit=%s %s\\n' \"$code\" \"$(stty -a | grep -o -- '-\\{{0,1\\}}icanon')\" > {ended}; \
             sleep 600",
            pass = quoted(&passphrase),
            bin = quoted(Path::new(env!("CARGO_BIN_EXE_parley"))),
            home = quoted(&alice),
            ended = quoted(&ended),
        );
        let tmux = Tmux::new();
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "chat",
            "-x",
            "120",
            "-y",
            "40",
            "/bin/sh",
            "-c",
            &script,
        ]);
        Scene {
            tmux,
            bob,
            passphrase,
            ended,
            relay,
            _dir: dir,
        }
    }

    /// Waits for the chat to end; asserts it exited with 0 and left the terminal as it was.
    #[track_caller]
    fn assert_ended_cleanly(&self) {
        let ended = wait_for_file(&self.ended, &self.tmux);
        assert_eq!(ended.trim(), "exit=0 icanon", "terminal left in raw mode?");
        let screen = self
            .tmux
            .wait_for("the normal screen", |s| !s.contains("Conversations"));
        assert!(!screen.contains("Message to bob"), "{screen}");
    }
}

#[test]
fn chat_shows_history_sends_receives_live_and_quits_cleanly() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::start();
    let (tmux, bob, passphrase) = (&scene.tmux, &scene.bob, &scene.passphrase);

    // The conversation is open, with its stored history and bob's status.
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("Message to bob") && s.contains("bob [unverified]: first words from bob")
    });

    // Typing and Enter sends; the sent message shows as ours, and bob really gets it.
    tmux.type_text("offer: ten units at noon");
    tmux.wait_for("the typed text in the compose box", |s| {
        s.contains("offer: ten units at noon")
    });
    tmux.press("Enter");
    tmux.wait_for("the sent message", |s| {
        s.contains("alice: offer: ten units at noon")
    });
    let read = parley(bob, passphrase, &["read"]);
    assert!(read.contains("alice: offer: ten units at noon"), "{read}");

    // A message bob sends now arrives while the chat is open, through the push stream.
    parley(
        bob,
        passphrase,
        &["send", "alice", "accepted, see you there"],
    );
    let screen = tmux.wait_for_within(LIVE_TIMEOUT, "bob's live reply", |s| {
        s.contains("bob [unverified]: accepted, see you there")
    });
    assert!(
        screen.find("offer: ten units") < screen.find("accepted, see you there"),
        "messages out of order:\n{screen}"
    );

    // ? shows the help and hides it again.
    tmux.type_text("?");
    tmux.wait_for("the help", |s| {
        s.contains("press any key to close") && s.contains("next conversation")
    });
    tmux.type_text("?");
    tmux.wait_for("the help to close", |s| {
        !s.contains("press any key to close")
    });

    // Esc quits with exit code 0 and gives the terminal back in its normal mode.
    tmux.press("Escape");
    scene.assert_ended_cleanly();
}

#[test]
fn a_failed_send_is_shown_and_the_chat_goes_on() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let mut scene = Scene::start();
    let tmux = &scene.tmux;
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("bob [unverified]: first words from bob")
    });

    scene.relay.blocking_stop();
    let tmux = &scene.tmux;
    tmux.type_text("are you there");
    tmux.press("Enter");
    // The text is not shown as sent, comes back to the compose box, and the status line
    // says why, even while the push stream keeps failing to reconnect.
    let screen = tmux.wait_for("the failure in the status line", |s| {
        s.contains("Not sent: the relay could not be reached")
    });
    assert!(!screen.contains("alice: are you there"), "{screen}");
    tmux.wait_for("the unsent text back in the compose box", |s| {
        s.contains("│are you there")
    });

    // Still answering keys; Ctrl-C quits cleanly.
    tmux.press("C-u");
    tmux.wait_for("the compose box cleared", |s| !s.contains("are you there"));
    tmux.press("C-c");
    scene.assert_ended_cleanly();
}

#[test]
fn joining_and_changes_of_members_show_in_the_chat_as_they_happen() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::start();
    let (tmux, bob, passphrase) = (&scene.tmux, &scene.bob, &scene.passphrase);
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("Message to bob")
    });
    let carol = scene._dir.path().join("carol");
    parley(
        &carol,
        passphrase,
        &["init", "--relay", &scene.relay.url(), "--handle", "carol"],
    );

    // bob adds alice (and carol) to a new group while alice's chat is open.
    parley(
        bob,
        passphrase,
        &["group", "create", "room", "--members", "alice,carol"],
    );
    tmux.wait_for_within(LIVE_TIMEOUT, "the new group in the list", |s| {
        s.contains("#bob/room (1)")
    });
    tmux.press("Tab");
    tmux.wait_for("the invitation and the members", |s| {
        s.contains("* bob added you to bob/room (members: bob, you, carol)")
            && s.contains("Members (3)")
            && s.contains("carol [unverified]")
    });

    // bob removes carol: the room is told, and carol leaves the members pane.
    parley(bob, passphrase, &["group", "remove", "room", "carol"]);
    tmux.wait_for_within(LIVE_TIMEOUT, "the removal and the new roster", |s| {
        s.contains("* bob removed carol from bob/room")
            && s.contains("Members (2)")
            && !s.contains("carol [unverified]")
    });
    tmux.press("Escape");
    scene.assert_ended_cleanly();

    // What the chat showed is not shown again by `read`.
    let alice = scene._dir.path().join("alice");
    let read = parley(&alice, passphrase, &["read"]);
    assert!(!read.contains("added you to bob/room"), "{read}");
}
