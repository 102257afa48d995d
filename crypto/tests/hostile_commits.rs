//! A member running modified software (mallory, driving OpenMLS directly) commits what an
//! honest Parley client never would: a retention change folded into a commit that also adds
//! someone, a group context that brings in more than the retention (an external sender,
//! who could then inject proposals), a retention no client writes. Every honest member refuses such a commit and stays
//! where it was; the same member's plain retention change, made the same way, is accepted,
//! so the refusals are for what the commits hold, not for how they were made.

#![cfg(feature = "mls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openmls::prelude::tls_codec::{Deserialize, Serialize};
use openmls::prelude::{
    BasicCredential, Capabilities, Ciphersuite, CredentialWithKey, Extension, ExtensionType,
    Extensions, ExternalSender, GroupContext, KeyPackage, MlsGroup, MlsGroupCreateConfig,
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, ProtocolVersion, RequiredCapabilitiesExtension,
    UnknownExtension, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::{GroupId, Incoming, Mls, MlsError};
use parley_crypto::padding;
use parley_crypto::retention::{Retention, RETENTION_EXTENSION_TYPE};
use rand::rngs::StdRng;
use rand::SeedableRng;

const GROUP: GroupId = [9u8; 32];
const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// An honest member: Parley's engine.
fn honest(name: &str, seed: u64) -> Mls {
    let secret = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed));
    Mls::new(Handle::parse(name).unwrap(), &secret, Vec::new()).unwrap()
}

fn key_package_of(mls: &mut Mls, provider: &OpenMlsRustCrypto) -> KeyPackage {
    let frame = mls
        .generate_key_packages(1, false, now_ms())
        .unwrap()
        .remove(0);
    let bytes = padding::unpad_exact(&frame, 0).unwrap();
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

fn frame(message: &MlsMessageOut) -> Vec<u8> {
    padding::pad(&message.tls_serialize_detached().unwrap(), 0).unwrap()
}

fn required() -> Extension {
    Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
        &[ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)],
        &[],
        &[],
    ))
}

fn retention(text: &str) -> Extension {
    let value = Retention::parse(text).unwrap();
    Extension::Unknown(
        RETENTION_EXTENSION_TYPE,
        UnknownExtension(value.encode().to_vec()),
    )
}

fn context(extensions: Vec<Extension>) -> Extensions<GroupContext> {
    Extensions::from_vec(extensions).unwrap()
}

/// mallory: a group member whose software is OpenMLS driven by hand.
struct Mallory {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    group: MlsGroup,
}

impl Mallory {
    /// Creates the group with a 7-day retention, as a Parley client would.
    fn create() -> Mallory {
        let provider = OpenMlsRustCrypto::default();
        let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(b"mallory".to_vec()).into(),
            signature_key: signer.public().to_vec().into(),
        };
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(SUITE)
            .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
            .use_ratchet_tree_extension(true)
            .capabilities(
                Capabilities::builder()
                    .extensions(vec![ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)])
                    .build(),
            )
            .with_group_context_extensions(context(vec![required(), retention("7d")]))
            .build();
        let group = MlsGroup::new_with_group_id(
            &provider,
            &signer,
            &config,
            openmls::group::GroupId::from_slice(&GROUP),
            credential,
        )
        .unwrap();
        Mallory {
            provider,
            signer,
            group,
        }
    }

    /// Adds `package`'s owner the ordinary way; returns the Welcome (unpadded: an invitation
    /// pads it).
    fn add(&mut self, package: KeyPackage) -> Vec<u8> {
        let (_, welcome, _) = self
            .group
            .add_members(&self.provider, &self.signer, &[package])
            .unwrap();
        self.group.merge_pending_commit(&self.provider).unwrap();
        welcome.tls_serialize_detached().unwrap()
    }

    /// A commit of a new group context, with `package`'s owner added in the same commit if
    /// given; left pending (not merged), so the next one starts from the same epoch.
    fn commit(&mut self, extensions: Vec<Extension>, package: Option<KeyPackage>) -> Vec<u8> {
        let bundle = self
            .group
            .commit_builder()
            .propose_adds(package)
            .propose_group_context_extensions(context(extensions))
            .unwrap()
            .load_psks(self.provider.storage())
            .unwrap()
            .build(
                self.provider.rand(),
                self.provider.crypto(),
                &self.signer,
                |_| true,
            )
            .unwrap()
            .stage_commit(&self.provider)
            .unwrap();
        let (commit, _, _) = bundle.into_messages();
        self.group
            .clear_pending_commit(self.provider.storage())
            .unwrap();
        frame(&commit)
    }
}

#[test]
fn a_commit_that_does_more_than_change_the_retention_is_refused_by_an_honest_member() {
    let mut bob = honest("bob", 2);
    let mut carol = honest("carol", 3);
    let mut mallory = Mallory::create();
    let welcome = mallory.add(key_package_of(&mut bob, &mallory.provider));
    let staged = bob.stage_welcome(&welcome).unwrap();
    assert_eq!(bob.join(staged).unwrap(), GROUP);
    // What a client stores after joining; a refused commit's changes are discarded back to it.
    let _ = bob.take_changes();
    let epoch = bob.epoch(&GROUP).unwrap();
    assert_eq!(
        bob.retention(&GROUP).unwrap(),
        Retention::parse("7d").unwrap()
    );

    // A retention change and an addition in one commit: the addition would not be announced
    // as such, hidden behind the retention notice.
    let carols = key_package_of(&mut carol, &mallory.provider);
    let mixed = mallory.commit(vec![required(), retention("1h")], Some(carols));
    // A retention change that also installs an external sender, who could then propose
    // additions and removals from outside the group.
    let outsider = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
    let sender = ExternalSender::new(
        outsider.public().to_vec().into(),
        BasicCredential::new(b"outsider".to_vec()).into(),
    );
    let smuggling = mallory.commit(
        vec![
            required(),
            retention("1h"),
            Extension::ExternalSenders(vec![sender]),
        ],
        None,
    );
    // Retentions no honest client writes: undecodable, and under the one-minute minimum.
    let garbled = Extension::Unknown(RETENTION_EXTENSION_TYPE, UnknownExtension(vec![1, 2, 3]));
    let garbled = mallory.commit(vec![required(), garbled], None);
    let seconds = Extension::Unknown(
        RETENTION_EXTENSION_TYPE,
        UnknownExtension(30u64.to_be_bytes().to_vec()),
    );
    let seconds = mallory.commit(vec![required(), seconds], None);

    for (what, commit) in [
        ("retention + add", &mixed),
        ("retention + external sender", &smuggling),
        ("undecodable retention", &garbled),
        ("retention of 30 s", &seconds),
    ] {
        match bob.process(&GROUP, commit) {
            Err(MlsError::UnsupportedProposal | MlsError::InvalidRetention) => {}
            other => panic!("{what}: expected a refusal, got {other:?}"),
        }
        bob.discard_changes();
        assert_eq!(bob.epoch(&GROUP).unwrap(), epoch, "{what}: bob moved on");
        assert_eq!(
            bob.retention(&GROUP).unwrap(),
            Retention::parse("7d").unwrap(),
            "{what}"
        );
    }

    // The same member's plain retention change, made the same way, goes through.
    let plain = mallory.commit(vec![required(), retention("1h")], None);
    let Incoming::Commit(commit) = bob.process(&GROUP, &plain).unwrap() else {
        panic!("not a commit")
    };
    assert_eq!(commit.retention(), Some(Retention::parse("1h").unwrap()));
    assert!(commit.added().is_empty());
    bob.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(bob.epoch(&GROUP).unwrap(), epoch + 1);
    assert_eq!(
        bob.retention(&GROUP).unwrap(),
        Retention::parse("1h").unwrap()
    );
}
