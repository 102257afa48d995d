//! How a message is shown: one plain line for `read`, a line with time and the sender's
//! verification status for `history`, and one JSON object for `--json`.

use parley_client::{Message, MessageBody};
use serde_json::json;

use super::sanitize::for_terminal;
use super::time::utc_minute;

/// The text of a message, made safe for a terminal (it was written by someone else).
fn shown_text(message: &Message) -> String {
    match &message.body {
        MessageBody::Text(text) => for_terminal(text),
        MessageBody::Unsupported { kind } => format!(
            "[a kind of message this version of parley cannot show (kind {kind}); update parley to see it]"
        ),
        #[allow(unreachable_patterns)]
        _ => for_terminal(&message.text),
    }
}

/// "sender: text", the line `parley read` promises.
pub(crate) fn plain_line(message: &Message) -> String {
    format!("{}: {}", for_terminal(&message.sender), shown_text(message))
}

/// "YYYY-MM-DD HH:MM  sender [status]: text", as `parley history` shows it (UTC).
pub(crate) fn history_line(message: &Message) -> String {
    format!(
        "{}  {} [{}]: {}",
        utc_minute(message.sent_at_ms),
        for_terminal(&message.sender),
        status(message),
        shown_text(message)
    )
}

/// The sender's verification status in words: verified, unverified or CHANGED.
pub(crate) fn status(message: &Message) -> String {
    message.sender_status.to_string()
}

/// The `--json` form: `sent_at` is milliseconds since 1970-01-01 UTC, as the sender's clock
/// said; `verified` is whether the sender's key is one you confirmed in person.
pub(crate) fn message_json(message: &Message) -> serde_json::Value {
    json!({
        "conversation": message.conversation,
        "sender": message.sender,
        "text": message.text,
        "sent_at": message.sent_at_ms,
        "verified": message.verified,
        "status": status(message),
    })
}
