//! `parley chat` on a real terminal: the binary runs inside tmux against a real relay on
//! 127.0.0.1:0; the test types with `tmux send-keys` and reads the screen with
//! `tmux capture-pane`.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use parley_testkit::TestRelay;
use support::names_in;
use support::tmux::{tmux_installed, Tmux};
use tempfile::TempDir;

mod support;

use support::tmux::TIMEOUT;
/// How long a message sent while the chat is open may take to appear: well under the 30 s
/// fallback poll of the event stream, so only the relay's push can deliver it in time.
const LIVE_TIMEOUT: Duration = Duration::from_secs(20);

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
/// `parley chat` running in tmux.
struct Scene {
    tmux: Tmux,
    alice: PathBuf,
    bob: PathBuf,
    passphrase: PathBuf,
    /// Written by the shell when the chat has ended: "exit=CODE icanon|-icanon".
    ended: PathBuf,
    /// The folder the chat is started in, where it saves documents.
    downloads: PathBuf,
    relay: TestRelay,
    _dir: TempDir,
}

impl Scene {
    /// `parley chat bob` on a 120×40 terminal.
    fn start() -> Scene {
        let scene = Scene::prepare();
        scene.launch(120, 40, "bob");
        scene
    }

    /// Alice and Bob registered, Bob's first message read by Alice; no chat yet.
    fn prepare() -> Scene {
        let relay = TestRelay::plaintext();
        let dir = TempDir::new().unwrap();
        let passphrase = dir.path().join("passphrase");
        support::private_file(&passphrase, "a long passphrase for tests\n");
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
        let downloads = dir.path().join("downloads");
        std::fs::create_dir(&downloads).unwrap();
        Scene {
            tmux: Tmux::new(),
            alice,
            bob,
            passphrase,
            ended,
            downloads,
            relay,
            _dir: dir,
        }
    }

    /// Starts Alice's `parley chat CONVERSATION` on a terminal of this size.
    fn launch(&self, width: u16, height: u16, conversation: &str) {
        // After the chat, the shell records its exit code and whether the terminal is back
        // in normal (canonical) mode, then stays, so the screen can still be read.
        let script = format!(
            "cd {downloads} && PARLEY_PASSPHRASE_FILE={pass} {bin} --home {home} chat {conversation}; \
             code=$?; printf 'exit=%s %s\\n' \"$code\" \"$(stty -a | grep -o -- '-\\{{0,1\\}}icanon')\" > {ended}; \
             sleep 600",
            downloads = quoted(&self.downloads),
            pass = quoted(&self.passphrase),
            bin = quoted(Path::new(env!("CARGO_BIN_EXE_parley"))),
            home = quoted(&self.alice),
            conversation = quoted(Path::new(conversation)),
            ended = quoted(&self.ended),
        );
        self.tmux.start(width, height, &script);
    }

    /// Registers another person on the relay; returns their home.
    fn register(&self, handle: &str) -> PathBuf {
        let home = self._dir.path().join(handle);
        parley(
            &home,
            &self.passphrase,
            &["init", "--relay", &self.relay.url(), "--handle", handle],
        );
        home
    }

    /// Runs parley as the person whose home is `home`.
    #[track_caller]
    fn parley(&self, home: &Path, args: &[&str]) -> String {
        parley(home, &self.passphrase, args)
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

/// The screen's rows that contain `needle`.
fn rows_with<'a>(screen: &'a str, needle: &str) -> Vec<&'a str> {
    screen.lines().filter(|row| row.contains(needle)).collect()
}

/// The compose box's text row: what follows the box's left border on the row that has it.
fn compose_row(screen: &str) -> String {
    let mut rows = screen.lines().skip_while(|row| !row.contains("Message to"));
    rows.nth(1)
        .and_then(|row| row.strip_prefix('│'))
        .map(|row| row.trim_end().trim_end_matches('│').trim_end().to_owned())
        .unwrap_or_default()
}

#[test]
fn the_line_can_be_edited_anywhere_and_is_sent_exactly() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::start();
    let tmux = &scene.tmux;
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("bob [unverified]: first words from bob")
    });

    tmux.type_text("helo world");
    tmux.wait_for("the typed text", |s| compose_row(s) == "helo world");
    // Back a word, one more to the left, and a comma: "helo, world".
    tmux.press("C-Left");
    tmux.press("Left");
    tmux.type_text(",");
    tmux.wait_for("the comma", |s| compose_row(s) == "helo, world");
    // To the start, forward a word (Alt-F), back one character, the missing l.
    tmux.press("Home");
    tmux.press("M-f");
    tmux.press("Left");
    tmux.type_text("l");
    tmux.wait_for("the l", |s| compose_row(s) == "hello, world");
    // A stray character at the end, removed with Backspace; one at the start, with Delete.
    tmux.press("End");
    tmux.type_text("!");
    tmux.press("BSpace");
    tmux.press("C-a");
    tmux.type_text("#");
    tmux.wait_for("the stray #", |s| compose_row(s) == "#hello, world");
    tmux.press("Left");
    tmux.press("DC");
    tmux.wait_for("the line fixed", |s| compose_row(s) == "hello, world");
    // Ctrl-W deletes the word before the cursor (the space before it stays: Backspace).
    tmux.press("End");
    tmux.type_text(" and more words");
    tmux.press("C-w");
    tmux.press("C-w");
    tmux.press("C-w");
    tmux.press("BSpace");
    tmux.wait_for("the words deleted", |s| compose_row(s) == "hello, world");

    tmux.press("Enter");
    tmux.wait_for("the sent message", |s| s.contains("alice: hello, world"));
    let read = scene.parley(&scene.bob, &["read"]);
    assert!(
        read.lines().any(|line| line == "alice: hello, world"),
        "bob did not get exactly the edited text:\n{read}"
    );
    // Multibyte text is edited by whole characters, and the chat survives it.
    tmux.type_text("prix: 10 € 日本");
    tmux.press("BSpace");
    tmux.press("C-Left");
    tmux.press("C-Left");
    tmux.press("BSpace");
    tmux.wait_for("the multibyte edit", |s| compose_row(s) == "prix:10 € 日");
    tmux.press("C-u");
    tmux.wait_for("the start deleted", |s| compose_row(s) == "10 € 日");
    tmux.press("Escape");
    scene.assert_ended_cleanly();
}

#[test]
fn a_draft_stays_with_its_conversation() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::prepare();
    let carol = scene.register("carol");
    scene.parley(&carol, &["send", "alice", "carol here"]);
    scene.parley(&scene.alice, &["read"]);
    scene.launch(120, 40, "bob");
    let tmux = &scene.tmux;
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("Message to bob")
    });

    tmux.type_text("our final offer is");
    tmux.wait_for("the draft", |s| compose_row(s) == "our final offer is");
    tmux.press("Tab");
    // carol's conversation has its own, empty, box; switching sent nothing.
    let screen = tmux.wait_for("the conversation with carol", |s| {
        s.contains("Message to carol")
    });
    assert_eq!(compose_row(&screen), "", "{screen}");
    assert!(!screen.contains("our final offer"), "{screen}");
    tmux.type_text("hi carol");
    tmux.press("Enter");
    tmux.wait_for("the message to carol", |s| s.contains("alice: hi carol"));

    tmux.press("BTab");
    let screen = tmux.wait_for("bob's conversation with the draft back", |s| {
        s.contains("Message to bob") && compose_row(s) == "our final offer is"
    });
    assert!(!screen.contains("alice: our final offer"), "{screen}");
    let carols = scene.parley(&carol, &["read"]);
    assert!(carols.contains("alice: hi carol"), "{carols}");
    assert!(!carols.contains("our final offer"), "{carols}");
    let bobs = scene.parley(&scene.bob, &["read"]);
    assert!(!bobs.contains("our final offer"), "{bobs}");
    assert!(!bobs.contains("hi carol"), "{bobs}");

    // The draft is finished where it was started and goes to bob alone.
    tmux.type_text(" 12 units");
    tmux.press("Enter");
    tmux.wait_for("the message to bob", |s| {
        s.contains("alice: our final offer is 12 units")
    });
    let bobs = scene.parley(&scene.bob, &["read"]);
    assert!(
        bobs.lines()
            .any(|line| line == "alice: our final offer is 12 units"),
        "{bobs}"
    );
    tmux.press("Escape");
    scene.assert_ended_cleanly();
}

#[test]
fn at_80_by_24_the_messages_get_the_width() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::prepare();
    scene.launch(80, 24, "bob");
    let tmux = &scene.tmux;
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("Message to bob")
    });
    // "HH:MM alice: " and 47 characters: a line of 60 columns.
    let text = format!("{}abcdefg", "0123456789".repeat(4));
    tmux.type_text(&text);
    tmux.press("Enter");
    let screen = tmux.wait_for("the sent message", |s| s.contains("alice: 0123"));
    let rows = rows_with(&screen, "alice: 0123");
    assert!(
        rows.len() == 1 && rows[0].contains(&format!("alice: {text}")),
        "the line was wrapped:\n{screen}"
    );
    assert!(
        screen.contains("bob [unverified]: first words from bob"),
        "{screen}"
    );
    // The conversation list is still there, narrow; the members pane is not.
    assert!(screen.contains("Conversa"), "{screen}");
    assert!(!screen.contains("Members"), "{screen}");
    tmux.press("Escape");
    scene.assert_ended_cleanly();
}

#[test]
fn a_removed_member_gets_no_compose_box() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::prepare();
    let carol = scene.register("carol");
    let bob = &scene.bob;
    // Removed while away from the chat: from room. Still in desk, for now.
    scene.parley(
        bob,
        &["group", "create", "room", "--members", "alice,carol"],
    );
    scene.parley(bob, &["group", "create", "desk", "--members", "alice"]);
    scene.parley(bob, &["group", "remove", "room", "alice"]);
    scene.parley(&scene.alice, &["read"]);
    scene.parley(&carol, &["read"]);
    scene.launch(120, 40, "bob/room");
    let tmux = &scene.tmux;
    let explanation = "You were removed from this group; you can read its history but not write.";
    let screen = tmux.wait_for("the explanation", |s| s.contains(explanation));
    assert!(!screen.contains("Message to"), "{screen}");
    assert!(screen.contains("bob removed you from bob/room"), "{screen}");
    // Typing goes nowhere, and Enter sends nothing.
    tmux.type_text("let me back in");
    tmux.press("Enter");
    let screen = tmux.wait_for("the refusal", |s| {
        s.lines().filter(|row| row.contains(explanation)).count() == 2
    });
    assert!(!screen.contains("let me back in"), "{screen}");
    let carols = scene.parley(&carol, &["read"]);
    assert!(!carols.contains("let me back in"), "{carols}");

    // desk has a box until bob removes alice while she looks at it.
    tmux.press("BTab");
    tmux.wait_for("desk's compose box", |s| s.contains("Message to bob/desk"));
    scene.parley(bob, &["group", "remove", "desk", "alice"]);
    let screen = tmux.wait_for_within(LIVE_TIMEOUT, "the box replaced live", |s| {
        s.contains(explanation) && !s.contains("Message to")
    });
    assert!(screen.contains("removed from bob/desk by bob"), "{screen}");
    tmux.press("Escape");
    scene.assert_ended_cleanly();
}

/// The number after "line " on each row of the screen that has one, top to bottom.
fn numbered_lines(screen: &str) -> Vec<u32> {
    screen
        .lines()
        .filter_map(|row| {
            let at = row.find("line ")?;
            row.get(at + 5..at + 8)?.parse().ok()
        })
        .collect()
}

#[test]
fn page_up_scrolls_by_a_page() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::prepare();
    let long: Vec<String> = (0..100).map(|i| format!("line {i:03}")).collect();
    scene.parley(&scene.bob, &["send", "alice", &long.join("\n")]);
    scene.parley(&scene.alice, &["read"]);
    scene.launch(120, 40, "bob");
    let tmux = &scene.tmux;
    let screen = tmux.wait_for("the newest line", |s| s.contains("line 099"));
    let before = numbered_lines(&screen);
    let top = before[0];
    // 40 rows less the compose box, the status line and the borders: 33 rows of messages.
    assert_eq!(before.len(), 33, "{screen}");
    assert_eq!(before.last(), Some(&99), "{screen}");

    tmux.press("PPage");
    let screen = tmux.wait_for("the view to move", |s| !s.contains("line 099"));
    let after = numbered_lines(&screen);
    // One row of overlap: the row that was at the top is now at the bottom.
    assert_eq!(after.last(), Some(&top), "{screen}");
    assert_eq!(after[0], top - 32, "{screen}");

    tmux.press("PPage");
    tmux.press("PPage");
    tmux.press("PPage");
    tmux.wait_for("the oldest message at the top", |s| {
        s.contains("first words from bob") && s.contains("line 000")
    });
    tmux.press("NPage");
    tmux.press("NPage");
    tmux.press("NPage");
    tmux.press("NPage");
    tmux.wait_for("the newest line again", |s| s.contains("line 099"));
    tmux.press("Escape");
    scene.assert_ended_cleanly();
}

/// While alice's chat is open, alice also uses parley from another shell: a message sent
/// there shows in the chat, `history` sees what the chat sent, and `read` prints what came
/// in, with the chat picking up the new conversation too. One daemon serves both, so
/// neither waits for the other's lock.
#[test]
fn the_chat_and_commands_in_another_shell_work_together() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::start();
    let (tmux, alice) = (&scene.tmux, &scene.alice);
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("Message to bob")
    });
    let status = scene.parley(alice, &["daemon", "status", "--json"]);
    assert!(status.contains("\"running\":true"), "{status}");

    // Sent from the other shell: shown in the chat, once.
    scene.parley(alice, &["send", "bob", "sent from the other shell"]);
    let screen = tmux.wait_for_within(LIVE_TIMEOUT, "the message sent elsewhere", |s| {
        s.contains("alice: sent from the other shell")
    });
    assert_eq!(
        rows_with(&screen, "sent from the other shell").len(),
        1,
        "{screen}"
    );

    // Sent from the chat: in the history the other shell prints, and bob gets both.
    tmux.type_text("typed in the chat");
    tmux.press("Enter");
    tmux.wait_for("the message typed in the chat", |s| {
        s.contains("alice: typed in the chat")
    });
    let history = scene.parley(alice, &["history", "bob"]);
    assert!(
        history.find("sent from the other shell") < history.find("typed in the chat"),
        "{history}"
    );
    let bob_reads = scene.parley(&scene.bob, &["read"]);
    assert!(
        bob_reads.contains("alice: sent from the other shell"),
        "{bob_reads}"
    );
    assert!(
        bob_reads.contains("alice: typed in the chat"),
        "{bob_reads}"
    );

    // carol writes while the chat shows bob: `read` in the other shell prints it, and the
    // chat lists carol's conversation whichever of the two fetched it.
    let carol = scene.register("carol");
    scene.parley(&carol, &["send", "alice", "carol here"]);
    let read = scene.parley(alice, &["read"]);
    assert!(read.contains("[carol] carol: carol here"), "{read}");
    tmux.wait_for_within(LIVE_TIMEOUT, "carol's conversation in the list", |s| {
        s.contains("carol")
    });
    tmux.press("Tab");
    tmux.wait_for("carol's message", |s| {
        s.contains("carol [unverified]: carol here")
    });
    tmux.press("Escape");
    scene.assert_ended_cleanly();
    // Shown once: neither read nor the chat shows it again.
    assert!(scene.parley(alice, &["read"]).is_empty());
}

/// bob shares a document while alice's chat is open: it shows as the one line `read` shows,
/// and Ctrl-S then Enter saves it in the folder the chat was started in, beside (never
/// over) a file of the same name, byte for byte, with nothing else left there.
#[test]
fn a_shared_document_is_one_line_and_ctrl_s_saves_it_here() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let scene = Scene::start();
    let tmux = &scene.tmux;
    tmux.wait_for("the conversation with bob", |s| {
        s.contains("Message to bob")
    });
    let data: Vec<u8> = (0..200_000).map(|i| (i * 7 % 251) as u8).collect();
    let source = scene._dir.path().join("offer v2.pdf");
    std::fs::write(&source, &data).unwrap();
    scene.parley(
        &scene.bob,
        &["send-file", "alice", source.to_str().unwrap()],
    );
    let line = "bob [unverified]: [document] offer v2.pdf (200.0 KB) id ";
    let screen = tmux.wait_for_within(LIVE_TIMEOUT, "the document's line", |s| {
        s.contains(line) && s.contains("Ctrl-S save a document")
    });
    assert_eq!(rows_with(&screen, "[document]").len(), 1, "{screen}");

    // A file of that name is there already: it stays as it is.
    let downloads = &scene.downloads;
    std::fs::write(downloads.join("offer v2.pdf"), b"mine").unwrap();
    tmux.press("C-s");
    tmux.wait_for("the list of documents", |s| {
        s.contains("Save which document?") && s.contains("> offer v2.pdf (200.0 KB) from bob")
    });
    tmux.press("Enter");
    let saved = downloads.join("offer v2 (2).pdf");
    let status = format!("Saved offer v2.pdf (200.0 KB) to {}.", saved.display());
    tmux.wait_for("where it was saved", |s| s.contains(&status));
    assert_eq!(std::fs::read(&saved).unwrap(), data);
    assert_eq!(
        std::fs::read(downloads.join("offer v2.pdf")).unwrap(),
        b"mine"
    );
    assert_eq!(names_in(downloads), ["offer v2 (2).pdf", "offer v2.pdf"]);

    // The list closes with Esc and the chat goes on as before.
    tmux.press("C-s");
    tmux.wait_for("the list again", |s| s.contains("Save which document?"));
    tmux.press("Escape");
    tmux.wait_for("the list closed", |s| !s.contains("Save which document?"));
    tmux.type_text("got it");
    tmux.press("Enter");
    tmux.wait_for("the sent message", |s| s.contains("alice: got it"));
    tmux.press("Escape");
    scene.assert_ended_cleanly();
    assert_eq!(names_in(downloads), ["offer v2 (2).pdf", "offer v2.pdf"]);
}

/// carol, on the north side of ann's workshop, opens the chat: its rooms are listed together
/// under the workshop (the plenary, then her caucus; not the facilitators' room, which she is
/// not in), the plenary's members show their roles, what dave said there shows under his
/// side alone, and Ctrl-T shows the text's latest version, numbered as `parley text show`
/// numbers it, until Esc.
#[test]
fn a_workshop_is_grouped_with_its_roles_and_its_text_one_key_away() {
    if !tmux_installed() {
        eprintln!("SKIPPED: tmux is not installed, so the chat screen cannot be tested here");
        return;
    }
    let relay = TestRelay::plaintext();
    let [ann, ben, carol, dave] =
        support::scenario::people(&relay, ["ann", "ben", "carol", "dave"]);
    ann.run(&[
        "workshop",
        "create",
        "talks",
        "--facilitators",
        "ann,ben",
        "--side",
        "north:carol",
        "--side",
        "south:dave",
        "--attribution",
        "side",
    ])
    .ok();
    for person in [&ben, &carol, &dave] {
        support::scenario::read(person);
    }
    let text = ann.file(
        "text.txt",
        "Article 1. The parties agree to meet again.\n\nArticle 2. A ceasefire holds.\n",
    );
    ann.run(&["text", "propose", "talks", text.to_str().unwrap()])
        .ok();
    dave.run(&["send", "ann/talks", "we accept in principle"])
        .ok();
    ben.run(&["send", "carol", "welcome, carol"]).ok();
    support::scenario::read(&carol);

    let tmux = Tmux::new();
    let script = format!(
        "PARLEY_HOME={home} PARLEY_PASSPHRASE_FILE={pass} {bin} chat; sleep 600",
        home = quoted(&carol.home()),
        pass = quoted(&carol.passphrase_file()),
        bin = quoted(Path::new(env!("CARGO_BIN_EXE_parley"))),
    );
    tmux.start(120, 40, &script);
    let screen = tmux.wait_for("the workshop in the list", |s| {
        s.contains("ann/talks (workshop)") && s.contains("caucus north")
    });
    // The workshop's line, then its rooms under it in their order; the 1:1 as before.
    let row = |needle: &str| screen.lines().position(|r| r.contains(needle));
    let (header, plenary, caucus) = (
        row("ann/talks (workshop)").unwrap(),
        row("  plenary").unwrap(),
        row("  caucus north").unwrap(),
    );
    assert!(header < plenary && plenary < caucus, "{screen}");
    assert!(row("ben").is_some(), "{screen}");
    assert!(!screen.contains("facilitators"), "{screen}");
    let list: Vec<String> = screen
        .lines()
        .map(|r| r.chars().take(26).collect())
        .collect();
    assert!(!list.iter().any(|r| r.contains("#ann/talks")), "{screen}");

    // Selecting the plenary: members with their roles, dave's words under his side.
    let mut screen = tmux.screen();
    for _ in 0..4 {
        if screen.contains("Message to ann/talks ·") {
            break;
        }
        tmux.press("Tab");
        std::thread::sleep(Duration::from_millis(300));
        screen = tmux.screen();
    }
    let screen = tmux.wait_for("the plenary with its roles", |s| {
        s.contains("Message to ann/talks ·")
            && s.contains("dave  south  [unverified]")
            && s.contains("ann  facilitator")
            && s.contains("carol  north  (you)")
    });
    assert!(screen.contains("south: we accept in principle"), "{screen}");
    assert!(!screen.contains("dave [unverified]: we accept"), "{screen}");
    assert!(screen.contains("Ctrl-T"), "{screen}");

    // Ctrl-T: the latest version, its paragraphs numbered; Esc goes back to the messages.
    tmux.press("C-t");
    let screen = tmux.wait_for("the text", |s| {
        s.contains("[1] Article 1. The parties agree to meet again.")
            && s.contains("[2] Article 2. A ceasefire holds.")
    });
    assert!(screen.contains("Text of ann/talks · version 1"), "{screen}");
    assert!(!screen.contains("south: we accept"), "{screen}");
    tmux.press("Escape");
    tmux.wait_for("the messages again", |s| {
        !s.contains("[1] Article 1") && s.contains("south: we accept in principle")
    });
    tmux.press("Escape");
    tmux.wait_for("the normal screen", |s| !s.contains("Conversations"));
}
