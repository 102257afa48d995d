//! Relay access keys: per-epoch Ed25519 keys derived from the MLS exporter, so that only the
//! current members of a group can post to or read its log on the relay, without the relay
//! learning who they are.

use std::fmt;
use std::hash::{Hash, Hasher};

use ed25519_dalek::{Signer, SigningKey, VerifyingKey};
use subtle::ConstantTimeEq;
use zeroize::ZeroizeOnDrop;

use crate::identity::{parse_verifying_key, to_hex, verify_strict, KeyError, SignatureError};

/// MLS exporter label from which the access key seed of an epoch is derived
/// (context = the 32-byte group id, length 32).
pub const ACCESS_EXPORTER_LABEL: &str = "parley relay access";

/// Length of the exporter secret that seeds an access key.
pub const ACCESS_SECRET_LEN: usize = 32;

/// The public half of an epoch's relay access key, stored by the relay per group epoch.
#[derive(Clone, Copy)]
pub struct AccessPublicKey([u8; 32]);

impl AccessPublicKey {
    /// Validates 32 bytes as an Ed25519 public key.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<Self, KeyError> {
        parse_verifying_key(bytes)?;
        Ok(AccessPublicKey(*bytes))
    }

    /// The 32-byte compressed point.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// Verifies a group-auth transcript signature with strict checks.
    pub fn verify(&self, transcript: &[u8], sig: &[u8]) -> Result<(), SignatureError> {
        // Validated at construction, so this only fails if the invariant was broken.
        let key = VerifyingKey::from_bytes(&self.0).map_err(|_| SignatureError::Invalid)?;
        verify_strict(&key, transcript, sig)
    }
}

impl ConstantTimeEq for AccessPublicKey {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0.ct_eq(&other.0)
    }
}

impl PartialEq for AccessPublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(other).into()
    }
}

impl Eq for AccessPublicKey {}

impl Hash for AccessPublicKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.0.hash(state);
    }
}

impl fmt::Debug for AccessPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AccessPublicKey({})", to_hex(&self.0))
    }
}

/// An epoch's relay access signing key. Zeroized on drop; never printed, cloned or compared.
pub struct AccessKey(SigningKey);

// SigningKey zeroizes itself on drop, which is all this wrapper holds.
impl ZeroizeOnDrop for AccessKey {}

impl AccessKey {
    /// Derives the key from the epoch's exporter secret
    /// (`ACCESS_EXPORTER_LABEL`, context = group id, 32 bytes): the secret is the Ed25519 seed.
    pub fn from_exporter_secret(secret: &[u8; ACCESS_SECRET_LEN]) -> Self {
        AccessKey(SigningKey::from_bytes(secret))
    }

    /// The public key the relay stores for this epoch.
    pub fn public_key(&self) -> AccessPublicKey {
        AccessPublicKey(self.0.verifying_key().to_bytes())
    }

    /// Signs a group-auth transcript.
    pub fn sign(&self, transcript: &[u8]) -> [u8; 64] {
        self.0.sign(transcript).to_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_and_verify() {
        let key = AccessKey::from_exporter_secret(&[42u8; 32]);
        let public = key.public_key();
        let sig = key.sign(b"transcript");
        public.verify(b"transcript", &sig).unwrap();
        assert_eq!(
            public.verify(b"transcripT", &sig),
            Err(SignatureError::Invalid)
        );
        assert_eq!(
            AccessPublicKey::from_bytes(&public.to_bytes()).unwrap(),
            public
        );
    }

    #[test]
    fn derivation_is_deterministic_and_secret_dependent() {
        let a = AccessKey::from_exporter_secret(&[1u8; 32]).public_key();
        let b = AccessKey::from_exporter_secret(&[1u8; 32]).public_key();
        let c = AccessKey::from_exporter_secret(&[2u8; 32]).public_key();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }
}
