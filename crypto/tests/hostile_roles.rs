//! A member who is not an admin, running modified software (mallory, driving OpenMLS
//! directly), commits what Parley lets only admins commit: removing someone, adding someone,
//! making herself an admin. Every honest member refuses each and stays where it was. Once the
//! admin promotes her, the same removal, made the same way, goes through, so the refusals are
//! for who sent the commits, not for how they were made; and even as an admin she cannot
//! name a non-member as admin nor drop the group's admins.

#![cfg(feature = "mls")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use openmls::prelude::tls_codec::{Deserialize, Serialize};
use openmls::prelude::{
    BasicCredential, Capabilities, Ciphersuite, CredentialWithKey, Extension, ExtensionType,
    Extensions, GroupContext, KeyPackage, LeafNodeIndex, MlsGroup, MlsGroupJoinConfig,
    MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, ProtocolVersion, RequiredCapabilitiesExtension,
    StagedWelcome, UnknownExtension, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::{GroupId, Incoming, Mls, MlsError};
use parley_crypto::padding;
use parley_crypto::retention::{Retention, RETENTION_EXTENSION_TYPE};
use parley_crypto::roles::{GroupRoles, ROLES_EXTENSION_TYPE};
use rand::rngs::StdRng;
use rand::SeedableRng;

const GROUP: GroupId = [7u8; 32];
const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

fn honest(name: &str, seed: u64) -> Mls {
    let secret = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed));
    Mls::new(handle(name), &secret, Vec::new()).unwrap()
}

fn frame(message: &MlsMessageOut) -> Vec<u8> {
    padding::pad(&message.tls_serialize_detached().unwrap(), 0).unwrap()
}

fn key_package_of(mls: &mut Mls) -> Vec<u8> {
    mls.generate_key_packages(1, false, now_ms())
        .unwrap()
        .remove(0)
}

/// The group context Parley writes for a group with admins.
fn context(roles: Option<&GroupRoles>) -> Extensions<GroupContext> {
    let mut required = vec![ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)];
    let mut extensions = Vec::new();
    if let Some(roles) = roles {
        required.push(ExtensionType::Unknown(ROLES_EXTENSION_TYPE));
        extensions.push(Extension::Unknown(
            ROLES_EXTENSION_TYPE,
            UnknownExtension(roles.encode()),
        ));
    }
    extensions.insert(
        0,
        Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(&required, &[], &[])),
    );
    Extensions::from_vec(extensions).unwrap()
}

/// mallory: a member whose software is OpenMLS driven by hand.
struct Mallory {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    group: Option<MlsGroup>,
}

impl Mallory {
    fn new() -> Mallory {
        Mallory {
            provider: OpenMlsRustCrypto::default(),
            signer: SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap(),
            group: None,
        }
    }

    /// A KeyPackage as Parley's would be: her handle, both extensions among her capabilities.
    fn key_package(&self) -> Vec<u8> {
        let credential = CredentialWithKey {
            credential: BasicCredential::new(b"mallory".to_vec()).into(),
            signature_key: self.signer.public().to_vec().into(),
        };
        let bundle = KeyPackage::builder()
            .leaf_node_capabilities(
                Capabilities::builder()
                    .extensions(vec![
                        ExtensionType::Unknown(RETENTION_EXTENSION_TYPE),
                        ExtensionType::Unknown(ROLES_EXTENSION_TYPE),
                    ])
                    .build(),
            )
            .build(SUITE, &self.provider, &self.signer, credential)
            .unwrap();
        frame(&MlsMessageOut::from(bundle.key_package().clone()))
    }

    fn join(&mut self, welcome: &[u8]) {
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

    fn group(&mut self) -> &mut MlsGroup {
        self.group.as_mut().unwrap()
    }

    /// Processes and merges an honest member's commit.
    fn apply(&mut self, commit: &[u8]) {
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
    fn commit(
        &mut self,
        removals: Vec<LeafNodeIndex>,
        adds: Vec<KeyPackage>,
        extensions: Option<Extensions<GroupContext>>,
    ) -> Vec<u8> {
        let Mallory {
            provider,
            signer,
            group,
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

    fn leaf_of(&mut self, name: &str) -> LeafNodeIndex {
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

fn validated(bytes: &[u8], provider: &OpenMlsRustCrypto) -> KeyPackage {
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

/// Asserts that `member` refuses `commit` with one of `refusals` and stays at its epoch.
fn refused(member: &mut Mls, commit: &[u8], what: &str, refusal: fn(&MlsError) -> bool) {
    let epoch = member.epoch(&GROUP).unwrap();
    match member.process(&GROUP, commit) {
        Err(e) if refusal(&e) => {}
        other => panic!("{what}: expected a refusal, got {other:?}"),
    }
    member.discard_changes();
    assert_eq!(member.epoch(&GROUP).unwrap(), epoch, "{what}: moved on");
}

#[test]
fn only_an_admin_changes_the_room_and_every_member_refuses_anyone_else() {
    let mut alice = honest("alice", 1);
    let mut bob = honest("bob", 2);
    let mut carol = honest("carol", 3);
    let mut dave = honest("dave", 4);
    let mut mallory = Mallory::new();
    alice.create_group(GROUP, Retention::Off).unwrap();
    assert_eq!(alice.admins(&GROUP).unwrap(), Some(vec![handle("alice")]));
    let packages = vec![
        key_package_of(&mut bob),
        key_package_of(&mut carol),
        mallory.key_package(),
    ];
    let _ = bob.take_changes();
    let _ = carol.take_changes();
    let out = alice.add_members(&GROUP, &packages).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    // What a client stores; a refused commit's changes are discarded back to it.
    let _ = alice.take_changes();
    let welcome = out.welcome.unwrap();
    for member in [&mut bob, &mut carol] {
        let staged = member.stage_welcome(&welcome).unwrap();
        member.join(staged).unwrap();
        let _ = member.take_changes();
    }
    mallory.join(&welcome);

    // Parley's own engine refuses a non-admin's change before it is made.
    let daves = key_package_of(&mut dave);
    assert!(matches!(
        bob.add_members(&GROUP, std::slice::from_ref(&daves)),
        Err(MlsError::NotAdmin(who)) if who == handle("bob")
    ));
    assert!(matches!(
        bob.remove_members(&GROUP, &[handle("carol")]),
        Err(MlsError::NotAdmin(_))
    ));
    assert!(matches!(
        bob.promote(&GROUP, &handle("bob")),
        Err(MlsError::NotAdmin(_))
    ));
    bob.discard_changes();

    // mallory's software makes them anyway; every honest member refuses them.
    let carol_leaf = mallory.leaf_of("carol");
    let remove_carol = mallory.commit(vec![carol_leaf], vec![], None);
    let add_dave = mallory.commit(vec![], vec![validated(&daves, &mallory.provider)], None);
    let mallory_roles = GroupRoles::created_by(handle("alice"))
        .with_admin(handle("mallory"))
        .unwrap();
    let self_promotion = mallory.commit(vec![], vec![], Some(context(Some(&mallory_roles))));
    for member in [&mut alice, &mut bob, &mut carol] {
        for (what, commit) in [
            ("removal by a non-admin", &remove_carol),
            ("addition by a non-admin", &add_dave),
            ("self-promotion", &self_promotion),
        ] {
            refused(
                member,
                commit,
                what,
                |e| matches!(e, MlsError::NotAdmin(who) if *who == handle("mallory")),
            );
        }
    }

    // The admin promotes her; everyone (her software too) takes it.
    let promotion = alice.promote(&GROUP, &handle("mallory")).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    for member in [&mut bob, &mut carol] {
        let Incoming::Commit(commit) = member.process(&GROUP, &promotion.commit).unwrap() else {
            panic!("not a commit")
        };
        assert_eq!(commit.promoted(), [handle("mallory")]);
        member.merge_incoming_commit(&GROUP, commit).unwrap();
        let _ = member.take_changes();
    }
    mallory.apply(&promotion.commit);

    // As an admin she still cannot name a non-member admin, nor drop the group's roles.
    let outsider_roles = mallory_roles.with_admin(handle("zed")).unwrap();
    let outsider = mallory.commit(vec![], vec![], Some(context(Some(&outsider_roles))));
    let no_roles = mallory.commit(vec![], vec![], Some(context(None)));
    let without_alice = mallory.commit(
        vec![],
        vec![],
        Some(context(Some(&GroupRoles::created_by(handle("mallory"))))),
    );
    // Removing an admin while keeping her listed would leave a non-member admin.
    let alice_leaf = mallory.leaf_of("alice");
    let stale_admin = mallory.commit(vec![alice_leaf], vec![], None);
    for member in [&mut bob, &mut carol] {
        refused(member, &outsider, "a non-member admin", |e| {
            matches!(e, MlsError::AdminsNotMembers)
        });
        refused(member, &no_roles, "dropping the roles", |e| {
            matches!(e, MlsError::UnsupportedProposal)
        });
        refused(member, &stale_admin, "a removed admin kept", |e| {
            matches!(e, MlsError::AdminsNotMembers)
        });
    }

    // Demoting another admin is an admin's right; the same removal of carol now goes through.
    let Incoming::Commit(commit) = bob.process(&GROUP, &without_alice).unwrap() else {
        panic!("not a commit")
    };
    assert!(commit.promoted().is_empty());
    bob.discard_changes();
    let carol_leaf = mallory.leaf_of("carol");
    let remove_carol = mallory.commit(vec![carol_leaf], vec![], None);
    let Incoming::Commit(commit) = bob.process(&GROUP, &remove_carol).unwrap() else {
        panic!("not a commit")
    };
    assert_eq!(commit.removed().len(), 1);
    assert_eq!(commit.removed()[0].handle, handle("carol"));
    bob.merge_incoming_commit(&GROUP, commit).unwrap();
}

#[test]
fn an_admin_removed_stops_being_one_in_the_same_commit() {
    let mut alice = honest("alice", 11);
    let mut bob = honest("bob", 12);
    let mut carol = honest("carol", 13);
    alice.create_group(GROUP, Retention::Off).unwrap();
    let packages = vec![key_package_of(&mut bob), key_package_of(&mut carol)];
    let out = alice.add_members(&GROUP, &packages).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    for member in [&mut bob, &mut carol] {
        let staged = member.stage_welcome(out.welcome.as_ref().unwrap()).unwrap();
        member.join(staged).unwrap();
    }
    let promote = alice.promote(&GROUP, &handle("bob")).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    for member in [&mut bob, &mut carol] {
        let Incoming::Commit(commit) = member.process(&GROUP, &promote.commit).unwrap() else {
            panic!("not a commit")
        };
        member.merge_incoming_commit(&GROUP, commit).unwrap();
    }
    assert_eq!(
        carol.admins(&GROUP).unwrap(),
        Some(vec![handle("alice"), handle("bob")])
    );

    let removal = alice.remove_members(&GROUP, &[handle("bob")]).unwrap();
    alice.merge_own_commit(&GROUP).unwrap();
    let Incoming::Commit(commit) = carol.process(&GROUP, &removal.commit).unwrap() else {
        panic!("not a commit")
    };
    carol.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(carol.admins(&GROUP).unwrap(), Some(vec![handle("alice")]));
    assert_eq!(alice.admins(&GROUP).unwrap(), Some(vec![handle("alice")]));
}
