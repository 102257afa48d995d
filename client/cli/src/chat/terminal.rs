//! Taking over the terminal (raw mode, alternate screen) and always giving it back: when the
//! chat ends, when it fails, and when parley panics.

use std::io::{self, IsTerminal, Stdout};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use anyhow::{bail, Context as _, Result};
use crossterm::cursor::Show;
use crossterm::execute;
use crossterm::terminal::{
    disable_raw_mode, enable_raw_mode, EnterAlternateScreen, LeaveAlternateScreen,
};
use ratatui::backend::CrosstermBackend;
use ratatui::Terminal;

/// The screen the chat draws on.
pub(super) type Screen = Terminal<CrosstermBackend<Stdout>>;

/// Whether the terminal is in the chat's mode now, so it is given back exactly once.
static TAKEN: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// The terminal while the chat owns it; dropping it gives the terminal back.
pub(super) struct Session {
    /// Where to draw.
    pub(super) screen: Screen,
}

impl Session {
    /// Checks that a person is at a terminal, then switches it to the chat's mode.
    pub(super) fn enter() -> Result<Session> {
        require_terminal()?;
        install_panic_hook();
        enable_raw_mode().context("cannot switch the terminal to chat mode")?;
        TAKEN.store(true, Ordering::SeqCst);
        // From here on, an early return drops the session, which restores the terminal.
        let setup = || -> Result<Screen> {
            execute!(io::stdout(), EnterAlternateScreen)?;
            let mut screen = Terminal::new(CrosstermBackend::new(io::stdout()))?;
            screen.clear()?;
            Ok(screen)
        };
        match setup() {
            Ok(screen) => Ok(Session { screen }),
            Err(error) => {
                restore();
                Err(error.context("cannot prepare the terminal for the chat"))
            }
        }
    }
}

/// Fails unless keys come from, and the screen goes to, a terminal.
pub(super) fn require_terminal() -> Result<()> {
    if !io::stdin().is_terminal() || !io::stdout().is_terminal() {
        bail!(
            "parley chat needs a terminal to draw on; in scripts use `parley send` and \
             `parley read --follow`"
        );
    }
    Ok(())
}

impl Drop for Session {
    fn drop(&mut self) {
        restore();
    }
}

/// Gives the terminal back: normal mode, normal screen, visible cursor. Safe to call twice.
fn restore() {
    if TAKEN.swap(false, Ordering::SeqCst) {
        // Nothing better can be done if these fail: the terminal is already in trouble.
        let _ = disable_raw_mode();
        let _ = execute!(io::stdout(), LeaveAlternateScreen, Show);
    }
}

/// A panic message printed on the alternate screen in raw mode would vanish with it, so the
/// terminal is restored before the usual panic report.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}
