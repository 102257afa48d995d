//! How far a contact's identity key is trusted, in the words every screen uses.

use std::fmt;

/// How far a contact's identity key is trusted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
// Serialized as displayed, so JSON output and screens use the same words.
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Pinned on first use; safety numbers not compared yet.
    Unverified,
    /// The user compared safety numbers and confirmed them.
    Verified,
    /// Another identity key appeared for this handle; sending to them is blocked until the
    /// user accepts or verifies it.
    #[serde(rename = "CHANGED")]
    Changed,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verification::Unverified => "unverified",
            Verification::Verified => "verified",
            // Upper case so that it stands out wherever it is shown.
            Verification::Changed => "CHANGED",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_are_the_same_on_screen_and_in_json() {
        for (status, word) in [
            (Verification::Unverified, "unverified"),
            (Verification::Verified, "verified"),
            (Verification::Changed, "CHANGED"),
        ] {
            assert_eq!(status.to_string(), word);
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(word)
            );
        }
    }
}
