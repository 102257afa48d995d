//! `parley conversations`: every conversation with its kind, size and retention.

use anyhow::Result;
use parley_client::{ConversationInfo, ConversationKind};
use serde_json::json;

use crate::context::Ctx;
use crate::output::{emit_json, note, print_lines};
use crate::sanitize::for_terminal;

/// Lists the conversations, one per line, from the local store only.
pub(super) async fn run(ctx: &Ctx) -> Result<()> {
    let client = ctx.open().await?;
    let mut conversations = client.conversations().await?;
    // The store keeps no meaningful order; by name is what a person scans best.
    conversations.sort_by(|a, b| a.name.cmp(&b.name));
    if ctx.json() {
        for conversation in &conversations {
            emit_json(&json!({
                "name": conversation.name,
                "kind": kind(conversation),
                "members": conversation.members,
                "epoch": conversation.epoch,
                "retention": conversation.retention.to_string(),
            }))?;
        }
        return Ok(());
    }
    if conversations.is_empty() {
        note(&format!(
            "No conversations yet. Start one with: {} send <handle> 'hello'",
            ctx.home().command()
        ));
    }
    let width = conversations
        .iter()
        .map(|c| c.name.chars().count())
        .max()
        .unwrap_or(0);
    print_lines(conversations.iter().map(|c| {
        let line = format!(
            "{:<width$}  {:<6}  {}",
            for_terminal(&c.name),
            kind(c),
            members(c.members)
        );
        match c.retention.duration() {
            Some(_) => format!(
                "{line}  messages disappear after {}",
                crate::message_view::retention_words(c.retention)
            ),
            None => line,
        }
    }))?;
    Ok(())
}

fn kind(conversation: &ConversationInfo) -> &'static str {
    match conversation.kind {
        ConversationKind::Direct => "direct",
        _ => "group",
    }
}

fn members(count: usize) -> String {
    match count {
        0 => "you were removed".to_owned(),
        1 => "1 member".to_owned(),
        n => format!("{n} members"),
    }
}
