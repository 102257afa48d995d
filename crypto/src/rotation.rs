//! Key rotation: a handle's new directory record, endorsed by the key it replaces.
//!
//! `0x01 | u16 BE old_len | old record | u16 BE new_len | new record | signature[64]`, where
//! both records are signed directory records of the same handle, the new one has a larger
//! `record_version` and a `created_at_ms` no earlier than the old one, and the signature is
//! Ed25519 by the **old** identity key over `"parley/v1/record-rotation" || all bytes before
//! the signature`. The relay accepts a rotation only of the record it holds; a client that
//! pinned the old key follows a chain of rotations from its pin to the record the directory
//! serves, so a rotation never shows as an unexplained key change, and a key the pinned one
//! did not endorse still does.

use crate::directory::{DirectoryRecord, RecordError, SignedRecord, MAX_RECORD_LEN};
use crate::identity::{IdentityPublicKey, IdentitySecretKey, SIGNATURE_LEN};

/// Version byte of the rotation format.
pub const ROTATION_VERSION_V1: u8 = 0x01;
/// Domain separation prefix of the rotation signature.
pub const ROTATION_SIGNATURE_CONTEXT: &[u8] = b"parley/v1/record-rotation";
/// Largest encoded rotation accepted: two records, their lengths, the version and the
/// signature.
pub const MAX_ROTATION_LEN: usize = 1 + 2 * (2 + MAX_RECORD_LEN) + SIGNATURE_LEN;
/// Most rotations a chain may hold (the relay keeps this many per handle).
pub const MAX_CHAIN_LEN: usize = 16;

/// Why a rotation could not be made or was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RotationError {
    /// The bytes end before the rotation does.
    #[error("rotation truncated")]
    Truncated,
    /// Longer than [`MAX_ROTATION_LEN`].
    #[error("rotation longer than {MAX_ROTATION_LEN} bytes")]
    TooLong,
    /// The version byte is not one this code understands.
    #[error("unknown rotation version {0}")]
    UnknownVersion(u8),
    /// Bytes follow the signature.
    #[error("trailing bytes after the rotation")]
    TrailingBytes,
    /// One of the two records is not a valid signed record.
    #[error("invalid record in rotation: {0}")]
    Record(#[from] RecordError),
    /// The records are of different handles.
    #[error("the two records are of different handles")]
    HandleMismatch,
    /// The new record's version is not larger, or it is dated before the old one.
    #[error("the new record is not newer than the one it replaces")]
    NotNewer,
    /// The signing key is not the old record's identity key.
    #[error("the signing key is not the old record's identity key")]
    KeyMismatch,
    /// The signature does not verify under the old record's identity key.
    #[error("rotation signature is invalid")]
    BadSignature,
    /// The rotations do not lead from the pinned key to the record served.
    #[error("no chain of rotations leads from the pinned key to this record")]
    Unlinked,
}

/// A verified rotation: the record replaced, the record replacing it, and the old key's
/// endorsement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rotation {
    old: SignedRecord,
    new: SignedRecord,
    bytes: Vec<u8>,
}

impl Rotation {
    /// Endorses `new` (already signed by its own key) with `old_identity`, the key of `old`.
    pub fn sign(
        old: &SignedRecord,
        new: &SignedRecord,
        old_identity: &IdentitySecretKey,
    ) -> Result<Rotation, RotationError> {
        if old_identity.public_key() != old.record().identity_key {
            return Err(RotationError::KeyMismatch);
        }
        check_succession(old.record(), new.record())?;
        let mut bytes = Vec::with_capacity(MAX_ROTATION_LEN);
        bytes.push(ROTATION_VERSION_V1);
        for record in [old, new] {
            let len = u16::try_from(record.as_bytes().len()).map_err(|_| RotationError::TooLong)?;
            bytes.extend_from_slice(&len.to_be_bytes());
            bytes.extend_from_slice(record.as_bytes());
        }
        let signature = old_identity.sign(&signed_message(&bytes));
        bytes.extend_from_slice(&signature);
        Ok(Rotation {
            old: old.clone(),
            new: new.clone(),
            bytes,
        })
    }

    /// Parses and verifies a rotation from untrusted bytes: both records, their succession
    /// and the old key's signature.
    pub fn decode_and_verify(bytes: &[u8]) -> Result<Rotation, RotationError> {
        if bytes.len() > MAX_ROTATION_LEN {
            return Err(RotationError::TooLong);
        }
        let (&version, rest) = bytes.split_first().ok_or(RotationError::Truncated)?;
        if version != ROTATION_VERSION_V1 {
            return Err(RotationError::UnknownVersion(version));
        }
        let (old, rest) = split_record(rest)?;
        let (new, rest) = split_record(rest)?;
        let (signature, rest) = rest
            .split_first_chunk::<SIGNATURE_LEN>()
            .ok_or(RotationError::Truncated)?;
        if !rest.is_empty() {
            return Err(RotationError::TrailingBytes);
        }
        let old = SignedRecord::decode_and_verify(old)?;
        let new = SignedRecord::decode_and_verify(new)?;
        check_succession(old.record(), new.record())?;
        let unsigned = bytes
            .get(..bytes.len() - SIGNATURE_LEN)
            .ok_or(RotationError::Truncated)?;
        old.record()
            .identity_key
            .verify(&signed_message(unsigned), signature)
            .map_err(|_| RotationError::BadSignature)?;
        Ok(Rotation {
            old,
            new,
            bytes: bytes.to_vec(),
        })
    }

    /// The record replaced.
    pub fn old(&self) -> &SignedRecord {
        &self.old
    }

    /// The record replacing it.
    pub fn new_record(&self) -> &SignedRecord {
        &self.new
    }

    /// The exact encoded bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }
}

/// Follows `rotations` (oldest first, as the directory serves them) from the identity key
/// `pinned` to `current`: succeeds only if an unbroken chain of endorsements leads from a
/// record of the pinned key to exactly the `current` record. A chain longer than
/// [`MAX_CHAIN_LEN`] is refused unread.
pub fn follow_chain(
    pinned: &IdentityPublicKey,
    rotations: &[Rotation],
    current: &SignedRecord,
) -> Result<(), RotationError> {
    if rotations.len() > MAX_CHAIN_LEN {
        return Err(RotationError::TooLong);
    }
    let start = rotations
        .iter()
        .position(|r| r.old.record().identity_key == *pinned)
        .ok_or(RotationError::Unlinked)?;
    let mut reached = &rotations[start].new;
    for next in rotations.iter().skip(start + 1) {
        if next.old.as_bytes() != reached.as_bytes() {
            return Err(RotationError::Unlinked);
        }
        reached = &next.new;
    }
    if reached.as_bytes() == current.as_bytes() {
        Ok(())
    } else {
        Err(RotationError::Unlinked)
    }
}

fn check_succession(old: &DirectoryRecord, new: &DirectoryRecord) -> Result<(), RotationError> {
    if old.handle != new.handle {
        return Err(RotationError::HandleMismatch);
    }
    if new.record_version <= old.record_version || new.created_at_ms < old.created_at_ms {
        return Err(RotationError::NotNewer);
    }
    Ok(())
}

fn split_record(bytes: &[u8]) -> Result<(&[u8], &[u8]), RotationError> {
    let (len, rest) = bytes
        .split_first_chunk::<2>()
        .ok_or(RotationError::Truncated)?;
    let len = usize::from(u16::from_be_bytes(*len));
    if len > MAX_RECORD_LEN {
        return Err(RotationError::TooLong);
    }
    rest.split_at_checked(len).ok_or(RotationError::Truncated)
}

fn signed_message(unsigned: &[u8]) -> Vec<u8> {
    let mut msg = Vec::with_capacity(ROTATION_SIGNATURE_CONTEXT.len() + unsigned.len());
    msg.extend_from_slice(ROTATION_SIGNATURE_CONTEXT);
    msg.extend_from_slice(unsigned);
    msg
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handle::Handle;
    use crate::identity::InboxSecretKey;

    fn record(
        seed: u8,
        handle: &str,
        version: u64,
        created: u64,
    ) -> (IdentitySecretKey, SignedRecord) {
        let sk = IdentitySecretKey::from_bytes(&[seed; 32]);
        let signed = DirectoryRecord {
            handle: Handle::parse(handle).unwrap(),
            identity_key: sk.public_key(),
            inbox_key: InboxSecretKey::from_bytes([seed; 32]).public_key(),
            record_version: version,
            created_at_ms: created,
        }
        .sign(&sk)
        .unwrap();
        (sk, signed)
    }

    #[test]
    fn a_rotation_round_trips_and_names_both_records() {
        let (old_sk, old) = record(1, "alice", 1, 10);
        let (_, new) = record(2, "alice", 2, 20);
        let rotation = Rotation::sign(&old, &new, &old_sk).unwrap();
        let decoded = Rotation::decode_and_verify(rotation.as_bytes()).unwrap();
        assert_eq!(decoded, rotation);
        assert_eq!(decoded.old(), &old);
        assert_eq!(decoded.new_record(), &new);
    }

    #[test]
    fn only_the_old_key_endorses_a_newer_record_of_the_same_handle() {
        let (old_sk, old) = record(1, "alice", 5, 10);
        let (new_sk, new) = record(2, "alice", 6, 20);
        assert_eq!(
            Rotation::sign(&old, &new, &new_sk),
            Err(RotationError::KeyMismatch)
        );
        let (_, same_version) = record(2, "alice", 5, 20);
        assert_eq!(
            Rotation::sign(&old, &same_version, &old_sk),
            Err(RotationError::NotNewer)
        );
        let (_, earlier) = record(2, "alice", 6, 9);
        assert_eq!(
            Rotation::sign(&old, &earlier, &old_sk),
            Err(RotationError::NotNewer)
        );
        let (_, other) = record(2, "bob", 6, 20);
        assert_eq!(
            Rotation::sign(&old, &other, &old_sk),
            Err(RotationError::HandleMismatch)
        );

        // A signature by the new key in place of the old one's.
        let mut forged = Rotation::sign(&old, &new, &old_sk)
            .unwrap()
            .as_bytes()
            .to_vec();
        let unsigned_len = forged.len() - SIGNATURE_LEN;
        let signature = new_sk.sign(&signed_message(&forged[..unsigned_len]));
        forged[unsigned_len..].copy_from_slice(&signature);
        assert_eq!(
            Rotation::decode_and_verify(&forged),
            Err(RotationError::BadSignature)
        );
    }

    #[test]
    fn malformed_rotations_are_typed_errors() {
        let (old_sk, old) = record(1, "alice", 1, 10);
        let (_, new) = record(2, "alice", 2, 20);
        let good = Rotation::sign(&old, &new, &old_sk)
            .unwrap()
            .as_bytes()
            .to_vec();
        assert_eq!(
            Rotation::decode_and_verify(&[]),
            Err(RotationError::Truncated)
        );
        assert_eq!(
            Rotation::decode_and_verify(&[9]),
            Err(RotationError::UnknownVersion(9))
        );
        for cut in [1, 3, good.len() / 2, good.len() - 1] {
            assert!(
                Rotation::decode_and_verify(&good[..cut]).is_err(),
                "cut at {cut}"
            );
        }
        let mut long = good.clone();
        long.push(0);
        assert_eq!(
            Rotation::decode_and_verify(&long),
            Err(RotationError::TrailingBytes)
        );
        let mut flipped = good;
        flipped[10] ^= 1;
        assert!(matches!(
            Rotation::decode_and_verify(&flipped),
            Err(RotationError::Record(_))
        ));
        assert_eq!(
            Rotation::decode_and_verify(&vec![1; MAX_ROTATION_LEN + 1]),
            Err(RotationError::TooLong)
        );
    }

    #[test]
    fn a_chain_links_the_pin_to_the_record_served_and_nothing_else() {
        let (sk1, r1) = record(1, "alice", 1, 10);
        let (sk2, r2) = record(2, "alice", 2, 20);
        let (_, r3) = record(3, "alice", 3, 30);
        let (_, stranger) = record(4, "alice", 3, 30);
        let a = Rotation::sign(&r1, &r2, &sk1).unwrap();
        let b = Rotation::sign(&r2, &r3, &sk2).unwrap();
        let chain = [a.clone(), b.clone()];
        let pin1 = r1.record().identity_key;
        let pin2 = r2.record().identity_key;
        assert_eq!(follow_chain(&pin1, &chain, &r3), Ok(()));
        assert_eq!(follow_chain(&pin2, &chain, &r3), Ok(()));
        assert_eq!(follow_chain(&pin1, &chain[..1], &r2), Ok(()));
        // A record the chain does not reach, a broken chain, a pin it never mentions.
        assert_eq!(
            follow_chain(&pin1, &chain, &stranger),
            Err(RotationError::Unlinked)
        );
        assert_eq!(
            follow_chain(&pin1, &[b.clone(), a], &r3),
            Err(RotationError::Unlinked)
        );
        let pin4 = stranger.record().identity_key;
        assert_eq!(
            follow_chain(&pin4, &chain, &r3),
            Err(RotationError::Unlinked)
        );
        let long = vec![b; MAX_CHAIN_LEN + 1];
        assert_eq!(follow_chain(&pin2, &long, &r3), Err(RotationError::TooLong));
    }
}
