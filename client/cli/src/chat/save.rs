//! Saving a document from the chat: fetched into the folder the chat was started in, under
//! the name its sender gave made safe exactly as `get-file` makes it, written to a hidden
//! temporary file that takes its name only once the document was checked whole, and never
//! over a file that is there: "budget (2).pdf" then, and so on.
//!
//! It runs beside the worker, not in it: a download may take minutes, and messages typed
//! meanwhile must still go out.

use std::path::{Path, PathBuf};

use parley_client::{DocumentInfo, Transfer};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::app::Saved;
use super::worker::Outcome;
use crate::daemon::folder::{Folder, Problem};
use crate::documents::safe_file_name;
use crate::failure::io_reason;
use crate::partial_file::{FileError, TempFile};
use crate::sanitize::{for_terminal, one_line};

/// A save under way; stopped (its temporary file removed) when dropped, so that quitting
/// the chat in the middle of one leaves nothing behind.
pub(super) struct Saving(JoinHandle<()>);

impl Drop for Saving {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts saving `document` into the current folder; its progress and its end are
/// reported as [`Outcome::SaveProgress`] and [`Outcome::Saved`].
pub(super) fn start(
    folder: Folder,
    document: DocumentInfo,
    outcomes: mpsc::UnboundedSender<Outcome>,
) -> Saving {
    Saving(tokio::spawn(async move {
        let result = match std::env::current_dir() {
            Ok(dir) => save(&folder, &document, &dir, &outcomes).await,
            Err(error) => Err(format!(
                "cannot tell which folder this is ({})",
                io_reason(&error)
            )),
        };
        // A chat that has ended has nobody to tell.
        let _ = outcomes.send(Outcome::Saved(result));
    }))
}

/// Fetches `document` into `dir`; the path it took, or why it was not saved (nothing is
/// left behind then).
async fn save(
    folder: &Folder,
    document: &DocumentInfo,
    dir: &Path,
    outcomes: &mpsc::UnboundedSender<Outcome>,
) -> Result<Saved, String> {
    let first: PathBuf = dir.join(safe_file_name(&document.name));
    let temp = TempFile::create_next_to(&first).map_err(|e| describe_file(&e))?;
    // Reported when the percentage changes: a redraw per 64 KiB chunk would be wasted.
    let mut shown = None;
    let mut progress = |transfer: Transfer| {
        let percent = percent(transfer);
        if shown != Some(percent) {
            shown = Some(percent);
            let _ = outcomes.send(Outcome::SaveProgress(percent));
        }
    };
    let info = folder
        .fetch_file(&document.id, temp.path(), &mut progress)
        .await
        .map_err(|e| describe_fetch(&e))?;
    let path = temp
        .put_in_free_place(&first)
        .map_err(|e| describe_file(&e))?;
    Ok(Saved {
        name: info.name,
        size: info.size,
        path: for_terminal(&path.display().to_string()),
    })
}

/// How far a transfer is, in whole percent.
fn percent(transfer: Transfer) -> u64 {
    if transfer.total == 0 {
        return 100;
    }
    let percent = u128::from(transfer.done.min(transfer.total)) * 100 / u128::from(transfer.total);
    u64::try_from(percent).unwrap_or(100)
}

/// A file that could not be written, in words for the status line.
fn describe_file(error: &FileError) -> String {
    one_line(&error.to_string())
}

/// A fetch that failed, in words for the status line.
fn describe_fetch(error: &Problem) -> String {
    one_line(&error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_whole_and_never_pass_100() {
        assert_eq!(percent(Transfer { done: 0, total: 0 }), 100);
        assert_eq!(percent(Transfer { done: 1, total: 3 }), 33);
        assert_eq!(percent(Transfer { done: 9, total: 3 }), 100);
    }
}
