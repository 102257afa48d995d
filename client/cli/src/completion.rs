//! Names for shell completion: the conversations and contacts of the folder being completed
//! for, asked of its daemon. Without a daemon nothing is offered: the names are encrypted
//! in the folder, and completion must never ask for a passphrase or wait.

use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

use clap_complete::CompletionCandidate;

use crate::daemon::link::Link;
use crate::daemon::paths::DaemonPaths;

/// The longest a completion may wait for the daemon.
const DAEMON_WAIT: Duration = Duration::from_millis(500);

/// Conversation names and contact handles, for arguments that take either.
pub(crate) fn conversations() -> Vec<CompletionCandidate> {
    candidates(true)
}

/// Contact handles, for arguments that take a person.
pub(crate) fn handles() -> Vec<CompletionCandidate> {
    candidates(false)
}

fn candidates(with_conversations: bool) -> Vec<CompletionCandidate> {
    let Some(home) = home_being_completed() else {
        return Vec::new();
    };
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return Vec::new();
    };
    let names = runtime.block_on(async {
        tokio::time::timeout(DAEMON_WAIT, names(home, with_conversations))
            .await
            .unwrap_or_default()
    });
    names.into_iter().map(CompletionCandidate::new).collect()
}

async fn names(home: PathBuf, with_conversations: bool) -> Vec<String> {
    let paths = DaemonPaths::of(&home);
    if paths.check_socket_length().is_err() {
        return Vec::new();
    }
    let Ok(Some(link)) = Link::connect(&paths).await else {
        return Vec::new();
    };
    let folder = crate::daemon::folder::Folder::Daemon(link);
    let mut names: Vec<String> = folder
        .contacts()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.handle.to_string())
        .collect();
    if with_conversations {
        names.extend(
            folder
                .conversations()
                .await
                .unwrap_or_default()
                .into_iter()
                .map(|c| c.name),
        );
    }
    names.sort();
    names.dedup();
    names
}

/// The folder of the command line being completed: its `--home`, else PARLEY_HOME, else
/// `$HOME/.parley`, as `parley` itself would choose.
fn home_being_completed() -> Option<PathBuf> {
    let words: Vec<OsString> = std::env::args_os().collect();
    let flagged = words
        .windows(2)
        .find_map(|pair| (pair[0] == "--home").then(|| PathBuf::from(&pair[1])));
    let joined = words.iter().find_map(|word| {
        word.to_str()
            .and_then(|w| w.strip_prefix("--home="))
            .map(PathBuf::from)
    });
    flagged
        .or(joined)
        .or_else(|| {
            std::env::var_os("PARLEY_HOME")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".parley"))
        })
}
