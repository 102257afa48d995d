//! Group codes: 60 digits every member of a conversation compares in one step, to check that
//! everyone sees the same roster of (handle, identity key) and the same MLS epoch.
//!
//! A pairwise safety number does not scale to a room: ten people would compare 45 numbers.
//! The group code covers every member's key and the epoch authenticator (a value only members
//! of that exact MLS epoch can compute), so one matching code means the whole room agrees on
//! who is in the group, and that nobody in the room sits in a forked copy of it.
//!
//! # Format (version 1)
//!
//! The members are sorted by handle bytes (ties, which a well-formed group never has, by
//! identity key bytes), so every member computes the same code whatever order they list the
//! roster in. The input is, with every integer big-endian:
//!
//! ```text
//! "parley/v1/group-code"                  20 ASCII bytes, domain separation
//! u32  member count
//! per member, in sorted order:
//!   u8   handle length | handle bytes     (1..=32 bytes, see `handle`)
//!   [32] identity public key
//! u32  epoch authenticator length | epoch authenticator bytes
//! ```
//!
//! Then `h = SHA-512(input)`, and 5200 times `h = SHA-512(h | input)`: as with safety
//! numbers, the iterations make grinding a look-alike roster expensive. The 60 digits are the
//! first 60 bytes of `h` taken as twelve 40-bit big-endian numbers, each reduced mod 100000 and
//! written as 5 zero-padded digits. Every field is length-prefixed or fixed-length, so two
//! different rosters never share an input.

use std::fmt;

use sha2::{Digest, Sha512};

use crate::handle::Handle;
use crate::identity::IdentityPublicKey;

/// Hash iterations after the first hash.
pub const ITERATIONS: usize = 5200;
/// Digits in a group code.
pub const DIGITS: usize = 60;
/// Digits per displayed group.
pub const GROUP_LEN: usize = 5;
/// Domain separation prefix (also the format version).
const DOMAIN: &[u8] = b"parley/v1/group-code";

/// A 60-digit code over a group's roster and epoch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupCode(String);

/// Length as a u32 prefix. Rosters and authenticators are far below 4 GiB; saturating keeps
/// the function total without a panic path.
fn len_u32(len: usize) -> [u8; 4] {
    u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
}

/// The exact bytes that are hashed (see the module documentation).
fn encode(members: &[(&Handle, &IdentityPublicKey)], epoch_authenticator: &[u8]) -> Vec<u8> {
    let mut sorted: Vec<(&[u8], [u8; 32])> = members
        .iter()
        .map(|(handle, key)| (handle.as_bytes(), key.to_bytes()))
        .collect();
    sorted.sort_unstable();
    let mut out =
        Vec::with_capacity(DOMAIN.len() + 8 + sorted.len() * 65 + epoch_authenticator.len());
    out.extend_from_slice(DOMAIN);
    out.extend_from_slice(&len_u32(sorted.len()));
    for (handle, key) in sorted {
        // Handles are at most 32 bytes (enforced by `Handle`), so the length fits a u8.
        out.push(u8::try_from(handle.len()).unwrap_or(u8::MAX));
        out.extend_from_slice(handle);
        out.extend_from_slice(&key);
    }
    out.extend_from_slice(&len_u32(epoch_authenticator.len()));
    out.extend_from_slice(epoch_authenticator);
    out
}

impl GroupCode {
    /// Computes the code of a roster (in any order) and the group's epoch authenticator.
    pub fn compute(
        members: &[(&Handle, &IdentityPublicKey)],
        epoch_authenticator: &[u8],
    ) -> GroupCode {
        let input = encode(members, epoch_authenticator);
        let mut h = Sha512::digest(&input);
        for _ in 0..ITERATIONS {
            h = Sha512::new()
                .chain_update(h)
                .chain_update(&input)
                .finalize();
        }
        let mut out = String::with_capacity(DIGITS);
        for chunk in h.chunks_exact(5).take(DIGITS / GROUP_LEN) {
            let value = chunk.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b));
            out.push_str(&format!("{:05}", value % 100_000));
        }
        GroupCode(out)
    }

    /// The 60 digits, no separators.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// The digits as 12 groups of 5 separated by single spaces.
    pub fn grouped(&self) -> String {
        let groups: Vec<&str> = self
            .0
            .as_bytes()
            .chunks(GROUP_LEN)
            .filter_map(|g| std::str::from_utf8(g).ok())
            .collect();
        groups.join(" ")
    }
}

impl fmt::Display for GroupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.grouped())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::IdentitySecretKey;

    fn member(name: &str, seed: u8) -> (Handle, IdentityPublicKey) {
        (
            Handle::parse(name).unwrap(),
            IdentitySecretKey::from_bytes(&[seed; 32]).public_key(),
        )
    }

    fn code(members: &[(Handle, IdentityPublicKey)], auth: &[u8]) -> GroupCode {
        let refs: Vec<(&Handle, &IdentityPublicKey)> =
            members.iter().map(|(h, k)| (h, k)).collect();
        GroupCode::compute(&refs, auth)
    }

    fn roster() -> Vec<(Handle, IdentityPublicKey)> {
        vec![member("alice", 1), member("bob", 2), member("carol", 3)]
    }

    #[test]
    fn well_formed() {
        let c = code(&roster(), &[7; 32]);
        assert_eq!(c.digits().len(), DIGITS);
        assert!(c.digits().bytes().all(|b| b.is_ascii_digit()));
        let grouped = c.grouped();
        let groups: Vec<&str> = grouped.split(' ').collect();
        assert_eq!(groups.len(), 12);
        assert!(groups.iter().all(|g| g.len() == GROUP_LEN));
        assert_eq!(groups.concat(), c.digits());
        assert_eq!(c.to_string(), grouped);
    }

    #[test]
    fn independent_of_roster_order() {
        let base = code(&roster(), &[7; 32]);
        let mut reversed = roster();
        reversed.reverse();
        assert_eq!(base, code(&reversed, &[7; 32]));
        let mut rotated = roster();
        rotated.rotate_left(1);
        assert_eq!(base, code(&rotated, &[7; 32]));
    }

    #[test]
    fn changes_with_any_key_handle_member_or_epoch() {
        let base = code(&roster(), &[7; 32]);
        // Another key for one member.
        let mut other_key = roster();
        other_key[1] = member("bob", 9);
        assert_ne!(base, code(&other_key, &[7; 32]));
        // Another handle for the same key.
        let mut other_handle = roster();
        other_handle[1].0 = Handle::parse("bobby").unwrap();
        assert_ne!(base, code(&other_handle, &[7; 32]));
        // A member more, a member less.
        let mut more = roster();
        more.push(member("dave", 4));
        assert_ne!(base, code(&more, &[7; 32]));
        assert_ne!(base, code(&roster()[..2], &[7; 32]));
        // Another epoch authenticator, by one bit or by length.
        let mut auth = [7u8; 32];
        auth[31] ^= 1;
        assert_ne!(base, code(&roster(), &auth));
        assert_ne!(base, code(&roster(), &[7; 31]));
    }

    #[test]
    fn encoding_is_the_documented_layout() {
        let (bob, kb) = member("bob", 2);
        let (al, ka) = member("al1", 1);
        let bytes = encode(&[(&bob, &kb), (&al, &ka)], b"xy");
        let mut expected = b"parley/v1/group-code".to_vec();
        expected.extend_from_slice(&[0, 0, 0, 2]);
        expected.push(3);
        expected.extend_from_slice(b"al1");
        expected.extend_from_slice(&ka.to_bytes());
        expected.push(3);
        expected.extend_from_slice(b"bob");
        expected.extend_from_slice(&kb.to_bytes());
        expected.extend_from_slice(&[0, 0, 0, 2]);
        expected.extend_from_slice(b"xy");
        assert_eq!(bytes, expected);
    }
}
