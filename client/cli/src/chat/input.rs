//! Which key does what. The help overlay in ui.rs lists the same keys; change both together.
//!
//! The editing keys are those of a shell's line (readline, emacs), so fingers need not learn
//! new ones; terminals disagree on what Ctrl and Alt with an arrow send, so both are taken.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::app::Command;
use super::line_editor::Edit;

/// The command for a key, or None for keys the chat ignores.
pub(super) fn command(key: KeyEvent) -> Option<Command> {
    // Some terminals also report releases and repeats; a key acts once, when pressed.
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let control = key.modifiers.contains(KeyModifiers::CONTROL);
    let alt = key.modifiers.contains(KeyModifiers::ALT);
    let command = match key.code {
        KeyCode::Char('c') | KeyCode::Char('d') if control => Command::Quit,
        KeyCode::Char('n') if control => Command::NextConversation,
        KeyCode::Char('p') if control => Command::PreviousConversation,
        // "Save", as everywhere; raw mode turns off the terminal's flow control, so the
        // key reaches the chat rather than pausing the screen.
        KeyCode::Char('s') if control => Command::SaveDocument,
        // "Text": the workshop's negotiating text; no editing key of a shell's line that
        // this chat offers takes it.
        KeyCode::Char('t') if control => Command::ShowText,
        // Ctrl and Alt together may be AltGr typing a character; it is not an edit.
        KeyCode::Char(c) if control && !alt => Command::Edit(control_edit(c)?),
        KeyCode::Char('b') if alt && !control => Command::Edit(Edit::WordLeft),
        KeyCode::Char('f') if alt && !control => Command::Edit(Edit::WordRight),
        KeyCode::Char(_) if control || alt => return None,
        KeyCode::Char(c) => Command::Type(c),
        KeyCode::Backspace if control || alt => Command::Edit(Edit::DeleteWordBefore),
        KeyCode::Backspace => Command::Edit(Edit::Backspace),
        KeyCode::Delete => Command::Edit(Edit::Delete),
        KeyCode::Left if control || alt => Command::Edit(Edit::WordLeft),
        KeyCode::Right if control || alt => Command::Edit(Edit::WordRight),
        KeyCode::Left => Command::Edit(Edit::Left),
        KeyCode::Right => Command::Edit(Edit::Right),
        KeyCode::Home => Command::Edit(Edit::Home),
        KeyCode::End => Command::Edit(Edit::End),
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

/// The edit of Ctrl and a letter, as in a shell.
fn control_edit(c: char) -> Option<Edit> {
    Some(match c {
        'a' => Edit::Home,
        'e' => Edit::End,
        'b' => Edit::Left,
        'f' => Edit::Right,
        // Some terminals send Ctrl-H for Backspace.
        'h' => Edit::Backspace,
        'w' => Edit::DeleteWordBefore,
        'u' => Edit::DeleteToStart,
        'k' => Edit::DeleteToEnd,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, modifiers: KeyModifiers) -> Option<Command> {
        command(KeyEvent::new(code, modifiers))
    }

    fn edit(code: KeyCode, modifiers: KeyModifiers) -> Option<Edit> {
        match key(code, modifiers) {
            Some(Command::Edit(edit)) => Some(edit),
            _ => None,
        }
    }

    #[test]
    fn keys_map_to_commands() {
        let none = KeyModifiers::NONE;
        assert_eq!(
            key(KeyCode::Char('c'), KeyModifiers::CONTROL),
            Some(Command::Quit)
        );
        assert_eq!(
            key(KeyCode::Char('d'), KeyModifiers::CONTROL),
            Some(Command::Quit)
        );
        assert_eq!(key(KeyCode::Char('c'), none), Some(Command::Type('c')));
        assert_eq!(
            key(KeyCode::Char('B'), KeyModifiers::SHIFT),
            Some(Command::Type('B'))
        );
        assert_eq!(key(KeyCode::Char('€'), none), Some(Command::Type('€')));
        assert_eq!(key(KeyCode::Esc, none), Some(Command::Escape));
        assert_eq!(key(KeyCode::Tab, none), Some(Command::NextConversation));
        assert_eq!(key(KeyCode::Down, none), Some(Command::NextConversation));
        assert_eq!(
            key(KeyCode::BackTab, KeyModifiers::SHIFT),
            Some(Command::PreviousConversation)
        );
        assert_eq!(
            key(KeyCode::Char('n'), KeyModifiers::CONTROL),
            Some(Command::NextConversation)
        );
        assert_eq!(key(KeyCode::Enter, none), Some(Command::Submit));
        assert_eq!(key(KeyCode::PageUp, none), Some(Command::ScrollUp));
        assert_eq!(key(KeyCode::PageDown, none), Some(Command::ScrollDown));
        assert_eq!(key(KeyCode::F(1), none), Some(Command::ToggleHelp));
        assert_eq!(
            key(KeyCode::Char('s'), KeyModifiers::CONTROL),
            Some(Command::SaveDocument)
        );
        assert_eq!(
            key(KeyCode::Char('t'), KeyModifiers::CONTROL),
            Some(Command::ShowText)
        );
        assert_eq!(key(KeyCode::Char('x'), KeyModifiers::ALT), None);
        assert_eq!(key(KeyCode::Char('x'), KeyModifiers::CONTROL), None);
        assert_eq!(key(KeyCode::F(5), none), None);
    }

    #[test]
    fn editing_keys_map_to_edits() {
        let none = KeyModifiers::NONE;
        let control = KeyModifiers::CONTROL;
        let alt = KeyModifiers::ALT;
        assert_eq!(edit(KeyCode::Left, none), Some(Edit::Left));
        assert_eq!(edit(KeyCode::Right, none), Some(Edit::Right));
        assert_eq!(edit(KeyCode::Home, none), Some(Edit::Home));
        assert_eq!(edit(KeyCode::End, none), Some(Edit::End));
        assert_eq!(edit(KeyCode::Char('a'), control), Some(Edit::Home));
        assert_eq!(edit(KeyCode::Char('e'), control), Some(Edit::End));
        assert_eq!(edit(KeyCode::Char('b'), control), Some(Edit::Left));
        assert_eq!(edit(KeyCode::Char('f'), control), Some(Edit::Right));
        assert_eq!(edit(KeyCode::Left, control), Some(Edit::WordLeft));
        assert_eq!(edit(KeyCode::Right, control), Some(Edit::WordRight));
        assert_eq!(edit(KeyCode::Left, alt), Some(Edit::WordLeft));
        assert_eq!(edit(KeyCode::Right, alt), Some(Edit::WordRight));
        assert_eq!(edit(KeyCode::Char('b'), alt), Some(Edit::WordLeft));
        assert_eq!(edit(KeyCode::Char('f'), alt), Some(Edit::WordRight));
        assert_eq!(edit(KeyCode::Backspace, none), Some(Edit::Backspace));
        assert_eq!(edit(KeyCode::Char('h'), control), Some(Edit::Backspace));
        assert_eq!(edit(KeyCode::Delete, none), Some(Edit::Delete));
        assert_eq!(
            edit(KeyCode::Char('w'), control),
            Some(Edit::DeleteWordBefore)
        );
        assert_eq!(edit(KeyCode::Backspace, alt), Some(Edit::DeleteWordBefore));
        assert_eq!(edit(KeyCode::Char('u'), control), Some(Edit::DeleteToStart));
        assert_eq!(edit(KeyCode::Char('k'), control), Some(Edit::DeleteToEnd));
    }

    #[test]
    fn releases_are_ignored() {
        let mut release = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(command(release), None);
    }
}
