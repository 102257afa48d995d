//! Where the text of a message comes from: the command line, or stdin when it is '-'.

use std::io::{self, IsTerminal, Read};

use super::failure::Failure;
use super::output::note;

/// The word that means "read the message from stdin".
const FROM_STDIN: &str = "-";

/// The message text: the words given, joined by spaces (so a forgotten pair of quotes still
/// sends what was meant), or all of stdin when the only word is '-'.
pub(crate) fn message_text(words: &[String]) -> Result<String, Failure> {
    let text = match words {
        [only] if only == FROM_STDIN => read_stdin()?,
        _ => words.join(" "),
    };
    if text.is_empty() {
        return Err(Failure::new("the message is empty")
            .hint("put the text after the name, in quotes, or pipe it in with '-'"));
    }
    Ok(text)
}

fn read_stdin() -> Result<String, Failure> {
    let stdin = io::stdin();
    if stdin.is_terminal() {
        note("Type your message, then press Ctrl-D on an empty line to send it.");
    }
    let mut bytes = Vec::new();
    stdin.lock().read_to_end(&mut bytes).map_err(|err| {
        Failure::new(format!(
            "cannot read the message from standard input: {err}"
        ))
    })?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::new("the message from standard input is not UTF-8 text"))?;
    Ok(trim_one_newline(text))
}

/// Drops the one line break that `echo`, editors and here-documents add at the end, and no
/// more: other trailing blank lines are part of the message.
fn trim_one_newline(mut text: String) -> String {
    if text.ends_with("\r\n") {
        text.truncate(text.len() - 2);
    } else if text.ends_with('\n') {
        text.truncate(text.len() - 1);
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_trailing_newline_is_trimmed() {
        assert_eq!(trim_one_newline("hi\n".into()), "hi");
        assert_eq!(trim_one_newline("hi\r\n".into()), "hi");
        assert_eq!(trim_one_newline("hi\n\n".into()), "hi\n");
        assert_eq!(trim_one_newline("hi".into()), "hi");
    }

    #[test]
    fn words_are_joined() {
        let words = vec!["meet".to_owned(), "at".to_owned(), "ten".to_owned()];
        assert_eq!(message_text(&words).unwrap(), "meet at ten");
    }

    #[test]
    fn empty_text_is_refused() {
        assert!(message_text(&[String::new()]).is_err());
    }
}
