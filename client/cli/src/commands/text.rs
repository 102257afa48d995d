//! `parley text ...`: a workshop's single negotiating text: publish a version, show one,
//! compare two, comment on a paragraph, list the comments.

use anyhow::Result;
use parley_client::workshop::diff::render;
use parley_client::workshop::text::paragraphs;
use serde_json::json;

use crate::args::TextCommand;
use crate::context::Ctx;
use crate::failure::Failure;
use crate::output::{emit_json, note, print_lines, success};
use crate::sanitize::for_terminal;
use crate::time::utc_minute;
use crate::workshop_names::workshop_room;

/// How far continuation lines of a paragraph or comment are indented.
const INDENT: &str = "    ";

/// Runs one text command.
pub(super) async fn run(command: TextCommand, ctx: &Ctx) -> Result<()> {
    match command {
        TextCommand::Propose { name, file } => {
            let text = read_text(&file)?;
            let client = ctx.open().await?;
            let room = workshop_room(&client, ctx.home(), &name).await?;
            let number = client.propose_text(&room, &text).await?;
            success(&format!(
                "Published version {number} of the text of '{name}' ({} paragraphs); everyone in the plenary gets it.",
                paragraphs(&text).len()
            ));
        }
        TextCommand::Show { name, version } => {
            let client = ctx.open().await?;
            let room = workshop_room(&client, ctx.home(), &name).await?;
            refresh(&client).await;
            let shown = client.negotiating_text(&room, version).await?;
            if ctx.json() {
                emit_json(&json!({
                    "version": shown.number,
                    "hash": shown.hash,
                    "previous": shown.previous,
                    "published_by": shown.published_by,
                    "published_at": shown.published_at_ms,
                    "paragraphs": paragraphs(&shown.text),
                    "text": shown.text,
                }))?;
                return Ok(());
            }
            let mut lines = vec![
                format!(
                    "Version {} of the text of {}, published by {} on {} UTC",
                    shown.number,
                    for_terminal(&name),
                    for_terminal(&shown.published_by),
                    utc_minute(shown.published_at_ms)
                ),
                format!("Hash: {}", shown.hash),
                format!("Follows: {}", shown.previous),
            ];
            for (index, paragraph) in paragraphs(&shown.text).iter().enumerate() {
                lines.push(String::new());
                lines.push(format!("[{}] {}", index + 1, indented(paragraph)));
            }
            print_lines(lines)?;
        }
        TextCommand::Diff { name, from, to } => {
            let client = ctx.open().await?;
            let room = workshop_room(&client, ctx.home(), &name).await?;
            refresh(&client).await;
            let changes = client.text_diff(&room, from, to).await?;
            if ctx.json() {
                emit_json(&json!({ "from": from, "to": to, "changes": changes }))?;
                return Ok(());
            }
            crate::output::write_stdout(render(&changes, from, to).as_bytes())?;
        }
        TextCommand::Comment { name, para, text } => {
            let client = ctx.open().await?;
            let room = workshop_room(&client, ctx.home(), &name).await?;
            let version = client.comment_text(&room, para, &text).await?;
            success(&format!(
                "Commented on paragraph {para} of version {version} of the text of '{name}'."
            ));
        }
        TextCommand::Comments { name, version } => {
            let client = ctx.open().await?;
            let room = workshop_room(&client, ctx.home(), &name).await?;
            refresh(&client).await;
            let comments = client.text_comments(&room, version).await?;
            if ctx.json() {
                for c in &comments {
                    emit_json(&json!({
                        "version": c.version,
                        "para": c.para,
                        "author": c.author,
                        "text": c.text,
                        "at": c.at_ms,
                    }))?;
                }
                return Ok(());
            }
            if comments.is_empty() {
                note("No comments yet.");
            }
            print_lines(comments.iter().map(|c| {
                format!(
                    "v{} ¶{}  {}: {}",
                    c.version,
                    c.para,
                    for_terminal(&c.author),
                    indented(&c.text)
                )
            }))?;
        }
    }
    Ok(())
}

/// Fetches what is new first, so that a version or comment that just arrived is shown; an
/// unreachable relay leaves what is kept here.
pub(super) async fn refresh(client: &crate::daemon::folder::Folder) {
    if let Err(e) = client.sync().await {
        note(&format!("Showing what is kept on this computer: {e}"));
    }
}

/// Terminal-safe text whose further lines are indented under the first.
fn indented(text: &str) -> String {
    for_terminal(text)
        .split('\n')
        .collect::<Vec<_>>()
        .join(&format!("\n{INDENT}"))
}

/// The text of `file` ('-': standard input), as UTF-8.
fn read_text(file: &std::path::Path) -> Result<String> {
    let bytes = if file.as_os_str() == "-" {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes)?;
        bytes
    } else {
        std::fs::read(file).map_err(|e| {
            Failure::new(format!(
                "cannot read {}: {}",
                file.display(),
                crate::failure::io_reason(&e)
            ))
        })?
    };
    String::from_utf8(bytes).map_err(|_| {
        Failure::new(format!("{} is not plain text (UTF-8)", file.display()))
            .hint("save the text as plain text, not as a word-processor document")
            .into()
    })
}
