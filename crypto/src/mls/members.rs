//! Group members as Parley sees them: a handle (from the leaf's BasicCredential) and an
//! identity key (the leaf's signature key).

use openmls::prelude::{BasicCredential, Credential, LeafNode};

use super::errors::MlsError;
use crate::handle::Handle;
use crate::identity::IdentityPublicKey;

/// A member of a group (or the owner of a KeyPackage).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// The handle the leaf's credential claims. The client checks it against the identity
    /// key it pinned for that handle.
    pub handle: Handle,
    /// The leaf's signature key, which is the member's Ed25519 identity key.
    pub identity_key: IdentityPublicKey,
}

impl Member {
    /// Builds a member from a leaf's credential and signature key; anything but a
    /// BasicCredential with a valid handle and a valid 32-byte Ed25519 key is rejected.
    pub(crate) fn from_parts(
        credential: &Credential,
        signature_key: &[u8],
    ) -> Result<Self, MlsError> {
        let basic = BasicCredential::try_from(credential.clone())
            .map_err(|_| MlsError::InvalidCredential)?;
        let handle =
            Handle::from_bytes(basic.identity()).map_err(|_| MlsError::InvalidCredential)?;
        let key: &[u8; 32] = signature_key
            .try_into()
            .map_err(|_| MlsError::InvalidCredential)?;
        let identity_key =
            IdentityPublicKey::from_bytes(key).map_err(|_| MlsError::InvalidCredential)?;
        Ok(Member {
            handle,
            identity_key,
        })
    }

    /// The member a leaf node describes.
    pub(crate) fn from_leaf(leaf: &LeafNode) -> Result<Self, MlsError> {
        Member::from_parts(leaf.credential(), leaf.signature_key().as_slice())
    }

    /// The member an OpenMLS group member entry describes.
    pub(crate) fn from_openmls(member: &openmls::prelude::Member) -> Result<Self, MlsError> {
        Member::from_parts(&member.credential, &member.signature_key)
    }
}

/// All members of a tree, in leaf order; one bad credential fails the whole list, because a
/// group with an unidentifiable member must not be used.
pub(crate) fn collect_members(
    members: impl Iterator<Item = openmls::prelude::Member>,
) -> Result<Vec<Member>, MlsError> {
    members.map(|m| Member::from_openmls(&m)).collect()
}
