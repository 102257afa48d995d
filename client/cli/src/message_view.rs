//! How a message is shown: one plain line for `read`, a line with time and the sender's
//! verification status for `history`, and one JSON object for `--json`.
//!
//! Only the first line of a message starts at the left edge; every further line of its text
//! is indented, so that no text can look like a line of its own with another sender. A change
//! of members starts with `* `, which no handle can.

use parley_client::{Message, MessageBody};
use serde_json::json;

use super::sanitize::for_terminal;
use super::time::utc_minute;

/// How far continuation lines of a message are indented.
const CONTINUATION: &str = "    ";

/// The text of a message, made safe for a terminal (it was written by someone else), its
/// continuation lines indented.
fn shown_text(message: &Message) -> String {
    let text = match &message.body {
        MessageBody::Unsupported { kind } => format!(
            "[a kind of message this version of parley cannot show (kind {kind}); update parley to see it]"
        ),
        _ => for_terminal(&message.text),
    };
    text.split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{CONTINUATION}"))
}

/// "sender: text", the line `parley read` promises; a change of members is
/// "* alice added erin in buyers".
pub(crate) fn plain_line(message: &Message) -> String {
    if message.body.is_membership() {
        return membership_line(message);
    }
    format!("{}: {}", for_terminal(&message.sender), shown_text(message))
}

/// "* alice added you to alice/buyers (members: ...)", with a word about an inviter who is
/// not a contact yet.
fn membership_line(message: &Message) -> String {
    let mut line = format!(
        "* {} {}",
        for_terminal(&message.sender),
        shown_text(message)
    );
    if let MessageBody::Joined {
        from_stranger: true,
        ..
    } = message.body
    {
        line.push_str(&format!(
            "; {} was not one of your contacts before",
            for_terminal(&message.sender)
        ));
    }
    line
}

/// "YYYY-MM-DD HH:MM  sender [status]: text", as `parley history` shows it (UTC); a change of
/// members is "YYYY-MM-DD HH:MM  * alice added erin in buyers".
pub(crate) fn history_line(message: &Message) -> String {
    if message.body.is_membership() {
        return format!(
            "{}  {}",
            utc_minute(message.sent_at_ms),
            membership_line(message)
        );
    }
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
/// said; `verified` is whether the sender's key is one you confirmed in person. A change of
/// members is an event object: `"event": "joined"` (with `by` and `members`) or
/// `"event": "membership"` (with `by`, `added` and `removed`).
pub(crate) fn message_json(message: &Message) -> serde_json::Value {
    match &message.body {
        MessageBody::Joined {
            members,
            from_stranger,
        } => json!({
            "event": "joined",
            "conversation": message.conversation,
            "by": message.sender,
            "members": members,
            "by_contact": !from_stranger,
            "direct": message.direct,
            "at": message.sent_at_ms,
        }),
        MessageBody::MembershipChanged { added, removed } => json!({
            "event": "membership",
            "conversation": message.conversation,
            "by": message.sender,
            "added": added,
            "removed": removed,
            "direct": message.direct,
            "at": message.sent_at_ms,
        }),
        _ => json!({
            "conversation": message.conversation,
            "sender": message.sender,
            "text": message.text,
            "sent_at": message.sent_at_ms,
            "verified": message.verified,
            "status": status(message),
        }),
    }
}
