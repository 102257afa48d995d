//! Handles: the human-chosen names users are known by on a relay.
//!
//! A handle is `[a-z0-9][a-z0-9._-]{2,31}`: lowercase ASCII only, so that two handles that
//! look alike on screen are byte-for-byte equal and no Unicode confusables can exist.

use std::fmt;
use std::str::FromStr;

/// Shortest accepted handle, in bytes.
pub const MIN_HANDLE_LEN: usize = 3;
/// Longest accepted handle, in bytes.
pub const MAX_HANDLE_LEN: usize = 32;

/// A validated handle (`[a-z0-9][a-z0-9._-]{2,31}`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Handle(String);

/// Why a string is not a valid handle.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HandleError {
    /// The handle is shorter than 3 or longer than 32 bytes.
    #[error("a handle must be {MIN_HANDLE_LEN} to {MAX_HANDLE_LEN} characters long, got {0}")]
    Length(usize),
    /// The first character is not a lowercase letter or a digit.
    #[error("a handle must start with a lowercase letter or a digit")]
    InvalidStart,
    /// A character outside `a-z 0-9 . _ -`.
    #[error("a handle may only contain a-z, 0-9, '.', '_' and '-'")]
    InvalidCharacter,
}

impl Handle {
    /// Validates `s` as a handle.
    pub fn parse(s: &str) -> Result<Handle, HandleError> {
        let bytes = s.as_bytes();
        if !(MIN_HANDLE_LEN..=MAX_HANDLE_LEN).contains(&bytes.len()) {
            return Err(HandleError::Length(bytes.len()));
        }
        let mut chars = bytes.iter();
        match chars.next() {
            Some(b) if b.is_ascii_lowercase() || b.is_ascii_digit() => {}
            _ => return Err(HandleError::InvalidStart),
        }
        if !chars.all(|&b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b)) {
            return Err(HandleError::InvalidCharacter);
        }
        Ok(Handle(s.to_owned()))
    }

    /// Validates raw bytes (as found in a wire format) as a handle.
    pub fn from_bytes(bytes: &[u8]) -> Result<Handle, HandleError> {
        // A non-UTF-8 byte is necessarily non-ASCII, hence an invalid character.
        let s = std::str::from_utf8(bytes).map_err(|_| HandleError::InvalidCharacter)?;
        Handle::parse(s)
    }

    /// The handle as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The handle's bytes (what the wire formats carry).
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }

    /// The handle's length in bytes; always in `3..=32`, so it fits the `u8` length prefixes
    /// of the wire formats.
    pub fn len_u8(&self) -> u8 {
        // The constructor bounds the length to MAX_HANDLE_LEN (32), so this cannot saturate.
        u8::try_from(self.0.len()).unwrap_or(u8::MAX)
    }
}

impl FromStr for Handle {
    type Err = HandleError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Handle::parse(s)
    }
}

impl fmt::Display for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for Handle {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// A handle equals the text it was parsed from.
impl PartialEq<str> for Handle {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Handle {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

/// A handle travels as its text; reading one validates it like [`Handle::parse`].
#[cfg(feature = "serde")]
impl serde::Serialize for Handle {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Handle {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Handle, D::Error> {
        let text = String::deserialize(deserializer)?;
        Handle::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_handles() {
        for ok in ["abc", "a1b", "0ab", "alice", "a.b_c-d", &"a".repeat(32)] {
            let h = Handle::parse(ok).unwrap();
            assert_eq!(h.as_str(), ok);
            assert_eq!(h.to_string(), ok);
            assert_eq!(ok.parse::<Handle>().unwrap(), h);
            assert_eq!(Handle::from_bytes(ok.as_bytes()).unwrap(), h);
        }
    }

    #[test]
    fn rejects_invalid_handles() {
        assert_eq!(Handle::parse(""), Err(HandleError::Length(0)));
        assert_eq!(Handle::parse("ab"), Err(HandleError::Length(2)));
        assert_eq!(Handle::parse(&"a".repeat(33)), Err(HandleError::Length(33)));
        assert_eq!(Handle::parse(".ab"), Err(HandleError::InvalidStart));
        assert_eq!(Handle::parse("_ab"), Err(HandleError::InvalidStart));
        assert_eq!(Handle::parse("-ab"), Err(HandleError::InvalidStart));
        assert_eq!(Handle::parse("Abc"), Err(HandleError::InvalidStart));
        assert_eq!(Handle::parse("aBc"), Err(HandleError::InvalidCharacter));
        assert_eq!(Handle::parse("a c"), Err(HandleError::InvalidCharacter));
        assert_eq!(Handle::parse("ab/"), Err(HandleError::InvalidCharacter));
        assert_eq!(Handle::parse("abé"), Err(HandleError::InvalidCharacter));
        assert_eq!(
            Handle::from_bytes(&[b'a', b'b', 0xff]),
            Err(HandleError::InvalidCharacter)
        );
    }

    #[test]
    fn len_u8_matches() {
        assert_eq!(Handle::parse("alice").unwrap().len_u8(), 5);
    }
}
