//! A conversation's agreed retention: how long its messages and documents live before every
//! member's client deletes them and the relay drops their ciphertext.
//!
//! It is part of the MLS group context (extension [`RETENTION_EXTENSION_TYPE`], from the
//! private-use range of RFC 9420), so every member holds the same value and only a commit
//! that every member processes can change it. Encoding: `u64 BE seconds`; a group without
//! the extension keeps everything ("off").

use std::fmt;
use std::time::Duration;

/// The MLS extension type carrying the retention in the group context (RFC 9420 section
/// 17.3 reserves 0xF000..=0xFFFF for private use).
pub const RETENTION_EXTENSION_TYPE: u16 = 0xF0A1;

/// The shortest retention a conversation may have: a minute. Shorter would delete messages
/// before a member who synced a moment ago could read them.
pub const MIN_RETENTION: Duration = Duration::from_secs(60);
/// The longest: ten years (anything longer is "off").
pub const MAX_RETENTION: Duration = Duration::from_secs(10 * 366 * 24 * 60 * 60);

/// How long a conversation keeps messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Retention {
    /// Everything is kept until someone deletes it.
    #[default]
    Off,
    /// Messages and documents disappear this long after they were sent.
    After(Duration),
}

/// Why a retention value is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RetentionError {
    /// The encoding is not exactly eight bytes.
    #[error("a retention is encoded in exactly 8 bytes")]
    BadLength,
    /// Shorter than [`MIN_RETENTION`] or longer than [`MAX_RETENTION`].
    #[error("a retention is between one minute and ten years")]
    OutOfRange,
    /// Not a duration this code can read (e.g. `7d`, `24h`, `30m`, `off`).
    #[error("not a duration: write e.g. 7d, 24h, 90m or off")]
    Unparsable,
}

impl Retention {
    /// A retention of `duration`, checked against the bounds.
    pub fn after(duration: Duration) -> Result<Retention, RetentionError> {
        if duration < MIN_RETENTION || duration > MAX_RETENTION {
            return Err(RetentionError::OutOfRange);
        }
        Ok(Retention::After(duration))
    }

    /// The duration, if messages expire.
    pub fn duration(self) -> Option<Duration> {
        match self {
            Retention::Off => None,
            Retention::After(d) => Some(d),
        }
    }

    /// The duration in whole seconds; 0 for [`Retention::Off`] (the relay's encoding).
    pub fn as_secs(self) -> u64 {
        self.duration().map_or(0, |d| d.as_secs())
    }

    /// The retention from whole seconds, 0 meaning off.
    pub fn from_secs(secs: u64) -> Result<Retention, RetentionError> {
        if secs == 0 {
            Ok(Retention::Off)
        } else {
            Retention::after(Duration::from_secs(secs))
        }
    }

    /// The group-context extension body: `u64 BE seconds` (only for [`Retention::After`]).
    pub fn encode(self) -> [u8; 8] {
        self.as_secs().to_be_bytes()
    }

    /// Reads an extension body written by [`Retention::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Retention, RetentionError> {
        let secs: [u8; 8] = bytes.try_into().map_err(|_| RetentionError::BadLength)?;
        Retention::from_secs(u64::from_be_bytes(secs))
    }

    /// Reads `off` or a number followed by `s` (seconds), `m` (minutes), `h` (hours), `d`
    /// (days) or `w` (weeks): `30m`, `24h`, `7d`, `2w`.
    pub fn parse(text: &str) -> Result<Retention, RetentionError> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return Ok(Retention::Off);
        }
        let split = text
            .find(|c: char| !c.is_ascii_digit())
            .ok_or(RetentionError::Unparsable)?;
        let (number, unit) = text.split_at(split);
        let number: u64 = number.parse().map_err(|_| RetentionError::Unparsable)?;
        let unit_secs = match unit {
            "s" => 1,
            "m" | "min" => 60,
            "h" => 60 * 60,
            "d" => 24 * 60 * 60,
            "w" => 7 * 24 * 60 * 60,
            _ => return Err(RetentionError::Unparsable),
        };
        let secs = number
            .checked_mul(unit_secs)
            .ok_or(RetentionError::OutOfRange)?;
        Retention::after(Duration::from_secs(secs))
    }
}

impl fmt::Display for Retention {
    /// `off`, or the largest whole unit: `7d`, `24h` shows as `1d`, `90m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Retention::After(d) = self else {
            return f.write_str("off");
        };
        let secs = d.as_secs();
        for (unit, len) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
            if secs % len == 0 {
                return write!(f, "{}{unit}", secs / len);
            }
        }
        write!(f, "{secs}s")
    }
}

impl std::str::FromStr for Retention {
    type Err = RetentionError;

    /// As [`Retention::parse`].
    fn from_str(text: &str) -> Result<Retention, RetentionError> {
        Retention::parse(text)
    }
}

/// A retention travels as its text (`off`, `7d`); reading one checks it like
/// [`Retention::parse`].
#[cfg(feature = "serde")]
impl serde::Serialize for Retention {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(feature = "serde")]
impl<'de> serde::Deserialize<'de> for Retention {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Retention, D::Error> {
        let text = String::deserialize(deserializer)?;
        Retention::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_shows_durations() {
        assert_eq!(Retention::parse("off").unwrap(), Retention::Off);
        let day = Retention::parse("24h").unwrap();
        assert_eq!(day.as_secs(), 86_400);
        assert_eq!(day.to_string(), "1d");
        assert_eq!(Retention::parse("7d").unwrap().to_string(), "1w");
        assert_eq!(Retention::parse("90m").unwrap().to_string(), "90m");
        assert_eq!(Retention::parse("3d").unwrap().to_string(), "3d");
        for bad in ["", "7", "d", "7y", "-1d", "1.5h", "7 d"] {
            assert_eq!(
                Retention::parse(bad),
                Err(RetentionError::Unparsable),
                "{bad:?}"
            );
        }
        assert_eq!(Retention::parse("0m"), Err(RetentionError::OutOfRange));
        assert_eq!(Retention::parse("11000d"), Err(RetentionError::OutOfRange));
        assert_eq!(
            Retention::parse("99999999999999999w"),
            Err(RetentionError::OutOfRange)
        );
    }

    #[test]
    fn encoding_round_trips_and_rejects_bad_bytes() {
        let r = Retention::parse("7d").unwrap();
        assert_eq!(Retention::decode(&r.encode()).unwrap(), r);
        assert_eq!(Retention::decode(&[0; 8]).unwrap(), Retention::Off);
        assert_eq!(Retention::decode(&[0; 7]), Err(RetentionError::BadLength));
        assert_eq!(
            Retention::decode(&1u64.to_be_bytes()),
            Err(RetentionError::OutOfRange)
        );
    }
}
