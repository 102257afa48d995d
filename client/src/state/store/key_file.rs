//! The key file `<home>/vault`: the wrapped store key (with its KDF parameters and salt),
//! the only thing the client keeps in the clear.
//!
//! It lives beside the sled database rather than in it because sled writes to its files
//! whenever it is opened (it pre-extends its log and writes a snapshot): the key must be
//! checked before the database is touched, so that a wrong passphrase changes no byte.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write};
use std::path::Path;

/// The key file's name in the home directory.
pub(crate) const KEY_FILE: &str = "vault";
/// The name it is written under before being renamed into place.
const KEY_FILE_TMP: &str = "vault.tmp";

/// The key file's bytes, or None if there is none.
pub(crate) fn read(home: &Path) -> std::io::Result<Option<Vec<u8>>> {
    match fs::read(home.join(KEY_FILE)) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Replaces the key file in one step: written to a temporary file, synced, renamed over the
/// old one and the directory synced, so a crash leaves either the old or the new key.
pub(crate) fn write(home: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = home.join(KEY_FILE_TMP);
    {
        let mut options = OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
    }
    fs::rename(&tmp, home.join(KEY_FILE))?;
    sync_dir(home)
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    File::open(dir)?.sync_all()
}

// Directories cannot be opened as files on other systems; the rename is what they offer.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> std::io::Result<()> {
    Ok(())
}
