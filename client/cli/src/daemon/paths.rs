//! Where a folder's daemon listens and writes its log.

use std::path::{Path, PathBuf};

use crate::failure::Failure;

/// Unix socket addresses hold at most 108 bytes (with the final NUL on Linux).
const MAX_SOCKET_PATH: usize = 107;

/// The daemon's files in a Parley folder.
#[derive(Debug, Clone)]
pub(crate) struct DaemonPaths {
    run_dir: PathBuf,
}

impl DaemonPaths {
    /// The daemon files of the Parley folder `home`.
    pub(crate) fn of(home: &Path) -> DaemonPaths {
        DaemonPaths {
            run_dir: home.join("daemon"),
        }
    }

    /// The directory holding the socket (0700, so nobody else can even reach the socket).
    pub(crate) fn run_dir(&self) -> &Path {
        &self.run_dir
    }

    /// The socket the daemon listens on.
    pub(crate) fn socket(&self) -> PathBuf {
        self.run_dir.join("socket")
    }

    /// The daemon's log: its own notes, never message text, handles or names.
    pub(crate) fn log(&self) -> PathBuf {
        self.run_dir.join("daemon.log")
    }

    /// Refuses a socket path the system cannot bind, with words a person can act on.
    pub(crate) fn check_socket_length(&self) -> Result<(), Failure> {
        let length = self.socket().as_os_str().len();
        if length > MAX_SOCKET_PATH {
            return Err(Failure::new(format!(
                "the path of your Parley folder is too long for the daemon's socket ({length} \
                 bytes; at most {} fit)",
                MAX_SOCKET_PATH - "/daemon/socket".len()
            ))
            .hint("keep the folder at a shorter path (see --home), or work without the daemon"));
        }
        Ok(())
    }
}
