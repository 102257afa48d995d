//! Directory records: a handle's signed binding to its identity and inbox keys.
//!
//! `0x01 | u8 handle_len | handle | identity_key[32] | inbox_key[32] | u64 BE record_version
//! | u64 BE created_at_ms | signature[64]`, where the signature is Ed25519 by the identity key
//! over `"parley/v1/directory-record" || all bytes before the signature`. The relay and every
//! client verify it, so the relay cannot substitute keys without the signature breaking.

use crate::handle::{Handle, HandleError};
use crate::identity::{
    IdentityPublicKey, IdentitySecretKey, InboxPublicKey, KeyError, SIGNATURE_LEN,
};

/// Largest encoded record accepted.
pub const MAX_RECORD_LEN: usize = 1024;
/// Version byte of the record format.
pub const RECORD_VERSION_V1: u8 = 0x01;
/// Domain separation prefix of the record signature.
pub const RECORD_SIGNATURE_CONTEXT: &[u8] = b"parley/v1/directory-record";

/// Why a record could not be signed or was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// The signing key is not the record's identity key.
    #[error("the signing key does not match the record's identity key")]
    KeyMismatch,
    /// The encoded record exceeds `MAX_RECORD_LEN`.
    #[error("record longer than {MAX_RECORD_LEN} bytes")]
    TooLong,
    /// The bytes end before the record does.
    #[error("record truncated")]
    Truncated,
    /// The version byte is not one this code understands.
    #[error("unknown record version {0}")]
    UnknownVersion(u8),
    /// The handle field is not a valid handle.
    #[error("invalid handle in record: {0}")]
    Handle(#[from] HandleError),
    /// The identity key is not an acceptable Ed25519 public key.
    #[error("invalid identity key in record: {0}")]
    IdentityKey(#[from] KeyError),
    /// The signature does not verify under the record's identity key.
    #[error("record signature is invalid")]
    BadSignature,
    /// Bytes follow the signature.
    #[error("trailing bytes after the record")]
    TrailingBytes,
}

/// The content of a directory record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRecord {
    /// The handle this record binds.
    pub handle: Handle,
    /// The handle's Ed25519 identity key (also the signer of this record).
    pub identity_key: IdentityPublicKey,
    /// The X25519 key sealed envelopes to this handle are encrypted to.
    pub inbox_key: InboxPublicKey,
    /// Monotonic version; a newer record for the same handle has a larger one.
    pub record_version: u64,
    /// When the owner created the record (milliseconds since the Unix epoch, owner's clock).
    pub created_at_ms: u64,
}

impl DirectoryRecord {
    /// Signs the record with its own identity key.
    pub fn sign(self, identity: &IdentitySecretKey) -> Result<SignedRecord, RecordError> {
        if identity.public_key() != self.identity_key {
            return Err(RecordError::KeyMismatch);
        }
        let mut bytes = self.encode_unsigned();
        let signature = identity.sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature);
        if bytes.len() > MAX_RECORD_LEN {
            return Err(RecordError::TooLong);
        }
        Ok(SignedRecord {
            record: self,
            signature,
            bytes,
        })
    }

    fn encode_unsigned(&self) -> Vec<u8> {
        let handle = self.handle.as_bytes();
        let mut out = Vec::with_capacity(2 + handle.len() + 32 + 32 + 8 + 8 + SIGNATURE_LEN);
        out.push(RECORD_VERSION_V1);
        out.push(self.handle.len_u8());
        out.extend_from_slice(handle);
        out.extend_from_slice(&self.identity_key.to_bytes());
        out.extend_from_slice(&self.inbox_key.to_bytes());
        out.extend_from_slice(&self.record_version.to_be_bytes());
        out.extend_from_slice(&self.created_at_ms.to_be_bytes());
        out
    }
}

fn signed_message(unsigned: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(RECORD_SIGNATURE_CONTEXT.len() + unsigned.len());
    msg.extend_from_slice(RECORD_SIGNATURE_CONTEXT);
    msg.extend_from_slice(unsigned);
    msg
}

/// A directory record together with its signature and exact encoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedRecord {
    record: DirectoryRecord,
    signature: [u8; SIGNATURE_LEN],
    bytes: Vec<u8>,
}

impl SignedRecord {
    /// Parses and verifies a record from untrusted bytes.
    pub fn decode_and_verify(bytes: &[u8]) -> Result<SignedRecord, RecordError> {
        if bytes.len() > MAX_RECORD_LEN {
            return Err(RecordError::TooLong);
        }
        let (&version, rest) = bytes.split_first().ok_or(RecordError::Truncated)?;
        if version != RECORD_VERSION_V1 {
            return Err(RecordError::UnknownVersion(version));
        }
        let (&handle_len, rest) = rest.split_first().ok_or(RecordError::Truncated)?;
        let (handle, rest) = rest
            .split_at_checked(usize::from(handle_len))
            .ok_or(RecordError::Truncated)?;
        let (identity_key, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(RecordError::Truncated)?;
        let (inbox_key, rest) = rest
            .split_first_chunk::<32>()
            .ok_or(RecordError::Truncated)?;
        let (record_version, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(RecordError::Truncated)?;
        let (created_at_ms, rest) = rest
            .split_first_chunk::<8>()
            .ok_or(RecordError::Truncated)?;
        let (signature, rest) = rest
            .split_first_chunk::<SIGNATURE_LEN>()
            .ok_or(RecordError::Truncated)?;
        if !rest.is_empty() {
            return Err(RecordError::TrailingBytes);
        }

        let record = DirectoryRecord {
            handle: Handle::from_bytes(handle)?,
            identity_key: IdentityPublicKey::from_bytes(identity_key)?,
            inbox_key: InboxPublicKey::from_bytes(*inbox_key),
            record_version: u64::from_be_bytes(*record_version),
            created_at_ms: u64::from_be_bytes(*created_at_ms),
        };
        // Everything but the trailing signature is what was signed.
        let unsigned_len = bytes.len() - SIGNATURE_LEN;
        let unsigned = bytes.get(..unsigned_len).ok_or(RecordError::Truncated)?;
        record
            .identity_key
            .verify(&signed_message(unsigned), signature)
            .map_err(|_| RecordError::BadSignature)?;
        Ok(SignedRecord {
            record,
            signature: *signature,
            bytes: bytes.to_vec(),
        })
    }

    /// The verified record content.
    pub fn record(&self) -> &DirectoryRecord {
        &self.record
    }

    /// The record's signature.
    pub fn signature(&self) -> &[u8; SIGNATURE_LEN] {
        &self.signature
    }

    /// The exact encoded bytes (what is stored and sent).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.bytes.clone()
    }

    /// The exact encoded bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// Takes the record content, dropping the signature.
    pub fn into_record(self) -> DirectoryRecord {
        self.record
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::InboxSecretKey;

    fn fixture() -> (IdentitySecretKey, DirectoryRecord) {
        let sk = IdentitySecretKey::from_bytes(&[1u8; 32]);
        let record = DirectoryRecord {
            handle: Handle::parse("alice").unwrap(),
            identity_key: sk.public_key(),
            inbox_key: InboxSecretKey::from_bytes([2u8; 32]).public_key(),
            record_version: 3,
            created_at_ms: 1_700_000_000_000,
        };
        (sk, record)
    }

    #[test]
    fn sign_then_decode() {
        let (sk, record) = fixture();
        let signed = record.clone().sign(&sk).unwrap();
        let bytes = signed.to_bytes();
        assert_eq!(bytes.len(), 2 + 5 + 32 + 32 + 8 + 8 + 64);
        let decoded = SignedRecord::decode_and_verify(&bytes).unwrap();
        assert_eq!(decoded.record(), &record);
        assert_eq!(decoded, signed);
    }

    #[test]
    fn sign_with_wrong_key_fails() {
        let (_, record) = fixture();
        let other = IdentitySecretKey::from_bytes(&[9u8; 32]);
        assert_eq!(record.sign(&other), Err(RecordError::KeyMismatch));
    }

    #[test]
    fn rejects_malformed() {
        let (sk, record) = fixture();
        let bytes = record.sign(&sk).unwrap().to_bytes();

        assert_eq!(
            SignedRecord::decode_and_verify(&[]),
            Err(RecordError::Truncated)
        );
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert_eq!(
            SignedRecord::decode_and_verify(&v2),
            Err(RecordError::UnknownVersion(2))
        );
        for cut in 0..bytes.len() {
            assert_eq!(
                SignedRecord::decode_and_verify(&bytes[..cut]),
                Err(RecordError::Truncated),
                "cut at {cut}"
            );
        }
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert_eq!(
            SignedRecord::decode_and_verify(&trailing),
            Err(RecordError::TrailingBytes)
        );
        let mut bad_handle = bytes.clone();
        bad_handle[2] = b'A';
        assert!(matches!(
            SignedRecord::decode_and_verify(&bad_handle),
            Err(RecordError::Handle(_))
        ));
        let mut bad_point = bytes.clone();
        bad_point[7..39].copy_from_slice(&[0u8; 32]);
        assert!(matches!(
            SignedRecord::decode_and_verify(&bad_point),
            Err(RecordError::IdentityKey(_))
        ));
        let mut bad_sig = bytes.clone();
        let last = bad_sig.len() - 1;
        bad_sig[last] ^= 0x01;
        assert_eq!(
            SignedRecord::decode_and_verify(&bad_sig),
            Err(RecordError::BadSignature)
        );
        assert_eq!(
            SignedRecord::decode_and_verify(&vec![1u8; MAX_RECORD_LEN + 1]),
            Err(RecordError::TooLong)
        );
    }
}
