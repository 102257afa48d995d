//! How a message is shown: one plain line for `read`, a line with time and the sender's
//! verification status for `history`, and one JSON object for `--json`.
//!
//! Only the first line of a message starts at the left edge; every further line of its text
//! is indented, so that no text can look like a line of its own with another sender. A change
//! of members starts with `* `, which no handle can.

use parley_client::{
    ConversationId, DocumentInfo, Handle, Message, MessageBody, Retention, Verification,
};
use serde_json::json;

use super::documents::{human_size, short_id};
use super::sanitize::for_terminal;
use super::time::utc_minute;

/// How far continuation lines of a message are indented.
const CONTINUATION: &str = "    ";

/// What a message says, in words: its text, or what a change of members did (without who
/// did it, who is shown before it): "added you to buyers (members: alice, you, carol)".
pub(crate) fn text(message: &Message, me: &Handle) -> String {
    let person = |h: &Handle| {
        if h == me {
            "you".to_owned()
        } else {
            h.to_string()
        }
    };
    let people = |list: &[Handle]| list.iter().map(person).collect::<Vec<_>>().join(", ");
    let conversation = &message.conversation_name;
    let direct = matches!(message.conversation, ConversationId::Direct(_));
    match &message.body {
        MessageBody::Text(text) => text.clone(),
        MessageBody::Document(document) => document_text(document),
        MessageBody::Unsupported { kind } => format!(
            "[a kind of message this version of parley cannot show (kind {kind}); update parley to see it]"
        ),
        MessageBody::Joined { .. } if direct => "started a private conversation with you".to_owned(),
        MessageBody::Joined { members, .. } if message.sender == *me => {
            format!("created {conversation} (members: {})", people(members))
        }
        MessageBody::Joined { members, .. } => {
            format!("added you to {conversation} (members: {})", people(members))
        }
        MessageBody::MembershipChanged { added, removed } => {
            let others: Vec<Handle> = removed
                .iter()
                .filter(|h| !message.sender.is(h))
                .cloned()
                .collect();
            let left = message
                .sender
                .handle()
                .is_some_and(|sender| removed.contains(sender));
            let place = if direct {
                "an earlier private conversation, now closed".to_owned()
            } else {
                conversation.clone()
            };
            match (added.is_empty(), others.is_empty(), left) {
                (false, true, false) => format!("added {} to {place}", people(added)),
                (true, false, false) => format!("removed {} from {place}", people(&others)),
                (true, true, true) => format!("left {place}"),
                _ => {
                    let mut parts = Vec::new();
                    if !added.is_empty() {
                        parts.push(format!("added {}", people(added)));
                    }
                    if !others.is_empty() {
                        parts.push(format!("removed {}", people(&others)));
                    }
                    if left {
                        parts.push("left".to_owned());
                    }
                    format!("{} in {place}", parts.join(" and "))
                }
            }
        }
        MessageBody::RetentionChanged { retention } => {
            let place = if direct {
                "this conversation".to_owned()
            } else {
                conversation.clone()
            };
            match retention.duration() {
                Some(_) => format!(
                    "set messages in {place} to disappear after {}",
                    retention_words(*retention)
                ),
                None => format!("turned off disappearing messages in {place}"),
            }
        }
        MessageBody::Promoted { admins } => {
            format!("made {} an admin of {conversation}", people(admins))
        }
        MessageBody::RosterChanged { changes } => {
            format!("changed the workshop {conversation}: {}", changes.join("; "))
        }
        MessageBody::TextVersion { number, hash } => format!(
            "[text] published version {number} of the negotiating text (hash {}); read it with: parley text show {conversation} --version {number}",
            hash.get(..16).unwrap_or(hash)
        ),
        MessageBody::TextComment {
            version,
            para,
            text,
        } => format!("[comment on ¶{para} of version {version}] {text}"),
        MessageBody::RecordExported => {
            format!("exported the record of {conversation} (the text, its versions and the plenary)")
        }
        _ => "[an entry this version of parley cannot show]".to_owned(),
    }
}

/// A retention in words: `off`, `7 days`, `1 day`, `12 hours`, `90 minutes`.
pub(crate) fn retention_words(retention: Retention) -> String {
    let Some(duration) = retention.duration() else {
        return "off".to_owned();
    };
    let secs = duration.as_secs();
    for (unit, len) in [
        ("week", 604_800),
        ("day", 86_400),
        ("hour", 3_600),
        ("minute", 60),
    ] {
        if secs % len == 0 {
            let n = secs / len;
            return format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
        }
    }
    format!("{secs} seconds")
}

/// A shared document in words, on one line: `[document] budget.pdf (2.4 MB) id 7f3c1a2b`
/// (the first 8 characters of its id, enough for `parley get-file`).
pub(crate) fn document_text(document: &DocumentInfo) -> String {
    format!(
        "[document] {} ({}) id {}",
        document.name.replace(['\n', '\t'], " "),
        human_size(document.size),
        short_id(&document.id)
    )
}

/// The text made safe for a terminal (it was written by someone else), its continuation
/// lines indented.
fn shown_text(message: &Message, me: &Handle) -> String {
    for_terminal(&text(message, me))
        .split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{CONTINUATION}"))
}

/// "sender: text", the line `parley read` promises; a change of members is
/// "* alice added erin to buyers".
pub(crate) fn plain_line(message: &Message, me: &Handle) -> String {
    if message.body.is_membership() {
        return membership_line(message, me);
    }
    format!(
        "{}: {}",
        for_terminal(message.sender.as_str()),
        shown_text(message, me)
    )
}

/// "\[buyers\] sender: text": the line of `parley read` when messages of several
/// conversations are shown together.
pub(crate) fn labelled_line(message: &Message, me: &Handle) -> String {
    format!(
        "[{}] {}",
        for_terminal(&message.conversation_name),
        plain_line(message, me)
    )
}

/// "* alice added you to alice/buyers (members: ...)", with a word about an inviter who is
/// not a contact yet. Always one line.
pub(crate) fn membership_line(message: &Message, me: &Handle) -> String {
    format!(
        "* {} {}",
        for_terminal(message.sender.as_str()),
        membership_text(message, me)
    )
}

/// What a change of members did, on one line, safe for a terminal: "added you to
/// alice/buyers (members: ...); alice was not one of your contacts before".
pub(crate) fn membership_text(message: &Message, me: &Handle) -> String {
    let mut text = for_terminal(&text(message, me)).replace('\n', " ");
    if let MessageBody::Joined {
        from_stranger: true,
        ..
    } = message.body
    {
        text.push_str(&format!(
            "; {} was not one of your contacts before",
            for_terminal(message.sender.as_str())
        ));
    }
    text
}

/// "YYYY-MM-DD HH:MM  sender \[status\]: text", as `parley history` shows it (UTC); a change of
/// members is "YYYY-MM-DD HH:MM  * alice added erin to buyers".
pub(crate) fn history_line(message: &Message, me: &Handle) -> String {
    if message.body.is_membership() {
        return format!(
            "{}  {}",
            utc_minute(message.sent_at_ms),
            membership_line(message, me)
        );
    }
    format!(
        "{}  {} [{}]: {}",
        utc_minute(message.sent_at_ms),
        for_terminal(message.sender.as_str()),
        status_word(message),
        shown_text(message, me)
    )
}

/// The sender's status, or `unattributed` for a message kept under a side or role (the
/// Chatham House rule): nobody in particular to verify.
fn status_word(message: &Message) -> String {
    match message.sender.handle() {
        Some(_) => message.sender_status.to_string(),
        None => "unattributed".to_owned(),
    }
}

/// The `--json` form: `sent_at` is milliseconds since 1970-01-01 UTC, as the sender's clock
/// said; `verified` is whether the sender's key is one you confirmed in person. A change of
/// members is an event object: `"event": "joined"` (with `by` and `members`) or
/// `"event": "membership"` (with `by`, `added` and `removed`) or `"event": "retention"` (with
/// `by`, `retention` and `retention_secs`). A shared document has its
/// one-line description as `text` and the document itself as `document` (see
/// [`document_json`]). A message the Chatham House rule keeps under a side or role has that
/// as `sender` and `"attributed": true`.
pub(crate) fn message_json(message: &Message) -> serde_json::Value {
    let mut value = entry_json(message);
    // Only a message kept under a side or role says so: every other line stays as it was.
    if message.sender.handle().is_none() {
        if let Some(object) = value.as_object_mut() {
            object.insert("attributed".to_owned(), serde_json::Value::Bool(true));
        }
    }
    value
}

fn entry_json(message: &Message) -> serde_json::Value {
    let direct = matches!(message.conversation, ConversationId::Direct(_));
    let names = |list: &[Handle]| list.iter().map(Handle::to_string).collect::<Vec<_>>();
    match &message.body {
        MessageBody::Joined {
            members,
            from_stranger,
        } => json!({
            "event": "joined",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "members": names(members),
            "by_contact": !from_stranger,
            "direct": direct,
            "at": message.sent_at_ms,
        }),
        MessageBody::MembershipChanged { added, removed } => json!({
            "event": "membership",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "added": names(added),
            "removed": names(removed),
            "direct": direct,
            "at": message.sent_at_ms,
        }),
        MessageBody::RosterChanged { changes } => json!({
            "event": "roster",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "changes": changes,
            "at": message.sent_at_ms,
        }),
        MessageBody::TextVersion { number, hash } => json!({
            "event": "text_version",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "version": number,
            "hash": hash,
            "at": message.sent_at_ms,
        }),
        MessageBody::RecordExported => json!({
            "event": "record_exported",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "at": message.sent_at_ms,
        }),
        MessageBody::Promoted { admins } => json!({
            "event": "promoted",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "admins": names(admins),
            "at": message.sent_at_ms,
        }),
        MessageBody::RetentionChanged { retention } => json!({
            "event": "retention",
            "conversation": message.conversation_name,
            "by": message.sender.as_str(),
            "retention": retention.to_string(),
            "retention_secs": retention.as_secs(),
            "direct": direct,
            "at": message.sent_at_ms,
        }),
        MessageBody::Document(document) => json!({
            "conversation": message.conversation_name,
            "sender": message.sender.as_str(),
            "text": document_text(document),
            "document": document_json(document),
            "sent_at": message.sent_at_ms,
            "verified": message.sender_status == Verification::Verified,
            "status": message.sender_status.to_string(),
            "direct": direct,
        }),
        MessageBody::TextComment {
            version,
            para,
            text,
        } => json!({
            "conversation": message.conversation_name,
            "sender": message.sender.as_str(),
            "text": text,
            "comment": { "version": version, "para": para },
            "sent_at": message.sent_at_ms,
            "verified": message.sender_status == Verification::Verified,
            "status": status_word(message),
            "direct": direct,
        }),
        _ => json!({
            "conversation": message.conversation_name,
            "sender": message.sender.as_str(),
            "text": match &message.body {
                MessageBody::Unsupported { kind } => {
                    format!("[a message of a kind this version cannot show ({kind})]")
                }
                _ => message.text().unwrap_or_default().to_owned(),
            },
            "sent_at": message.sent_at_ms,
            "verified": message.sender_status == Verification::Verified,
            "status": status_word(message),
            "direct": direct,
        }),
    }
}

/// A document in `--json`: its whole id, the name its sender gave, its size in bytes and
/// its media type.
pub(crate) fn document_json(document: &DocumentInfo) -> serde_json::Value {
    json!({
        "id": document.id,
        "name": document.name,
        "size": document.size,
        "media_type": document.media_type,
    })
}
