//! `parley get-file`: save a document shared with you into a file, never replacing one
//! without being asked, never outside the folder chosen, and never leaving part of a
//! document behind.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use parley_client::{ClientError, DocumentInfo, MessageBody, Transfer};
use serde_json::json;

use crate::args::GetFileArgs;
use crate::context::Ctx;
use crate::daemon::folder::Folder;
use crate::documents::{human_size, safe_file_name, short_id};
use crate::failure::{io_reason, Failure};
use crate::output::{emit_json, success};
use crate::partial_file::{exists, FileError, TempFile};
use crate::progress::Meter;
use crate::sanitize::{for_terminal, one_line};

/// The fewest characters of an id that `get-file` takes.
const MIN_ID_PREFIX: usize = 8;
/// The characters of a whole id (a blob id, hex).
const FULL_ID: usize = 64;

/// Finds the document, chooses where it goes, fetches it into a temporary file next to that
/// place and gives it its name only once it was checked whole. With a daemon, the daemon
/// writes the temporary file made here (see `daemon::wire`); this command still makes,
/// renames and removes it.
pub(super) async fn run(args: GetFileArgs, ctx: &Ctx) -> Result<()> {
    let cmd = ctx.home().command();
    let prefix = id_prefix(&args.id, &cmd)?;
    let folder = ctx.open().await?;
    let document = find(&folder, &args.id, &prefix, &cmd).await?;
    let out = destination(args.out.as_deref(), &document.name)?;
    refuse_existing(&out, args.force)?;
    let temp = TempFile::create_next_to(&out).map_err(described)?;

    let mut meter = Meter::new(
        &format!("Fetching {}", one_line(&document.name)),
        document.size,
    );
    let mut progress = |t: Transfer| meter.update(t);
    // Ctrl-C is listened to so that the temporary file is removed then too.
    let fetched = tokio::select! {
        fetched = folder.fetch_file(&document.id, temp.path(), &mut progress) => Some(fetched),
        _ = tokio::signal::ctrl_c() => None,
    };
    drop(meter);
    // From here, whatever fails (a damaged document included), the temporary file goes
    // when `temp` is dropped.
    let Some(fetched) = fetched else {
        return Err(Failure::new("stopped before the document was saved; nothing was kept").into());
    };
    let info = fetched?;
    temp.put_in_place(&out, args.force).map_err(described)?;

    if ctx.json() {
        emit_json(&json!({
            "id": info.id,
            "name": info.name,
            "size": info.size,
            "media_type": info.media_type,
            "path": out.to_string_lossy(),
        }))?;
    }
    success(&format!(
        "Saved {} ({}) to {}.",
        one_line(&info.name),
        human_size(info.size),
        for_terminal(&out.display().to_string())
    ));
    Ok(())
}

/// The id as typed, lowercased, if it can be (the start of) a document id.
fn id_prefix(typed: &str, cmd: &str) -> Result<String> {
    let prefix = typed.to_ascii_lowercase();
    if prefix.len() < MIN_ID_PREFIX
        || prefix.len() > FULL_ID
        || !prefix.bytes().all(|b| b.is_ascii_hexdigit())
    {
        let hint = format!(
            "give the id that `{cmd} read` or `{cmd} files` shows: at least its first 8 \
             characters (0-9, a-f)"
        );
        let failure = Failure::new(format!("'{}' is not a document id", one_line(typed)));
        return Err(failure.hint(hint).into());
    }
    Ok(prefix)
}

/// The one document kept here whose id starts with `prefix`.
async fn find(folder: &Folder, typed: &str, prefix: &str, cmd: &str) -> Result<DocumentInfo> {
    let mut found: Vec<DocumentInfo> = Vec::new();
    for message in folder.documents(None).await? {
        if let MessageBody::Document(document) = message.body {
            if document.id.starts_with(prefix) && !found.iter().any(|d| d.id == document.id) {
                found.push(document);
            }
        }
    }
    match found.len() {
        0 => Err(ClientError::UnknownDocument(typed.to_owned()).into()),
        1 => Ok(found.remove(0)),
        n => Err(Failure::new(format!(
            "the id '{}' could mean {n} documents: {}",
            one_line(typed),
            found
                .iter()
                .map(|d| format!("{} ({})", short_id(&d.id), one_line(&d.name)))
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint(format!(
            "give more of its characters; `{cmd} files --json` shows whole ids"
        ))
        .into()),
    }
}

/// Where the document goes, as an absolute path: `out` as given, or inside `out` when it
/// is a folder, or the current folder; in a folder, under the sender's name made safe.
fn destination(out: Option<&Path>, name: &str) -> Result<PathBuf> {
    let chosen = match out {
        Some(out) if out.is_dir() => out.join(safe_file_name(name)),
        // "--out new/" means a folder; saving a file called "new" would surprise.
        Some(out) if out.as_os_str().as_bytes().ends_with(b"/") => {
            return Err(Failure::new(format!(
                "there is no folder {}",
                for_terminal(&out.display().to_string())
            ))
            .hint("create it first, or give a file name with --out PATH")
            .into());
        }
        Some(out) => out.to_path_buf(),
        None => PathBuf::from(safe_file_name(name)),
    };
    let absolute = if chosen.is_absolute() {
        chosen
    } else {
        let here = std::env::current_dir().map_err(|e| {
            Failure::new(format!(
                "cannot tell which folder this is: {}",
                io_reason(&e)
            ))
        })?;
        here.join(chosen)
    };
    if absolute.file_name().is_none() {
        return Err(Failure::new(format!(
            "{} does not name a file",
            for_terminal(&absolute.display().to_string())
        ))
        .hint("give a file name or a folder with --out PATH")
        .into());
    }
    Ok(absolute)
}

/// Refuses a path that exists (a dangling link included) unless `force` says to replace
/// it; a folder is never replaced.
fn refuse_existing(out: &Path, force: bool) -> Result<()> {
    let Ok(existing) = std::fs::symlink_metadata(out) else {
        return Ok(());
    };
    let shown = for_terminal(&out.display().to_string());
    if existing.is_dir() {
        return Err(Failure::new(format!("{shown} is a folder"))
            .hint("give a file name with --out PATH")
            .into());
    }
    if force {
        return Ok(());
    }
    Err(described(exists(out)))
}

/// A failure to write the file, in the words and with the hints of `get-file`.
fn described(error: FileError) -> anyhow::Error {
    let hint = match &error {
        FileError::Create { .. } => Some("choose another place with --out PATH"),
        FileError::Exists { .. } => {
            Some("add --force to replace it, or choose another name with --out PATH")
        }
        FileError::Save { .. } => None,
    };
    let failure = Failure::new(error.to_string());
    match hint {
        Some(hint) => failure.hint(hint).into(),
        None => failure.into(),
    }
}
