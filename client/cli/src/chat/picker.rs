//! The list the chat shows when the person asks to save a document (Ctrl-S): the documents
//! of the conversation on screen, newest first, the newest one chosen, so that Ctrl-S and
//! Enter save the document that just arrived and an older one is a few Up/Down away.

use parley_client::DocumentInfo;

use super::model::Entry;

/// One document on offer, with what tells it apart from others of the same name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    /// The document.
    pub(crate) document: DocumentInfo,
    /// Who shared it.
    pub(crate) sender: String,
    /// When (ms since 1970, sender's clock).
    pub(crate) sent_at_ms: u64,
}

/// The documents of one conversation and the one chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Picker {
    /// Newest first; never empty.
    choices: Vec<Choice>,
    chosen: usize,
}

impl Picker {
    /// The documents shared in `messages` (a conversation's, oldest first), the newest
    /// chosen; `None` when there are none.
    pub(crate) fn of(messages: &[Entry]) -> Option<Picker> {
        let mut choices: Vec<Choice> = Vec::new();
        for message in messages.iter().rev() {
            let Some(document) = &message.document else {
                continue;
            };
            // One document is one choice, however it came to be listed twice.
            if choices.iter().any(|c| c.document.id == document.id) {
                continue;
            }
            choices.push(Choice {
                document: DocumentInfo::clone(document),
                sender: message.sender.clone(),
                sent_at_ms: message.sent_at_ms,
            });
        }
        (!choices.is_empty()).then_some(Picker { choices, chosen: 0 })
    }

    /// The documents, newest first.
    pub(crate) fn choices(&self) -> &[Choice] {
        &self.choices
    }

    /// The index of the chosen one.
    pub(crate) fn chosen(&self) -> usize {
        self.chosen
    }

    /// Chooses the next older document (from the oldest: the newest again).
    pub(crate) fn older(&mut self) {
        self.chosen = (self.chosen + 1) % self.choices.len().max(1);
    }

    /// Chooses the next newer document (from the newest: the oldest).
    pub(crate) fn newer(&mut self) {
        let count = self.choices.len().max(1);
        self.chosen = (self.chosen + count - 1) % count;
    }

    /// The chosen document.
    pub(crate) fn take(self) -> Option<DocumentInfo> {
        self.choices
            .into_iter()
            .nth(self.chosen)
            .map(|choice| choice.document)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chat::app::tests::{message, shared};

    fn names(picker: &Picker) -> Vec<&str> {
        picker
            .choices()
            .iter()
            .map(|c| c.document.name.as_str())
            .collect()
    }

    #[test]
    fn no_documents_no_picker() {
        let messages = [message("bob", "bob", "hello")];
        assert_eq!(Picker::of(&messages), None);
    }

    #[test]
    fn the_newest_comes_first_and_is_chosen() {
        let messages = [
            shared("bob", "bob", "old.pdf", "aa"),
            message("bob", "bob", "and another"),
            shared("bob", "alice", "mine.pdf", "bb"),
            shared("bob", "bob", "new.pdf", "cc"),
            shared("bob", "bob", "new.pdf", "cc"),
        ];
        let mut picker = Picker::of(&messages).unwrap();
        assert_eq!(names(&picker), ["new.pdf", "mine.pdf", "old.pdf"]);
        assert_eq!(picker.chosen(), 0);
        assert_eq!(picker.choices()[1].sender, "alice");
        picker.newer();
        assert_eq!(picker.chosen(), 2, "from the newest, up goes round");
        picker.older();
        picker.older();
        assert_eq!(picker.chosen(), 1);
        assert_eq!(picker.take().map(|d| d.name), Some("mine.pdf".to_owned()));
    }
}
