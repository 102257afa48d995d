//! `parley files`: the documents shared in every conversation, or in one, oldest first.

use anyhow::Result;
use parley_client::{DocumentInfo, Message, MessageBody};
use serde_json::json;

use crate::args::FilesArgs;
use crate::context::Ctx;
use crate::documents::{human_size, short_id};
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, note, print_lines};
use crate::sanitize::for_terminal;
use crate::time::utc_minute;

/// Lists the documents kept on this computer (nothing is fetched from the relay): one line
/// each, "id  name  size  sender  conversation  time", in columns; with --json one object
/// per line.
pub(super) async fn run(args: FilesArgs, ctx: &Ctx) -> Result<()> {
    let folder = ctx.open().await?;
    let messages: Result<Vec<Message>> = async {
        let only = match &args.conversation {
            Some(name) => Some(crate::names::conversation(&folder, name).await?),
            None => None,
        };
        Ok(folder.documents(only.as_ref()).await?)
    }
    .await;
    let typed: Vec<Typed<'_>> = args
        .conversation
        .as_deref()
        .map(Typed::conversation)
        .into_iter()
        .collect();
    let messages = or_near_miss(messages, &folder, ctx.home(), &typed).await?;
    let shared: Vec<(&Message, &DocumentInfo)> = messages
        .iter()
        .filter_map(|m| match &m.body {
            MessageBody::Document(document) => Some((m, document)),
            _ => None,
        })
        .collect();
    if ctx.json() {
        for (message, document) in &shared {
            emit_json(&json!({
                "id": document.id,
                "name": document.name,
                "size": document.size,
                "media_type": document.media_type,
                "sender": message.sender.as_str(),
                "conversation": message.conversation_name,
                "sent_at": message.sent_at_ms,
            }))?;
        }
        return Ok(());
    }
    if shared.is_empty() {
        note(&format!(
            "No documents shared yet. Share one with: {} send-file <handle or group> <file>",
            ctx.home().command()
        ));
        return Ok(());
    }
    let rows: Vec<[String; 6]> = shared
        .iter()
        .map(|(message, document)| {
            [
                short_id(&document.id).to_owned(),
                one_line_name(&document.name),
                human_size(document.size),
                for_terminal(message.sender.as_str()),
                one_line_name(&message.conversation_name),
                utc_minute(message.sent_at_ms),
            ]
        })
        .collect();
    let mut widths = [0usize; 6];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    print_lines(rows.iter().map(|row| {
        let last = row.len() - 1;
        row.iter()
            .enumerate()
            .map(|(i, cell)| {
                if i == last {
                    cell.clone()
                } else {
                    format!("{cell:<width$}", width = widths[i])
                }
            })
            .collect::<Vec<_>>()
            .join("  ")
    }))?;
    Ok(())
}

/// A name written by someone else, safe for a terminal and on one line.
fn one_line_name(name: &str) -> String {
    for_terminal(name).replace(['\n', '\t'], " ")
}
