//! Handles in a sentence: "alice, bob or carol".

use parley_crypto::handle::Handle;

/// Handles as a person reads a list of them: `alice`, `alice or bob`, `alice, bob or carol`.
pub(super) fn list_handles(handles: &[Handle]) -> String {
    match handles {
        [] => "nobody".to_owned(),
        [one] => one.to_string(),
        [rest @ .., last] => format!(
            "{} or {last}",
            rest.iter()
                .map(Handle::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}
