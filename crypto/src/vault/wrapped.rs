//! The wrapped store key: the store key encrypted under a key derived from the passphrase.
//!
//! `0x01 | params[12] | salt[16] | nonce[24] | XChaCha20-Poly1305(kek, store key)[48]`, where
//! kek = Argon2id(passphrase, salt, params) and the header before the nonce is the AAD, so
//! any change to the parameters or salt fails like a wrong passphrase.

use argon2::Block;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use rand_core::CryptoRngCore;
use zeroize::{Zeroize, Zeroizing};

use super::params::{KdfParams, ParamsError};
use super::passphrase::Passphrase;
use super::store_key::{StoreKey, STORE_KEY_LEN};

/// Version byte of the wrapped-key format.
const VERSION: u8 = 1;
const SALT_LEN: usize = 16;
const NONCE_LEN: usize = 24;
const SEALED_KEY_LEN: usize = STORE_KEY_LEN + 16;
const HEADER_LEN: usize = 1 + KdfParams::ENCODED_LEN + SALT_LEN;
/// Length of an encoded [`WrappedKey`].
pub const WRAPPED_KEY_LEN: usize = HEADER_LEN + NONCE_LEN + SEALED_KEY_LEN;

/// Why a store key could not be wrapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WrapError {
    /// The KDF parameters are out of range.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// Argon2 refused its inputs.
    #[error("the key derivation failed")]
    Kdf,
}

/// Why a wrapped key could not be decoded or unwrapped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UnwrapError {
    /// Not the length of a wrapped key.
    #[error("the wrapped key is {0} bytes, not {WRAPPED_KEY_LEN}")]
    Length(usize),
    /// A version this code does not know.
    #[error("the wrapped key has unknown version {0}")]
    UnknownVersion(u8),
    /// The recorded KDF parameters are out of range.
    #[error(transparent)]
    Params(#[from] ParamsError),
    /// The passphrase is wrong, or the record was tampered with; deliberately not told apart.
    #[error("the passphrase is wrong or the key record was altered")]
    WrongPassphrase,
    /// Argon2 refused its inputs.
    #[error("the key derivation failed")]
    Kdf,
}

/// A store key encrypted under a passphrase. Public data: it is stored in the clear.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKey {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
    sealed_key: [u8; SEALED_KEY_LEN],
}

impl std::fmt::Debug for WrappedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedKey")
            .field("params", &self.params)
            .finish_non_exhaustive()
    }
}

impl WrappedKey {
    /// Wraps `key` under `passphrase`, drawing the salt (16 bytes) then the nonce (24 bytes)
    /// from `rng`. Runs Argon2id: slow by design, so callers keep it off async threads.
    pub fn wrap(
        rng: &mut impl CryptoRngCore,
        passphrase: &Passphrase,
        params: KdfParams,
        key: &StoreKey,
    ) -> Result<WrappedKey, WrapError> {
        params.validate()?;
        let mut wrapped = WrappedKey {
            params,
            salt: [0u8; SALT_LEN],
            nonce: [0u8; NONCE_LEN],
            sealed_key: [0u8; SEALED_KEY_LEN],
        };
        rng.fill_bytes(&mut wrapped.salt);
        rng.fill_bytes(&mut wrapped.nonce);
        let kek = derive_kek(passphrase, &params, &wrapped.salt).map_err(|e| match e {
            KdfFailure::Params(p) => WrapError::Params(p),
            KdfFailure::Argon2 => WrapError::Kdf,
        })?;
        let sealed = XChaCha20Poly1305::new(Key::from_slice(&kek[..]))
            .encrypt(
                XNonce::from_slice(&wrapped.nonce),
                Payload {
                    msg: key.as_bytes(),
                    aad: &wrapped.header(),
                },
            )
            .map_err(|_| WrapError::Kdf)?;
        wrapped.sealed_key = sealed.try_into().map_err(|_| WrapError::Kdf)?;
        Ok(wrapped)
    }

    /// Recovers the store key. A wrong passphrase and a tampered record give the same error.
    /// Runs Argon2id with the recorded parameters.
    pub fn unwrap(&self, passphrase: &Passphrase) -> Result<StoreKey, UnwrapError> {
        let kek = derive_kek(passphrase, &self.params, &self.salt).map_err(|e| match e {
            KdfFailure::Params(p) => UnwrapError::Params(p),
            KdfFailure::Argon2 => UnwrapError::Kdf,
        })?;
        let plain = Zeroizing::new(
            XChaCha20Poly1305::new(Key::from_slice(&kek[..]))
                .decrypt(
                    XNonce::from_slice(&self.nonce),
                    Payload {
                        msg: &self.sealed_key,
                        aad: &self.header(),
                    },
                )
                .map_err(|_| UnwrapError::WrongPassphrase)?,
        );
        let mut bytes = [0u8; STORE_KEY_LEN];
        if plain.len() != STORE_KEY_LEN {
            return Err(UnwrapError::WrongPassphrase);
        }
        bytes.copy_from_slice(&plain);
        let key = StoreKey::from_bytes(bytes);
        bytes.zeroize();
        Ok(key)
    }

    /// The KDF parameters the key was wrapped with.
    pub fn params(&self) -> KdfParams {
        self.params
    }

    /// The stored form (see the module documentation).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = self.header();
        out.extend_from_slice(&self.nonce);
        out.extend_from_slice(&self.sealed_key);
        out
    }

    /// Parses the stored form; the parameters are checked against their bounds here, so a
    /// forged record cannot make [`WrappedKey::unwrap`] allocate or loop without limit.
    pub fn decode(bytes: &[u8]) -> Result<WrappedKey, UnwrapError> {
        let array: &[u8; WRAPPED_KEY_LEN] = bytes
            .try_into()
            .map_err(|_| UnwrapError::Length(bytes.len()))?;
        if array[0] != VERSION {
            return Err(UnwrapError::UnknownVersion(array[0]));
        }
        let mut at = 1;
        let mut take = |n: usize| {
            let part = &array[at..at + n];
            at += n;
            part
        };
        let params_bytes: [u8; KdfParams::ENCODED_LEN] = take(KdfParams::ENCODED_LEN)
            .try_into()
            .map_err(|_| UnwrapError::Length(bytes.len()))?;
        let params = KdfParams::decode(&params_bytes)?;
        let mut wrapped = WrappedKey {
            params,
            salt: [0u8; SALT_LEN],
            nonce: [0u8; NONCE_LEN],
            sealed_key: [0u8; SEALED_KEY_LEN],
        };
        wrapped.salt.copy_from_slice(take(SALT_LEN));
        wrapped.nonce.copy_from_slice(take(NONCE_LEN));
        wrapped.sealed_key.copy_from_slice(take(SEALED_KEY_LEN));
        Ok(wrapped)
    }

    /// `version | params | salt`: authenticated as the AAD of the sealed key.
    fn header(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(WRAPPED_KEY_LEN);
        out.push(VERSION);
        out.extend_from_slice(&self.params.encode());
        out.extend_from_slice(&self.salt);
        out
    }
}

enum KdfFailure {
    Params(ParamsError),
    Argon2,
}

/// Argon2id(passphrase, salt, params) -> 32-byte key-encryption key; the Argon2 working
/// memory is wiped afterwards since it is derived from the passphrase.
fn derive_kek(
    passphrase: &Passphrase,
    params: &KdfParams,
    salt: &[u8; SALT_LEN],
) -> Result<Zeroizing<[u8; 32]>, KdfFailure> {
    let argon2 = params.argon2().map_err(KdfFailure::Params)?;
    let mut memory = vec![Block::default(); argon2.params().block_count()];
    let mut kek = Zeroizing::new([0u8; 32]);
    let result = argon2.hash_password_into_with_memory(
        passphrase.as_bytes(),
        salt,
        &mut kek[..],
        &mut memory,
    );
    memory.zeroize();
    result.map_err(|_| KdfFailure::Argon2)?;
    Ok(kek)
}

#[cfg(test)]
mod tests {
    use rand::rngs::OsRng;

    use super::*;
    use crate::vault::Vault;

    fn pass(s: &str) -> Passphrase {
        Passphrase::new(s.to_owned())
    }

    #[test]
    fn wrap_unwrap_round_trip_through_encoding() {
        let key = StoreKey::generate(&mut OsRng);
        let params = KdfParams::insecure_for_tests();
        let wrapped = WrappedKey::wrap(&mut OsRng, &pass("correct horse"), params, &key).unwrap();
        let bytes = wrapped.encode();
        assert_eq!(bytes.len(), WRAPPED_KEY_LEN);
        let decoded = WrappedKey::decode(&bytes).unwrap();
        assert_eq!(decoded, wrapped);
        assert_eq!(decoded.params(), params);
        let back = decoded.unwrap(&pass("correct horse")).unwrap();
        assert_eq!(back.as_bytes(), key.as_bytes());
        // Same key, same vault.
        assert_eq!(
            Vault::new(&back).key_hash(b"d", b"x"),
            Vault::new(&key).key_hash(b"d", b"x")
        );
    }

    #[test]
    fn wrong_passphrase_and_tampering_give_one_error() {
        let key = StoreKey::generate(&mut OsRng);
        let params = KdfParams::insecure_for_tests();
        let wrapped = WrappedKey::wrap(&mut OsRng, &pass("right"), params, &key).unwrap();
        assert!(matches!(
            wrapped.unwrap(&pass("wrong")),
            Err(UnwrapError::WrongPassphrase)
        ));
        let bytes = wrapped.encode();
        // Every byte after the version and the memory field (whose high bytes would leave the
        // bounds and be refused at decode) must fail like a wrong passphrase.
        for i in 1..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x01;
            match WrappedKey::decode(&bad) {
                Ok(w) => assert!(
                    matches!(w.unwrap(&pass("right")), Err(UnwrapError::WrongPassphrase)),
                    "byte {i}"
                ),
                Err(UnwrapError::Params(_)) => assert!(i <= KdfParams::ENCODED_LEN, "byte {i}"),
                Err(other) => panic!("byte {i}: {other}"),
            }
        }
    }

    #[test]
    fn decode_refuses_bad_lengths_versions_and_params() {
        let key = StoreKey::generate(&mut OsRng);
        let wrapped = WrappedKey::wrap(
            &mut OsRng,
            &pass("p"),
            KdfParams::insecure_for_tests(),
            &key,
        )
        .unwrap();
        let bytes = wrapped.encode();
        assert_eq!(
            WrappedKey::decode(&bytes[1..]),
            Err(UnwrapError::Length(WRAPPED_KEY_LEN - 1))
        );
        let mut bad = bytes.clone();
        bad[0] = 9;
        assert_eq!(
            WrappedKey::decode(&bad),
            Err(UnwrapError::UnknownVersion(9))
        );
        for (field, value) in [
            (0usize, u32::MAX),
            (0, 8),
            (4, 0),
            (4, 1000),
            (8, 0),
            (8, 17),
        ] {
            let mut bad = bytes.clone();
            bad[1 + field..5 + field].copy_from_slice(&value.to_be_bytes());
            assert_eq!(
                WrappedKey::decode(&bad),
                Err(UnwrapError::Params(ParamsError::OutOfRange)),
                "field {field} = {value}"
            );
        }
    }

    #[test]
    fn wrap_refuses_out_of_range_params() {
        let key = StoreKey::generate(&mut OsRng);
        let params = KdfParams {
            memory_kib: 8,
            passes: 1,
            lanes: 1,
        };
        assert_eq!(
            WrappedKey::wrap(&mut OsRng, &pass("p"), params, &key).map(|_| ()),
            Err(WrapError::Params(ParamsError::OutOfRange))
        );
    }
}
