//! The engine itself: who we are (handle, signer), the provider holding all group state,
//! state persistence and the shared helpers of the group operations.

use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, GroupId as MlsGroupId, MlsGroup,
    MlsGroupJoinConfig, SignatureScheme, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider;
use zeroize::Zeroizing;

use super::errors::MlsError;
use super::storage::Provider;
use super::GroupId;
use crate::access::{AccessKey, ACCESS_EXPORTER_LABEL, ACCESS_SECRET_LEN};
use crate::handle::Handle;
use crate::identity::{IdentityPublicKey, IdentitySecretKey};

/// The one ciphersuite Parley speaks.
pub(crate) const SUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

/// PrivateMessage content is padded to a multiple of this many bytes, on top of the
/// size-bucket padding of the frame.
const PADDING_SIZE: usize = 64;
/// Past epochs whose application messages can still be read. A hostile relay (or a slow
/// sender) can serve a message after the commit that closed its epoch; without these keys it
/// would be lost. The store keeps decrypted history anyway, so the keys reveal nothing a
/// seized laptop would not already show.
pub(crate) const PAST_EPOCHS: usize = 3;

/// The conversation engine: one per local identity. It owns the OpenMLS provider (RustCrypto
/// and an in-memory key/value storage) and the signer, and never hands OpenMLS types out.
///
/// Every operation loads the group from the storage and writes back through it, so the
/// storage is the only state: `discard_changes` rolls everything back consistently.
pub struct Mls {
    pub(crate) handle: Handle,
    pub(crate) identity_key: IdentityPublicKey,
    pub(crate) signer: SignatureKeyPair,
    /// The identity replaced by a key rotation, kept while some group still has our leaf
    /// on it: that group's next commit of ours (the move) must be signed by it.
    pub(crate) previous: Option<(IdentityPublicKey, SignatureKeyPair)>,
    pub(crate) provider: Provider,
}

impl Mls {
    /// Builds the engine for `handle` with `identity` as leaf signature key.
    ///
    /// `state`: the key/value pairs previously returned by [`Mls::take_changes`] (the caller
    /// persists them); empty for a fresh identity.
    pub fn new(
        handle: Handle,
        identity: &IdentitySecretKey,
        state: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<Mls, MlsError> {
        Ok(Mls {
            handle,
            identity_key: identity.public_key(),
            signer: signer_of(identity),
            previous: None,
            provider: Provider::new(state),
        })
    }

    /// Also keeps `previous`, the identity a key rotation replaced, to sign the commits that
    /// move our leaf in each group from it to the current one.
    pub fn with_previous_identity(mut self, previous: &IdentitySecretKey) -> Mls {
        self.previous = Some((previous.public_key(), signer_of(previous)));
        self
    }

    /// Takes `new` as our identity from now on (after a key rotation); the one it replaces
    /// is kept as the previous identity (see [`Mls::with_previous_identity`]).
    pub fn replace_identity(&mut self, new: &IdentitySecretKey) {
        let old = std::mem::replace(&mut self.signer, signer_of(new));
        self.previous = Some((self.identity_key, old));
        self.identity_key = new.public_key();
    }

    /// Forgets the previous identity: groups still on it can no longer be moved (nor sent to).
    pub fn forget_previous_identity(&mut self) {
        self.previous = None;
    }

    /// The signer of our leaf in `group`: the previous identity's while the group has not
    /// been moved to the current one.
    pub(crate) fn signer_for(&self, group: &MlsGroup) -> &SignatureKeyPair {
        match (&self.previous, group.own_leaf_node()) {
            (Some((key, signer)), Some(leaf))
                if leaf.signature_key().as_slice() == key.to_bytes().as_slice() =>
            {
                signer
            }
            _ => &self.signer,
        }
    }

    /// Key/value writes since the last call (`None` = delete). The caller persists them
    /// atomically with whatever else the operation changed (history, cursors).
    pub fn take_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.provider.take_changes()
    }

    /// Drops changes not yet taken, restoring the state as of the last
    /// [`Mls::take_changes`] (used when an operation must be abandoned, e.g. the relay
    /// refused a commit).
    pub fn discard_changes(&mut self) {
        self.provider.discard_changes();
    }

    /// Our handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Whether a group with this id is stored.
    pub fn has_group(&self, group_id: &GroupId) -> bool {
        self.load(group_id).is_ok()
    }

    /// Our credential and leaf signature key.
    pub(crate) fn credential(&self) -> CredentialWithKey {
        CredentialWithKey {
            credential: BasicCredential::new(self.handle.as_bytes().to_vec()).into(),
            signature_key: self.identity_key.to_bytes().to_vec().into(),
        }
    }

    /// The group's stored state.
    pub(crate) fn load(&self, group_id: &GroupId) -> Result<MlsGroup, MlsError> {
        MlsGroup::load(self.provider.storage(), &MlsGroupId::from_slice(group_id))?
            .ok_or(MlsError::UnknownGroup)
    }

    /// The stored state of a group we are still a member of.
    pub(crate) fn load_active(&self, group_id: &GroupId) -> Result<MlsGroup, MlsError> {
        let group = self.load(group_id)?;
        if group.is_active() {
            Ok(group)
        } else {
            Err(MlsError::NotAMember)
        }
    }
}

/// An OpenMLS signer for an identity key. RustCrypto's Ed25519 signer takes the 32-byte
/// seed as private key (the encoding ed25519-dalek's SigningKey::from_bytes uses) and the raw
/// public key.
fn signer_of(identity: &IdentitySecretKey) -> SignatureKeyPair {
    let seed: Zeroizing<[u8; 32]> = identity.to_bytes();
    SignatureKeyPair::from_raw(
        SignatureScheme::ED25519,
        seed.to_vec(),
        identity.public_key().to_bytes().to_vec(),
    )
}

/// How we take part in every group, whether we created it or joined it.
pub(crate) fn join_config() -> MlsGroupJoinConfig {
    join_config_keeping(PAST_EPOCHS)
}

/// [`join_config`] with the secrets of `past_epochs` past epochs kept.
pub(crate) fn join_config_keeping(past_epochs: usize) -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING_SIZE)
        .max_past_epochs(past_epochs)
        .use_ratchet_tree_extension(true)
        .build()
}

/// The relay access key of an epoch from an exporter (the group's, or a staged commit's).
pub(crate) fn access_key_from(
    export: impl FnOnce(&str, &[u8], usize) -> Result<Vec<u8>, MlsError>,
    group_id: &GroupId,
) -> Result<AccessKey, MlsError> {
    let secret = Zeroizing::new(export(ACCESS_EXPORTER_LABEL, group_id, ACCESS_SECRET_LEN)?);
    let seed: Zeroizing<[u8; ACCESS_SECRET_LEN]> = Zeroizing::new(
        secret
            .as_slice()
            .try_into()
            .map_err(|_| MlsError::Internal("exporter"))?,
    );
    Ok(AccessKey::from_exporter_secret(&seed))
}

/// A group id as the engine exposes it; Parley's ids are always 32 bytes.
pub(crate) fn group_id_of(id: &MlsGroupId) -> Result<GroupId, MlsError> {
    id.as_slice().try_into().map_err(|_| MlsError::Malformed)
}
