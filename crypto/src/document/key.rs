//! A document's secrets and names: its key, its blob id and the capabilities the relay
//! checks (by hash) before storing or serving the blob.

use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// The key a document is encrypted under: fresh for every document, sent to the members
/// inside the MLS message that shares it.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct DocumentKey([u8; 32]);

impl DocumentKey {
    /// A fresh key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> DocumentKey {
        let mut key = [0u8; 32];
        rng.fill_bytes(&mut key);
        DocumentKey(key)
    }

    /// The key from its bytes (as a document reference carries them).
    pub fn from_bytes(bytes: [u8; 32]) -> DocumentKey {
        DocumentKey(bytes)
    }

    /// The key's bytes, wiped when dropped.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0)
    }

    pub(super) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The capability that lets whoever holds this key download blob `blob_id`: derived, so
    /// a member needs nothing else, and the relay (which stores only its hash) cannot derive
    /// the key from it.
    pub fn read_capability(&self, blob_id: &BlobId) -> ReadCapability {
        // Fixed-length input under a domain of its own: SHA-256 as a PRF keyed by a uniformly
        // random 32-byte key.
        ReadCapability(
            Sha256::new()
                .chain_update(b"parley/v1/document-read")
                .chain_update(self.0)
                .chain_update(blob_id.as_bytes())
                .finalize()
                .into(),
        )
    }
}

/// A blob's name at the relay: 32 random bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlobId([u8; 32]);

impl BlobId {
    /// A fresh id.
    pub fn generate(rng: &mut impl CryptoRngCore) -> BlobId {
        let mut id = [0u8; 32];
        rng.fill_bytes(&mut id);
        BlobId(id)
    }

    /// The id from its bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> BlobId {
        BlobId(bytes)
    }

    /// The id's bytes.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// What lets its holder download one blob (see [`DocumentKey::read_capability`]).
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct ReadCapability([u8; 32]);

impl ReadCapability {
    /// The capability's bytes, as a download request carries them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// What the relay stores to check it.
    pub fn hash(&self) -> [u8; 32] {
        capability_hash(&self.0)
    }
}

/// What lets its holder upload one blob: random, known to the uploader only.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct WriteCapability([u8; 32]);

impl WriteCapability {
    /// A fresh capability.
    pub fn generate(rng: &mut impl CryptoRngCore) -> WriteCapability {
        let mut cap = [0u8; 32];
        rng.fill_bytes(&mut cap);
        WriteCapability(cap)
    }

    /// The capability's bytes, as an upload request carries them.
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// What the relay stores to check it.
    pub fn hash(&self) -> [u8; 32] {
        capability_hash(&self.0)
    }
}

/// The hash a relay keeps of a capability: SHA-256 with its own domain, so a stored hash is
/// no capability itself.
pub fn capability_hash(capability: &[u8]) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"parley/v1/blob-capability")
        .chain_update(capability)
        .finalize()
        .into()
}
