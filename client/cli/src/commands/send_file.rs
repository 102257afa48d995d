//! `parley send-file`: share one file, as a document, with a person or a group.

use std::path::{Path, PathBuf};

use anyhow::Result;
use parley_client::{Message, MessageBody, Transfer};

use crate::args::SendFileArgs;
use crate::context::Ctx;
use crate::documents::{human_size, media_type_of};
use crate::failure::{io_reason, Failure};
use crate::message_view::message_json;
use crate::names::{or_near_miss, Typed};
use crate::output::{emit_json, success};
use crate::progress::Meter;
use crate::sanitize::{for_terminal, one_line};

/// The longest name a document may have, in bytes (the format's limit).
const MAX_NAME: usize = 255;

/// Checks the file, then sends it (read as it is uploaded), printing nothing on stdout but
/// the sent message with --json. Whether the library runs here or in the daemon, the file is
/// named by its absolute path (see `daemon::wire`).
pub(super) async fn run(args: SendFileArgs, ctx: &Ctx) -> Result<()> {
    // The file is checked before connecting, so a mistake in it costs no passphrase and no
    // network round trip.
    let (path, size) = readable_file(&args.path)?;
    let name = match &args.name {
        Some(name) => name.clone(),
        None => args
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default(),
    };
    check_name(&name)?;
    let media_type = media_type_of(&args.path);
    let folder = ctx.open().await?;
    let mut meter = Meter::new(&format!("Sending {}", one_line(&name)), size);
    let mut progress = |t: Transfer| meter.update(t);
    let sent: Result<Message> = async {
        let to = crate::names::conversation(&folder, &args.to).await?;
        Ok(folder
            .send_file(&to, &path, &name, media_type, &mut progress)
            .await?)
    }
    .await;
    drop(meter);
    let typed = [Typed::conversation(&args.to)];
    let sent = or_near_miss(sent, &folder, ctx.home(), &typed).await?;
    if ctx.json() {
        emit_json(&message_json(&sent))?;
    }
    // The size sent is the file's when it was opened for sending.
    let size = match &sent.body {
        MessageBody::Document(document) => document.size,
        _ => size,
    };
    success(&format!(
        "Sent {} ({}) to {}.",
        one_line(&name),
        human_size(size),
        for_terminal(&args.to)
    ));
    Ok(())
}

/// The file's absolute path and size, if it is a file this process can read; otherwise a
/// failure that says what is wrong with it.
fn readable_file(path: &Path) -> Result<(PathBuf, u64)> {
    let shown = for_terminal(&path.display().to_string());
    let cannot_read = |error: std::io::Error| {
        Failure::new(format!("cannot read {shown}: {}", io_reason(&error)))
            .hint("give the path of a file you can read")
    };
    let metadata = std::fs::metadata(path).map_err(cannot_read)?;
    if metadata.is_dir() {
        return Err(Failure::new(format!("{shown} is a folder, not a file"))
            .hint("send one file at a time; to send a folder, put it in a zip archive first")
            .into());
    }
    if !metadata.is_file() {
        return Err(Failure::new(format!("{shown} is not a regular file"))
            .hint("give the path of a file you can read")
            .into());
    }
    // Opened once to find out now, not halfway through, that it cannot be read.
    std::fs::File::open(path).map_err(cannot_read)?;
    let absolute = std::fs::canonicalize(path).map_err(cannot_read)?;
    Ok((absolute, metadata.len()))
}

/// A name the others can be shown: 1 to 255 bytes.
fn check_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(Failure::new("the document needs a name")
            .hint("give one with --name NAME")
            .into());
    }
    if name.len() > MAX_NAME {
        return Err(
            Failure::new("the document's name is too long (at most 255 bytes)")
                .hint("give a shorter one with --name NAME")
                .into(),
        );
    }
    Ok(())
}
