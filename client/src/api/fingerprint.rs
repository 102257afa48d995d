//! SHA-256 fingerprints of a relay's TLS leaf certificate, as users pin them.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest, Sha256};

use super::as_text::serde_as_text;
use super::error::RelayError;

/// The SHA-256 of a TLS leaf certificate (DER).
///
/// Parsing is lenient about presentation (colons, spaces, upper case), because people copy
/// fingerprints from tools that print them differently; `Display` is the canonical form the
/// relay prints: 64 lowercase hex digits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// Parses 64 hex digits, ignoring colons, whitespace and case.
    pub fn parse(s: &str) -> Result<Fingerprint, RelayError> {
        let digits: String = s
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        let invalid = || {
            RelayError::InvalidUrl(format!(
                "the pinned fingerprint `{}` is not a SHA-256 fingerprint (64 hexadecimal digits)",
                s.trim()
            ))
        };
        if digits.len() != 64 {
            return Err(invalid());
        }
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(&digits, &mut bytes).map_err(|_| invalid())?;
        Ok(Fingerprint(bytes))
    }

    /// The fingerprint of a DER certificate.
    pub fn of_certificate(der: &[u8]) -> Fingerprint {
        Fingerprint(Sha256::digest(der).into())
    }

    /// The raw digest.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lowercase hex, no separators.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Compares without an early exit, so that timing does not reveal how much of a
    /// presented certificate's digest matched the pin.
    pub fn ct_eq(&self, other: &Fingerprint) -> bool {
        let diff = self
            .0
            .iter()
            .zip(other.0.iter())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        std::hint::black_box(diff) == 0
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl FromStr for Fingerprint {
    type Err = RelayError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Fingerprint::parse(s)
    }
}

serde_as_text!(Fingerprint);

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    #[test]
    fn canonical_form_round_trips() {
        let fp = Fingerprint::parse(HEX).unwrap();
        assert_eq!(fp.to_string(), HEX);
        assert_eq!(fp.as_bytes()[0], 0x01);
        assert_eq!(fp.as_bytes()[31], 0xef);
    }

    #[test]
    fn separators_and_case_are_ignored() {
        let colons = HEX
            .as_bytes()
            .chunks(2)
            .map(|c| std::str::from_utf8(c).unwrap().to_ascii_uppercase())
            .collect::<Vec<_>>()
            .join(":");
        assert_eq!(Fingerprint::parse(&colons).unwrap().to_hex(), HEX);
        let spaced = format!(" {} {} ", &HEX[..32], &HEX[32..]);
        assert_eq!(Fingerprint::parse(&spaced).unwrap().to_hex(), HEX);
    }

    #[test]
    fn bad_fingerprints_are_refused() {
        for s in [
            "",
            "abc",
            &HEX[..62],
            &format!("{HEX}00"),
            &HEX.replace('a', "g"),
        ] {
            match Fingerprint::parse(s) {
                Err(RelayError::InvalidUrl(m)) => assert!(m.contains("64 hexadecimal")),
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn certificate_digest_and_comparison() {
        let a = Fingerprint::of_certificate(b"certificate a");
        let b = Fingerprint::of_certificate(b"certificate b");
        assert_eq!(a.to_hex(), hex::encode(Sha256::digest(b"certificate a")));
        assert!(a.ct_eq(&a));
        assert!(!a.ct_eq(&b));
    }
}
