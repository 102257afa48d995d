//! Which key does what. The help overlay in ui.rs lists the same keys; change both together.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::Command;

/// The command for a key, or None for keys the chat ignores.
pub(super) fn command(key: KeyEvent) -> Option<Command> {
    // Some terminals also report releases and repeats; a key acts once, when pressed.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    let command = match key.code {
        KeyCode::Char('c') | KeyCode::Char('d') if control => Command::Quit,
        KeyCode::Char('u') if control => Command::ClearInput,
        KeyCode::Char('n') if control => Command::NextConversation,
        KeyCode::Char('p') if control => Command::PreviousConversation,
        KeyCode::Char(_) if control || key.modifiers.contains(KeyModifiers::ALT) => return None,
        KeyCode::Char(c) => Command::Type(c),
        KeyCode::Backspace => Command::Backspace,
        KeyCode::Enter => Command::Submit,
        KeyCode::Tab | KeyCode::Down => Command::NextConversation,
        KeyCode::BackTab | KeyCode::Up => Command::PreviousConversation,
        KeyCode::PageUp => Command::ScrollUp,
        KeyCode::PageDown => Command::ScrollDown,
        KeyCode::F(1) => Command::ToggleHelp,
        KeyCode::Esc => Command::Escape,
        _ => return None,
    };
    Some(command)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Command> {
        command(KeyEvent::new(code, modifiers))
    }

    #[test]
    fn keys_map_to_commands() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            key(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Command::Quit)
        );
        assert_eq!(key(KeyCode::Char('c'), none), Some(Command::Type('c')));
        assert_eq!(
            key(KeyCode::Char('B'), KeyModifiers::SHIFT),
            Some(Command::Type('B'))
        );
        assert_eq!(key(KeyCode::Esc, none), Some(Command::Escape));
        assert_eq!(key(KeyCode::Tab, none), Some(Command::NextConversation));
        assert_eq!(
            key(KeyCode::BackTab, KeyModifiers::SHIFT),
            Some(Command::PreviousConversation)
        );
        assert_eq!(key(KeyCode::Enter, none), Some(Command::Submit));
        assert_eq!(key(KeyCode::Char('x'), KeyModifiers::ALT), None);
    }

    #[test]
    fn releases_are_ignored() {
        let mut release = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(command(release), None);
    }
}
