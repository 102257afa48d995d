//! Turns any failure into what a person sees: one `error:` line, an optional `hint:` line,
//! and the exit code that scripts can branch on.

use std::process::ExitCode;

use parley_client::{ClientError, RelayError};

use super::home::{shell_quote, Home};
use super::output::to_stderr;
use super::sanitize::one_line;

/// Exit code for any failure without a more specific code.
pub(crate) const EXIT_ERROR: u8 = 1;
/// Exit code when the command was not typed correctly (clap uses it too).
pub(crate) const EXIT_USAGE: u8 = 2;
/// Exit code when a contact's or member's identity key does not match the pinned one.
pub(crate) const EXIT_KEY_CHANGED: u8 = 3;
/// Exit code when the relay cannot be reached at all.
pub(crate) const EXIT_UNREACHABLE: u8 = 4;

/// A failure described for a person.
#[derive(Debug)]
pub(crate) struct Failure {
    message: String,
    hint: Option<String>,
    code: u8,
}

impl Failure {
    /// A general failure (exit code 1) with this message.
    pub(crate) fn new(message: impl Into<String>) -> Failure {
        Failure {
            message: message.into(),
            hint: None,
            code: EXIT_ERROR,
        }
    }

    /// Adds the obvious next step.
    pub(crate) fn hint(mut self, hint: impl Into<String>) -> Failure {
        self.hint = Some(hint.into());
        self
    }

    /// Sets a more specific exit code.
    pub(crate) fn code(mut self, code: u8) -> Failure {
        self.code = code;
        self
    }

    /// A failure as described elsewhere (by the daemon): these words, this exit code.
    pub(crate) fn from_parts(message: String, hint: Option<String>, code: u8) -> Failure {
        Failure {
            message,
            hint,
            code,
        }
    }

    /// The `error:` line's text.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The `hint:` line's text, if any.
    pub(crate) fn hint_text(&self) -> Option<&str> {
        self.hint.as_deref()
    }

    /// The exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        self.code
    }

    /// Describes an error of the client library, in the words of `parley`.
    pub(crate) fn of_client(error: &ClientError, home: &Home) -> Failure {
        from_client(error, home)
    }

    /// Describes whatever went wrong. Errors of the client library get their own words;
    /// anything else is shown with its causes on one line.
    pub(crate) fn describe(error: &anyhow::Error, home: &Home) -> Failure {
        if let Some(failure) = error.downcast_ref::<Failure>() {
            return Failure {
                message: failure.message.clone(),
                hint: failure.hint.clone(),
                code: failure.code,
            };
        }
        match error.chain().find_map(|e| e.downcast_ref::<ClientError>()) {
            Some(client_error) => from_client(client_error, home),
            None => Failure::new(format!("{error:#}")),
        }
    }

    /// Prints the failure on stderr and gives the exit code.
    pub(crate) fn report(&self) -> ExitCode {
        to_stderr(&format!("error: {}", one_line(&self.message)));
        if let Some(hint) = &self.hint {
            to_stderr(&format!("hint: {}", one_line(hint)));
        }
        ExitCode::from(self.code)
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

fn from_client(error: &ClientError, home: &Home) -> Failure {
    let cmd = home.command();
    match error {
        ClientError::NotInitialized => not_initialized(home),
        // One line and no hint: the sources were chosen on purpose, and repeating them
        // would only hide the fact that matters.
        ClientError::WrongPassphrase => {
            Failure::new("the passphrase is wrong; nothing was opened or changed")
        }
        ClientError::PassphraseRequired => Failure::new("the passphrase is empty").hint(
            "set PARLEY_PASSPHRASE_FILE to a file holding it, or use --passphrase-command CMD",
        ),
        ClientError::AlreadyInitialized => Failure::new(format!(
            "{} already holds a Parley identity",
            home.dir().display()
        ))
        .hint(format!(
            "see it with `{cmd} whoami`; to register someone else, use another folder with --home"
        )),
        ClientError::InvalidHandle(handle) => {
            Failure::new(format!("'{handle}' is not a valid handle")).hint(
                "a handle has 3 to 32 characters: lowercase letters a-z, digits, '.', '_' or '-', \
                 and starts with a letter or a digit",
            )
        }
        ClientError::HandleTaken(handle) => Failure::new(format!(
            "the handle '{handle}' is already taken on this relay"
        ))
        .hint("choose another handle with --handle"),
        ClientError::UnknownContact(handle) => Failure::new(format!(
            "nobody with the handle '{handle}' is registered on your relay (check the spelling)"
        )),
        ClientError::UnknownConversation(name) => {
            Failure::new(format!("you have no conversation or group named '{name}'")).hint(format!(
                "a group shows up once someone adds you and you run `{cmd} read`"
            ))
        }
        ClientError::KeyChanged(handle) => Failure::new(format!(
            "the identity key of '{handle}' has changed; Parley stops here because someone \
             may be impersonating them"
        ))
        .hint(verify_hint(&cmd, handle.as_str()))
        .code(EXIT_KEY_CHANGED),
        ClientError::AmbiguousName { name, options } => Failure::new(format!(
            "'{name}' could mean more than one conversation, so nothing was done"
        ))
        .hint(format!("name the one you mean: {}", options.join(", or ")))
        .code(EXIT_USAGE),
        ClientError::MemberKeyChanged {
            conversation,
            handle,
        } => {
            let quoted = shell_quote(handle.as_str());
            Failure::new(format!(
                "the identity key of '{handle}' in '{conversation}' is not the one you trust; \
                 nothing was sent, because someone may be impersonating them"
            ))
            .hint(format!(
                "compare safety numbers with {handle}: {cmd} verify {quoted}, then {cmd} verify \
                 {quoted} --confirm (or accept the new key without comparing: {cmd} contact \
                 accept-new-key {quoted}); or remove them from the group: {cmd} group remove {} \
                 {quoted}",
                shell_quote(conversation)
            ))
            .code(EXIT_KEY_CHANGED)
        }
        ClientError::NotAGroup(name) => Failure::new(format!(
            "'{name}' is a private conversation with one person, not a group"
        ))
        .hint(format!(
            "to talk with more people, create a group: {cmd} group create NAME --members a,b"
        )),
        ClientError::Retired(name) => Failure::new(format!(
            "'{name}' holds a key you no longer use and is kept read-only"
        ))
        .hint("write to the person by their handle; your next message starts a new conversation"),
        ClientError::UntrustedMember(handle) => Failure::new(format!(
            "the identity key of group member '{handle}' does not match the one you know for them"
        ))
        .hint(verify_hint(&cmd, handle.as_str()))
        .code(EXIT_KEY_CHANGED),
        ClientError::InvalidRelay(why) => invalid_relay_url(&why.to_string()),
        ClientError::ConversationExists(_) => Failure::new(error.to_string()).hint(format!(
            "see its members with `{cmd} group members NAME`, or pick another name"
        )),
        ClientError::EmptyMessage => Failure::new("the message is empty").hint(format!(
            "put the text after the name, in quotes: {cmd} send bob 'hello'"
        )),
        ClientError::MessageTooLong => {
            Failure::new("the message is too long (at most 64 KiB of text)")
        }
        ClientError::UnknownDocument(id) => Failure::new(format!(
            "no document with the id '{id}' was shared with you"
        ))
        .hint(format!(
            "`{cmd} files` lists the documents shared with you and their ids; run `{cmd} read` \
             first for new ones"
        )),
        ClientError::DocumentDamaged => Failure::new(
            "the document the relay served is not the one that was shared (altered or cut \
             short); nothing was saved",
        )
        .hint("try again later; if it keeps failing, ask the sender to send it again"),
        ClientError::RelayUnreachable(why) => unreachable(why, &cmd),
        ClientError::Relay(relay_error) => from_relay(relay_error, &cmd),
        ClientError::Store(store_error) => Failure::new(format!(
            "cannot use the Parley data in {}: {store_error}",
            home.dir().display()
        )),
        // The library words its other errors for end users already.
        other => Failure::new(other.to_string()),
    }
}

fn from_relay(error: &RelayError, cmd: &str) -> Failure {
    match error {
        RelayError::Unreachable(why) => unreachable(why, cmd),
        RelayError::Tls(why) => {
            Failure::new(format!("the secure connection to the relay failed: {why}"))
                .hint("check the relay address and its fingerprint with the relay's operator")
        }
        RelayError::InvalidUrl(why) => invalid_relay_url(why),
        RelayError::NotFound => Failure::new(
            "the relay no longer knows one of your conversations; it may have been reset, or \
             replaced by someone else",
        )
        .hint(format!(
            "ask the relay's operator what happened, and compare safety numbers before sending \
             anything sensitive: {cmd} verify HANDLE"
        )),
        RelayError::ResourceExhausted => Failure::new("the relay is busy or a limit was reached")
            .hint("wait a minute and try again"),
        other => Failure::new(other.to_string()),
    }
}

/// The library's text already names what is wrong (address or fingerprint); the hint says
/// what a good one looks like.
fn invalid_relay_url(why: &str) -> Failure {
    Failure::new(why).hint(
        "a relay address looks like https://host:port (or http://127.0.0.1:port for a relay on \
         this computer); a fingerprint is the 64 hexadecimal characters the relay's operator \
         gives you",
    )
}

/// The failure for a relay that cannot be reached (exit code 4).
fn unreachable(why: &str, cmd: &str) -> Failure {
    Failure::new(format!("cannot reach the relay: {why}"))
        .hint(format!(
            "check your network connection and that the relay is running; `{cmd} whoami` shows \
             its address"
        ))
        .code(EXIT_UNREACHABLE)
}

fn verify_hint(cmd: &str, handle: &str) -> String {
    let quoted = shell_quote(handle);
    format!(
        "compare safety numbers with {handle} in person or on a call: {cmd} verify {quoted}; \
         if they match, {cmd} verify {quoted} --confirm (or, to accept a changed key without \
         comparing: {cmd} contact accept-new-key {quoted})"
    )
}

/// The failure for a command that needs an identity in a folder that has none.
pub(crate) fn not_initialized(home: &Home) -> Failure {
    Failure::new(format!(
        "there is no Parley identity in {} yet",
        home.dir().display()
    ))
    .hint(format!(
        "create one with: {} init --relay URL --handle NAME",
        home.command()
    ))
}

/// An I/O error in words, without the "(os error 2)" people have no use for.
pub(crate) fn io_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    match text.find(" (os error") {
        Some(at) => text[..at].to_owned(),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use clap::parser::ValueSource;

    use super::*;

    fn home() -> Home {
        Home::resolve(
            Some(PathBuf::from("/data/parley")),
            Some(ValueSource::CommandLine),
        )
        .unwrap()
    }

    fn described(error: ClientError) -> Failure {
        Failure::describe(&anyhow::Error::from(error), &home())
    }

    #[test]
    fn changed_keys_exit_3_and_point_at_safety_numbers() {
        for error in [
            ClientError::KeyChanged("bob".parse().unwrap()),
            ClientError::UntrustedMember("bob".parse().unwrap()),
        ] {
            let failure = described(error);
            assert_eq!(failure.code, EXIT_KEY_CHANGED);
            let hint = failure.hint.unwrap();
            assert!(
                hint.contains("parley --home /data/parley verify bob --confirm"),
                "{hint}"
            );
        }
    }

    #[test]
    fn a_changed_group_member_exits_3_with_every_remedy() {
        let failure = described(ClientError::MemberKeyChanged {
            conversation: "buyers".into(),
            handle: "carol".parse().unwrap(),
        });
        assert_eq!(failure.code, EXIT_KEY_CHANGED);
        let hint = failure.hint.unwrap();
        for remedy in [
            "verify carol --confirm",
            "contact accept-new-key carol",
            "group remove buyers carol",
        ] {
            assert!(hint.contains(remedy), "{hint}");
        }
    }

    #[test]
    fn an_ambiguous_name_exits_2_and_says_how_to_pick() {
        let failure = described(ClientError::AmbiguousName {
            name: "dave".into(),
            options: vec!["@dave (a person)".into(), "mallory/dave (the group)".into()],
        });
        assert_eq!(failure.code, EXIT_USAGE);
        let hint = failure.hint.unwrap();
        assert!(
            hint.contains("@dave") && hint.contains("mallory/dave"),
            "{hint}"
        );
    }

    #[test]
    fn an_unreachable_relay_exits_4() {
        let failure = described(ClientError::RelayUnreachable("refused".into()));
        assert_eq!(failure.code, EXIT_UNREACHABLE);
        let failure = described(ClientError::Relay(RelayError::Unreachable("reset".into())));
        assert_eq!(failure.code, EXIT_UNREACHABLE);
        assert!(failure.message.contains("reset"));
    }

    #[test]
    fn other_errors_exit_1() {
        let failure = described(ClientError::HandleTaken("alice".parse().unwrap()));
        assert_eq!(failure.code, EXIT_ERROR);
        assert!(failure.message.contains("alice"));
        let failure = described(ClientError::NotInitialized);
        assert_eq!(failure.code, EXIT_ERROR);
        assert!(failure
            .hint
            .unwrap()
            .contains("parley --home /data/parley init"));
    }

    #[test]
    fn context_does_not_hide_the_client_error() {
        let error =
            anyhow::Error::from(ClientError::KeyChanged("bob".parse().unwrap())).context("sending");
        assert_eq!(Failure::describe(&error, &home()).code, EXIT_KEY_CHANGED);
    }

    #[test]
    fn a_prepared_failure_is_kept_as_is() {
        let error = anyhow::Error::from(Failure::new("no").hint("yes").code(EXIT_UNREACHABLE));
        let failure = Failure::describe(&error, &home());
        assert_eq!(
            (failure.message.as_str(), failure.code),
            ("no", EXIT_UNREACHABLE)
        );
        assert_eq!(failure.hint.as_deref(), Some("yes"));
    }
}
