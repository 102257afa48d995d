//! HMAC-SHA256 and one-block HKDF-SHA256 without fallible calls.
//!
//! The `hmac`/`hkdf` constructors return `Result` for key or output lengths that are
//! impossible here; keys are zero-padded to the 64-byte block, which is what HMAC does to any
//! shorter key, so these are the standard functions (checked against `hkdf` in the tests).

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

const BLOCK: usize = 64;

/// HMAC-SHA256 keyed with `key` (at most 64 bytes), over the concatenation of `parts`.
pub(crate) fn hmac_sha256(key: &[u8; 32], parts: &[&[u8]]) -> Zeroizing<[u8; 32]> {
    let mut block = Zeroizing::new([0u8; BLOCK]);
    block[..32].copy_from_slice(key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&(*block).into());
    for part in parts {
        mac.update(part);
    }
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// HKDF-SHA256 (RFC 5869) with a 32-byte salt and a 32-byte output (one expand block).
pub(crate) fn hkdf_sha256(salt: &[u8; 32], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let prk = hmac_sha256(salt, &[ikm]);
    hmac_sha256(&prk, &[info, &[1u8]])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_hkdf_and_hmac_crates() {
        let salt = [7u8; 32];
        let ikm = [42u8; 32];
        let ours = hkdf_sha256(&salt, &ikm, b"info");
        let mut theirs = [0u8; 32];
        hkdf::Hkdf::<Sha256>::new(Some(&salt), &ikm)
            .expand(b"info", &mut theirs)
            .unwrap();
        assert_eq!(*ours, theirs);

        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&salt).unwrap();
        mac.update(b"ab");
        mac.update(b"c");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(*hmac_sha256(&salt, &[b"a", b"bc"]), expected);
    }
}
