//! What the hostile-member tests share: honest members (Parley's engine), and mallory, a
//! member whose software is OpenMLS driven by hand, so that she can commit what Parley's own
//! engine would refuse to make.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openmls::prelude::tls_codec::{Deserialize, Serialize};
use openmls::prelude::{
    BasicCredential, Capabilities, Ciphersuite, CredentialWithKey, ExtensionType, Extensions,
    GroupContext, KeyPackage, LeafNodeIndex, MlsGroup, MlsGroupJoinConfig, MlsMessageBodyIn,
    MlsMessageIn, MlsMessageOut, ProtocolVersion, StagedWelcome,
    PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::{GroupId, Mls, MlsError};
use parley_crypto::padding;
use parley_crypto::retention::RETENTION_EXTENSION_TYPE;
use parley_crypto::roles::ROLES_EXTENSION_TYPE;
use parley_crypto::workshop::WORKSHOP_EXTENSION_TYPE;
use rand::rngs::StdRng;
use rand::SeedableRng;

pub(crate) const SUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

pub(crate) fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

pub(crate) fn honest(name: &str, seed: u64) -> Mls {
    let secret = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed));
    Mls::new(handle(name), &secret, Vec::new()).unwrap()
}

pub(crate) fn frame(message: &MlsMessageOut) -> Vec<u8> {
    padding::pad(&message.tls_serialize_detached().unwrap(), 0).unwrap()
}

pub(crate) fn key_package_of(mls: &mut Mls) -> Vec<u8> {
    mls.generate_key_packages(1, false, now_ms())
        .unwrap()
        .remove(0)
}

/// mallory: a member whose software is OpenMLS driven by hand.
pub(crate) struct Mallory {
    pub(crate) provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    name: &'static str,
    group: Option<MlsGroup>,
}

impl Mallory {
    pub(crate) fn new() -> Mallory {
        Mallory::named("mallory")
    }

    /// A member called `name` (her leaf's handle).
    pub(crate) fn named(name: &'static str) -> Mallory {
        Mallory {
            provider: OpenMlsRustCrypto::default(),
            signer: SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap(),
            name,
            group: None,
        }
    }

    /// A KeyPackage as Parley's would be: her handle, Parley's extensions among her
    /// capabilities.
    pub(crate) fn key_package(&self) -> Vec<u8> {
        let credential = CredentialWithKey {
            credential: BasicCredential::new(self.name.as_bytes().to_vec()).into(),
            signature_key: self.signer.public().to_vec().into(),
        };
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(
                Capabilities::builder()
                    .extensions(vec![
                        ExtensionType::Unknown(RETENTION_EXTENSION_TYPE),
                        ExtensionType::Unknown(ROLES_EXTENSION_TYPE),
                        ExtensionType::Unknown(WORKSHOP_EXTENSION_TYPE),
                    ])
                    .build(),
            )
            .build(SUITE, &self.provider, &self.signer, credential)
            .unwrap();
        frame(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    pub(crate) fn join(&mut self, welcome: &[u8]) {
        let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(welcome)
            .unwrap()
            .extract()
        else {
            panic!("not a Welcome")
        };
        let config = MlsGroupJoinConfig::builder()
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .build();
        let group = StagedWelcome::new_from_welcome(&self.provider, &config, welcome, None)
            .unwrap()
            .into_group(&self.provider)
            .unwrap();
        self.group = Some(group);
    }

    pub(crate) fn group(&mut self) -> &mut MlsGroup {
        self.group.as_mut().unwrap()
    }

    /// Processes and merges an honest member's commit.
    pub(crate) fn apply(&mut self, commit: &[u8]) {
        let bytes = padding::unpad_exact(commit, 0).unwrap();
        let message = MlsMessageIn::tls_deserialize_exact(bytes)
            .unwrap()
            .try_into_protocol_message()
            .unwrap();
        let processed = self
            .group
            .as_mut()
            .unwrap()
            .process_message(&self.provider, message)
            .unwrap();
        let openmls::prelude::ProcessedMessageContent::StagedCommitMessage(staged) =
            processed.into_content()
        else {
            panic!("not a commit")
        };
        self.group
            .as_mut()
            .unwrap()
            .merge_staged_commit(&self.provider, *staged)
            .unwrap();
    }

    /// A commit with these proposals; left pending, so the next one starts from the same
    /// epoch.
    pub(crate) fn commit(
        &mut self,
        removals: Vec<LeafNodeIndex>,
        adds: Vec<KeyPackage>,
        extensions: Option<Extensions<GroupContext>>,
    ) -> Vec<u8> {
        let Mallory {
            provider,
            signer,
            group,
            ..
        } = self;
        let group = group.as_mut().unwrap();
        let mut builder = group
            .commit_builder()
            .propose_removals(removals)
            .propose_adds(adds);
        if let Some(extensions) = extensions {
            builder = builder
                .propose_group_context_extensions(extensions)
                .unwrap();
        }
        let bundle = builder
            .load_psks(provider.storage())
            .unwrap()
            .build(provider.rand(), provider.crypto(), &*signer, |_| true)
            .unwrap()
            .stage_commit(&*provider)
            .unwrap();
        let (commit, _, _) = bundle.into_messages();
        group.clear_pending_commit(provider.storage()).unwrap();
        frame(&commit)
    }

    pub(crate) fn leaf_of(&mut self, name: &str) -> LeafNodeIndex {
        self.group()
            .members()
            .find(|m| {
                BasicCredential::try_from(m.credential.clone())
                    .is_ok_and(|c| c.identity() == name.as_bytes())
            })
            .unwrap()
            .index
    }
}

pub(crate) fn validated(bytes: &[u8], provider: &OpenMlsRustCrypto) -> KeyPackage {
    let bytes = padding::unpad_exact(bytes, 0).unwrap();
    let MlsMessageBodyIn::KeyPackage(package) = MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap()
        .extract()
    else {
        panic!("not a KeyPackage")
    };
    package
        .validate(provider.crypto(), ProtocolVersion::Mls10)
        .unwrap()
}

/// Asserts that `member` refuses `commit` to `group` with one of `refusals` and stays at its
/// epoch.
pub(crate) fn refused_in(
    group: &GroupId,
    member: &mut Mls,
    commit: &[u8],
    what: &str,
    refusal: fn(&MlsError) -> bool,
) {
    let epoch = member.epoch(group).unwrap();
    match member.process(group, commit) {
        Err(e) if refusal(&e) => {}
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
    member.discard_changes();
    assert_eq!(member.epoch(group).unwrap(), epoch, "{what}: moved on");
}
