//! Long-term keys of a user: the Ed25519 identity key (signs directory records, owner-auth
//! transcripts and MLS leaves) and the X25519 inbox key (receives sealed envelopes).

use std::fmt;
use std::hash::{Hash, Hasher};

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use rand_core::CryptoRngCore;
use subtle::ConstantTimeEq;
use x25519_dalek::{PublicKey as X25519Public, StaticSecret};
use zeroize::{ZeroizeOnDrop, Zeroizing};

/// Length of an Ed25519 signature.
pub const SIGNATURE_LEN: usize = 64;

/// Why 32 bytes are not an acceptable public key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The bytes do not decode to a point on the curve.
    #[error("public key is not a valid Ed25519 point")]
    InvalidPoint,
    /// The point has small order: anyone could forge signatures for it.
    #[error("public key is a weak (small-order) point")]
    WeakKey,
}

/// Why a signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature is not 64 bytes long.
    #[error("signature must be {SIGNATURE_LEN} bytes, got {0}")]
    Length(usize),
    /// The signature does not verify under the key (strict RFC 8032 checks).
    #[error("signature verification failed")]
    Invalid,
}

/// Parses and checks an Ed25519 public key; shared with the relay access key.
pub(crate) fn parse_verifying_key(bytes: &[u8; 32]) -> Result<VerifyingKey, KeyError> {
    let key = VerifyingKey::from_bytes(bytes).map_err(|_| KeyError::InvalidPoint)?;
    if key.is_weak() {
        return Err(KeyError::WeakKey);
    }
    Ok(key)
}

/// Strict Ed25519 verification (rejects malleable and small-order signatures).
pub(crate) fn verify_strict(
    key: &VerifyingKey,
    msg: &[u8],
    sig: &[u8],
) -> Result<(), SignatureError> {
    let sig_bytes: &[u8; SIGNATURE_LEN] = sig
        .try_into()
        .map_err(|_| SignatureError::Length(sig.len()))?;
    let signature = Signature::from_bytes(sig_bytes);
    key.verify_strict(msg, &signature)
        .map_err(|_| SignatureError::Invalid)
}

/// Lowercase hex, no separators.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

/// A user's Ed25519 identity public key (validated: on the curve, not small-order).
#[derive(Clone, Copy)]
pub struct IdentityPublicKey([u8; 32]);

impl IdentityPublicKey {
    /// Validates 32 bytes as an Ed25519 public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        parse_verifying_key(bytes)?;
        Ok(IdentityPublicKey(*bytes))
    }

    /// The 32-byte compressed point.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Verifies an Ed25519 signature over `msg` with strict checks.
    pub fn verify(&self, msg: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        // Validated at construction, so this only fails if the invariant was broken.
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::Invalid)?;
        verify_strict(&key, msg, sig)
    }

    /// Lowercase hex of the 32 key bytes (64 characters), as users compare and display it.
    pub fn fingerprint_hex(&self) -> String {
        to_hex(&self.0)
    }
}

impl ConstantTimeEq for IdentityPublicKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for IdentityPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for IdentityPublicKey {}

impl Hash for IdentityPublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for IdentityPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdentityPublicKey({})", to_hex(&self.0))
    }
}

/// A user's Ed25519 identity secret key. Zeroized on drop; never printed, cloned or compared.
pub struct IdentitySecretKey(SigningKey);

// SigningKey zeroizes itself on drop, which is all this wrapper holds.
impl ZeroizeOnDrop for IdentitySecretKey {}

impl IdentitySecretKey {
    /// Generates a fresh identity key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        IdentitySecretKey(SigningKey::generate(rng))
    }

    /// Restores a key from its 32-byte seed.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        IdentitySecretKey(SigningKey::from_bytes(bytes))
    }

    /// The 32-byte seed, for the caller to store (encrypted) and later restore.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> IdentityPublicKey {
        IdentityPublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs `msg` (Ed25519, deterministic).
    pub fn sign(&self, msg: &[u8]) -> [u8; SIGNATURE_LEN] {
        self.0.sign(msg).to_bytes()
    }
}

/// A user's X25519 inbox public key, to which sealed envelopes are encrypted.
#[derive(Clone, Copy)]
pub struct InboxPublicKey([u8; 32]);

impl InboxPublicKey {
    /// Wraps 32 bytes. Every 32-byte string is a usable X25519 public key; degenerate ones
    /// make HPKE fail at seal time rather than here.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        InboxPublicKey(bytes)
    }

    /// The 32-byte Montgomery u-coordinate.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }
}

impl ConstantTimeEq for InboxPublicKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for InboxPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for InboxPublicKey {}

impl Hash for InboxPublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for InboxPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "InboxPublicKey({})", to_hex(&self.0))
    }
}

/// A user's X25519 static inbox secret. Zeroized on drop; never printed, cloned or compared.
pub struct InboxSecretKey(StaticSecret);

// StaticSecret zeroizes itself on drop, which is all this wrapper holds.
impl ZeroizeOnDrop for InboxSecretKey {}

impl InboxSecretKey {
    /// Generates a fresh inbox key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(bytes.as_mut());
        InboxSecretKey(StaticSecret::from(*bytes))
    }

    /// Restores a key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        InboxSecretKey(StaticSecret::from(bytes))
    }

    /// The 32 secret bytes, for the caller to store (encrypted) and later restore.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The matching public key.
    pub fn public_key(&self) -> InboxPublicKey {
        InboxPublicKey(X25519Public::from(&self.0).to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn sign_verify_round_trip() {
        let mut rng = StdRng::seed_from_u64(1);
        let sk = IdentitySecretKey::generate(&mut rng);
        let pk = sk.public_key();
        let sig = sk.sign(b"hello");
        pk.verify(b"hello", &sig).unwrap();
        assert_eq!(pk.verify(b"hellO", &sig), Err(SignatureError::Invalid));
        assert_eq!(
            pk.verify(b"hello", &sig[..63]),
            Err(SignatureError::Length(63))
        );
        let mut bad = sig;
        bad[10] ^= 1;
        assert_eq!(pk.verify(b"hello", &bad), Err(SignatureError::Invalid));
    }

    #[test]
    fn secret_round_trips_through_bytes() {
        let mut rng = StdRng::seed_from_u64(2);
        let sk = IdentitySecretKey::generate(&mut rng);
        let restored = IdentitySecretKey::from_bytes(&sk.to_bytes());
        assert_eq!(sk.public_key(), restored.public_key());

        let ik = InboxSecretKey::generate(&mut rng);
        let restored = InboxSecretKey::from_bytes(*ik.to_bytes());
        assert_eq!(ik.public_key(), restored.public_key());
    }

    #[test]
    fn public_key_validation() {
        let mut rng = StdRng::seed_from_u64(3);
        let pk = IdentitySecretKey::generate(&mut rng).public_key();
        assert_eq!(IdentityPublicKey::from_bytes(&pk.to_bytes()).unwrap(), pk);
        // The identity point (small order) must be refused.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        assert_eq!(
            IdentityPublicKey::from_bytes(&identity),
            Err(KeyError::WeakKey)
        );
        // y = 2 is not on the curve.
        let mut off_curve = [0u8; 32];
        off_curve[0] = 2;
        assert_eq!(
            IdentityPublicKey::from_bytes(&off_curve),
            Err(KeyError::InvalidPoint)
        );
    }

    #[test]
    fn fingerprint_and_debug_are_hex() {
        let sk = IdentitySecretKey::from_bytes(&[7u8; 32]);
        let pk = sk.public_key();
        let fp = pk.fingerprint_hex();
        assert_eq!(fp.len(), 64);
        assert_eq!(fp, hex::encode(pk.to_bytes()));
        assert!(format!("{pk:?}").contains(&fp));
    }
}
