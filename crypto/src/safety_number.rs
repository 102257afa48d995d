//! Safety numbers: 60 digits two users compare out of band to detect a key substitution by
//! the relay. Same construction as Signal's numeric fingerprints (iterated SHA-512), so it
//! is slow enough to make grinding a look-alike key expensive.

use std::fmt;

use sha2::{Digest, Sha512};

use crate::handle::Handle;
use crate::identity::IdentityPublicKey;

/// Hash iterations per party.
pub const ITERATIONS: usize = 5200;
/// Digits in a full safety number.
pub const DIGITS: usize = 60;
/// Digits per displayed group.
pub const GROUP_LEN: usize = 5;
/// Version prefix of the per-party hash input.
const VERSION: [u8; 2] = [0x00, 0x00];

/// A 60-digit safety number for a pair of (handle, identity key).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SafetyNumber(String);

/// 30 digits for one party.
fn party_digits(handle: &Handle, key: &IdentityPublicKey) -> String {
    let key = key.to_bytes();
    let mut h = Sha512::new()
        .chain_update(VERSION)
        .chain_update(key)
        .chain_update(handle.as_bytes())
        .finalize();
    for _ in 0..ITERATIONS {
        h = Sha512::new().chain_update(h).chain_update(key).finalize();
    }
    let mut out = String::with_capacity(DIGITS / 2);
    for chunk in h.chunks_exact(5).take(6) {
        let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
        out.push_str(&format!("{:05}", value % 100_000));
    }
    out
}

impl SafetyNumber {
    /// Computes the safety number of two parties; symmetric in its arguments.
    pub fn compute(
        a: (&Handle, &IdentityPublicKey),
        b: (&Handle, &IdentityPublicKey),
    ) -> SafetyNumber {
        let a = party_digits(a.0, a.1);
        let b = party_digits(b.0, b.1);
        // Sorting makes both sides see the same number regardless of who is "a".
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        SafetyNumber(first + &second)
    }

    /// The 60 digits, no separators.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The digits as 12 groups of 5 separated by single spaces.
    pub fn grouped(&self) -> String {
        let bytes = self.0.as_bytes();
        let groups: Vec<&str> = bytes
            .chunks(GROUP_LEN)
            .filter_map(|g| std::str::from_utf8(g).ok())
            .collect();
        groups.join(" ")
    }
}

impl fmt::Display for SafetyNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentitySecretKey;

    fn party(name: &str, seed: u8) -> (Handle, IdentityPublicKey) {
        (
            Handle::parse(name).unwrap(),
            IdentitySecretKey::from_bytes(&[seed; 32]).public_key(),
        )
    }

    #[test]
    fn symmetric_and_well_formed() {
        let (ha, ka) = party("alice", 1);
        let (hb, kb) = party("bob", 2);
        let ab = SafetyNumber::compute((&ha, &ka), (&hb, &kb));
        let ba = SafetyNumber::compute((&hb, &kb), (&ha, &ka));
        assert_eq!(ab, ba);
        assert_eq!(ab.digits().len(), DIGITS);
        assert!(ab.digits().bytes().all(|b| b.is_ascii_digit()));
        let grouped = ab.grouped();
        let groups: Vec<&str> = grouped.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(groups.iter().all(|g| g.len() == 5));
        assert_eq!(groups.concat(), ab.digits());
        assert_eq!(ab.to_string(), grouped);
    }

    #[test]
    fn changes_with_key_or_handle() {
        let (ha, ka) = party("alice", 1);
        let (hb, kb) = party("bob", 2);
        let (_, kc) = party("bob", 3);
        let base = SafetyNumber::compute((&ha, &ka), (&hb, &kb));
        assert_ne!(base, SafetyNumber::compute((&ha, &ka), (&hb, &kc)));
        let hx = Handle::parse("bobby").unwrap();
        assert_ne!(base, SafetyNumber::compute((&ha, &ka), (&hx, &kb)));
    }
}
