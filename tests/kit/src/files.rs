//! Copies of a relay's files: its whole data directory (to split it) or only its
//! certificate (to stand up another relay under the same identity).

use std::path::Path;

/// Copies the directory tree `from` into `to`, creating `to`.
pub(crate) fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap_or_else(|e| panic!("cannot create {}: {e}", to.display()));
    let entries =
        std::fs::read_dir(from).unwrap_or_else(|e| panic!("cannot list {}: {e}", from.display()));
    for entry in entries {
        let entry = entry.unwrap_or_else(|e| panic!("cannot list {}: {e}", from.display()));
        let (source, target) = (entry.path(), to.join(entry.file_name()));
        let is_dir = entry
            .file_type()
            .unwrap_or_else(|e| panic!("cannot stat {}: {e}", source.display()))
            .is_dir();
        if is_dir {
            copy_tree(&source, &target);
        } else {
            std::fs::copy(&source, &target).unwrap_or_else(|e| {
                panic!(
                    "cannot copy {} to {}: {e}",
                    source.display(),
                    target.display()
                )
            });
        }
    }
}

/// Copies the self-signed certificate and key a relay keeps in `<from>/tls/` into
/// `<to>/tls/`, where a relay opened on `to` finds and reuses them.
pub(crate) fn copy_certificate(from: &Path, to: &Path) {
    copy_tree(&from.join("tls"), &to.join("tls"));
}
