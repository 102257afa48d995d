//! The vault: seals record values and hashes record keys under subkeys of the store key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand_core::CryptoRngCore;
use zeroize::Zeroizing;

use super::hkdf::{hkdf_sha256, hmac_sha256};
use super::store_key::StoreKey;

/// Version byte of a sealed value.
const SEALED_VERSION: u8 = 1;
/// Length of an XChaCha20 nonce.
const NONCE_LEN: usize = 24;
/// Length of a Poly1305 tag.
const TAG_LEN: usize = 16;
/// Bytes a sealed value has beyond its plaintext: version, nonce, tag.
pub const SEALED_OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;
/// Length of a key hash.
pub const KEY_HASH_LEN: usize = 16;

/// HKDF salt for the vault's subkeys (32 bytes, fixed by the format).
const SUBKEY_SALT: &[u8; 32] = b"parley/v1/vault/subkeys/salt-v01";
/// HKDF info of the value-sealing subkey.
const INFO_VALUES: &[u8] = b"values";
/// HKDF info of the key-hashing subkey.
const INFO_KEY_HASH: &[u8] = b"key hashes";

/// Why a value could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The value is beyond what XChaCha20-Poly1305 can encrypt in one message.
    #[error("the value is too long to encrypt")]
    TooLong,
}

/// Why a sealed value could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// Shorter than the version, nonce and tag.
    #[error("the sealed value is truncated")]
    Truncated,
    /// A version this code does not know.
    #[error("the sealed value has unknown version {0}")]
    UnknownVersion(u8),
    /// The tag does not verify: tampered, moved to another record, or from another store.
    #[error("the sealed value does not authenticate")]
    Forged,
}

/// Seals values and hashes record keys for one store. Holds only secret subkeys, which are
/// wiped when it is dropped; never printed or cloned.
pub struct Vault {
    values: XChaCha20Poly1305,
    hash_key: Zeroizing<[u8; 32]>,
}

impl Vault {
    /// Derives the vault's subkeys from the store key (HKDF-SHA256, one subkey per use).
    pub fn new(key: &StoreKey) -> Vault {
        let value_key = hkdf_sha256(SUBKEY_SALT, key.as_bytes(), INFO_VALUES);
        Vault {
            values: XChaCha20Poly1305::new(Key::from_slice(&value_key[..])),
            hash_key: hkdf_sha256(SUBKEY_SALT, key.as_bytes(), INFO_KEY_HASH),
        }
    }

    /// Encrypts `value` bound to `aad` (the caller passes the record key, so a value cannot
    /// be moved to another record): `0x01 | nonce[24] | ciphertext+tag`.
    pub fn seal(
        &self,
        rng: &mut impl CryptoRngCore,
        aad: &[u8],
        value: &[u8],
    ) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        rng.fill_bytes(&mut nonce);
        let ciphertext = self
            .values
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: value, aad })
            .map_err(|_| SealError::TooLong)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ciphertext.len());
        out.push(SEALED_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts a value sealed by [`Vault::seal`] with the same `aad`. The plaintext is wiped
    /// when dropped, since records hold secrets.
    pub fn open(&self, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        if sealed.len() < SEALED_OVERHEAD {
            return Err(OpenError::Truncated);
        }
        let (version, rest) = sealed.split_at(1);
        if version[0] != SEALED_VERSION {
            return Err(OpenError::UnknownVersion(version[0]));
        }
        let (nonce, ciphertext) = rest.split_at(NONCE_LEN);
        self.values
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Forged)
    }

    /// A keyed hash of `id` in a `domain` (a record kind), to use as a record key:
    /// HMAC-SHA256(hash subkey, u32-BE len(domain) | domain | id), first 16 bytes.
    ///
    /// Deterministic, so lookups work; keyed, so a guessed handle or name cannot be checked
    /// against the disk without the store key.
    pub fn key_hash(&self, domain: &[u8], id: &[u8]) -> [u8; KEY_HASH_LEN] {
        // Domains are short constants; a longer one would only be truncated in the length.
        let len = u32::try_from(domain.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes();
        let mac = hmac_sha256(&self.hash_key, &[&len, domain, id]);
        let mut out = [0u8; KEY_HASH_LEN];
        out.copy_from_slice(&mac[..KEY_HASH_LEN]);
        out
    }
}

#[cfg(test)]
mod tests {
    use rand::rngs::OsRng;

    use super::*;

    fn vault() -> Vault {
        Vault::new(&StoreKey::generate(&mut OsRng))
    }

    #[test]
    fn seal_open_round_trip_and_binding_to_aad() {
        let v = vault();
        let sealed = v.seal(&mut OsRng, b"slot-a", b"secret").unwrap();
        assert_eq!(sealed.len(), SEALED_OVERHEAD + 6);
        assert_eq!(&v.open(b"slot-a", &sealed).unwrap()[..], b"secret");
        assert_eq!(v.open(b"slot-b", &sealed), Err(OpenError::Forged));
        assert_eq!(vault().open(b"slot-a", &sealed), Err(OpenError::Forged));
    }

    #[test]
    fn every_tampered_byte_is_refused() {
        let v = vault();
        let sealed = v.seal(&mut OsRng, b"k", b"value").unwrap();
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert!(v.open(b"k", &bad).is_err(), "byte {i}");
        }
        assert_eq!(
            v.open(b"k", &sealed[..SEALED_OVERHEAD - 1]),
            Err(OpenError::Truncated)
        );
        let mut bad = sealed.clone();
        bad[0] = 2;
        assert_eq!(v.open(b"k", &bad), Err(OpenError::UnknownVersion(2)));
    }

    #[test]
    fn sealing_twice_gives_different_bytes() {
        let v = vault();
        let a = v.seal(&mut OsRng, b"k", b"same").unwrap();
        let b = v.seal(&mut OsRng, b"k", b"same").unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn key_hashes_are_keyed_and_domain_separated() {
        let v = vault();
        assert_eq!(
            v.key_hash(b"contact", b"alice"),
            v.key_hash(b"contact", b"alice")
        );
        assert_ne!(
            v.key_hash(b"contact", b"alice"),
            v.key_hash(b"conv", b"alice")
        );
        // The length prefix keeps (domain, id) splits apart.
        assert_ne!(v.key_hash(b"ab", b"c"), v.key_hash(b"a", b"bc"));
        assert_ne!(
            v.key_hash(b"contact", b"alice"),
            vault().key_hash(b"contact", b"alice")
        );
    }
}
