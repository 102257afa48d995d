//! `parley get-file`: save a document shared with you into a file, never replacing one
//! without being asked, never outside the folder chosen, and never leaving part of a
//! document behind.

use std::fs::OpenOptions;
use std::io::ErrorKind;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Result;
use parley_client::{ClientError, DocumentInfo, MessageBody, Transfer};
use serde_json::json;

use super::send_file::io_reason;
use crate::args::GetFileArgs;
use crate::context::Ctx;
use crate::daemon::folder::Folder;
use crate::documents::{human_size, safe_file_name, short_id};
use crate::failure::Failure;
use crate::output::{emit_json, success, Meter};
use crate::sanitize::{for_terminal, one_line};

/// The fewest characters of an id that `get-file` takes.
const MIN_ID_PREFIX: usize = 8;
/// The characters of a whole id (a blob id, hex).
const FULL_ID: usize = 64;
/// How a temporary file ends: `.NAME.parley-partial`, next to where the document goes.
const PARTIAL_SUFFIX: &str = "parley-partial";

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
    let temp = TempFile::create_next_to(&out)?;

    let mut meter = Meter::new(format!("Fetching {}", one_line(&document.name)));
    let mut progress = |t: Transfer| meter.update(t.done, t.total);
    // Ctrl-C is listened to so that the temporary file is removed then too.
    let fetched = tokio::select! {
        fetched = folder.fetch_file(&document.id, &temp.path, &mut progress) => Some(fetched),
        _ = tokio::signal::ctrl_c() => None,
    };
    drop(meter);
    // From here, whatever fails (a damaged document included), the temporary file goes
    // when `temp` is dropped.
    let Some(fetched) = fetched else {
        return Err(Failure::new("stopped before the document was saved; nothing was kept").into());
    };
    let info = fetched?;
    temp.put_in_place(&out, args.force)?;

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
    Err(exists(out))
}

/// The failure for a file that is there already.
fn exists(out: &Path) -> anyhow::Error {
    Failure::new(format!(
        "{} exists already; nothing was saved",
        for_terminal(&out.display().to_string())
    ))
    .hint("add --force to replace it, or choose another name with --out PATH")
    .into()
}

/// The hidden file a document is written to before it takes its name; removed when
/// dropped unless it took it.
struct TempFile {
    path: PathBuf,
    kept: bool,
}

impl TempFile {
    /// Creates `.NAME.parley-partial` next to `out` (or `.NAME.2.parley-partial`, ... if
    /// that one is taken by another download), readable by its owner only: a document
    /// shared in a conversation is nobody else's business on this computer either.
    fn create_next_to(out: &Path) -> Result<TempFile> {
        let dir = out.parent().unwrap_or(Path::new("/"));
        let name = out
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut last_error = None;
        for attempt in 1..=20u32 {
            let temp_name = match attempt {
                1 => format!(".{name}.{PARTIAL_SUFFIX}"),
                n => format!(".{name}.{n}.{PARTIAL_SUFFIX}"),
            };
            let path = dir.join(temp_name);
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(_) => return Ok(TempFile { path, kept: false }),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => last_error = Some(e),
                Err(e) => {
                    last_error = Some(e);
                    break;
                }
            }
        }
        let reason = last_error.map_or_else(String::new, |e| io_reason(&e));
        Err(Failure::new(format!(
            "cannot create a file in {}: {reason}",
            for_terminal(&dir.display().to_string())
        ))
        .hint("choose another place with --out PATH")
        .into())
    }

    /// Gives the document its name: replacing what is there with `force`, otherwise only
    /// if nothing is (checked by the file system itself where it can, by a hard link).
    fn put_in_place(mut self, out: &Path, force: bool) -> Result<()> {
        if !force {
            match std::fs::hard_link(&self.path, out) {
                // In place under its name; the temporary name goes when `self` is dropped.
                Ok(()) => return Ok(()),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => return Err(exists(out)),
                Err(_) if std::fs::symlink_metadata(out).is_ok() => return Err(exists(out)),
                // A file system without hard links, and nothing there: renamed below.
                Err(_) => {}
            }
        }
        std::fs::rename(&self.path, out).map_err(|e| {
            Failure::new(format!(
                "cannot save {}: {}",
                for_terminal(&out.display().to_string()),
                io_reason(&e)
            ))
        })?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}
