//! The MLS engine against raw OpenMLS 0.9 on a group of the same size, in one run, at 2, 10,
//! 100 and 1000 members: what Parley's checks (admin and roster rules, KeyPackage parsing
//! and lifetime, bucket framing, loading and storing the group per call, the change log)
//! cost over the protocol itself.
//!
//! Per size, each operation timed once through `Mls` and once through a plain `MlsGroup`
//! (same ciphersuite, ciphertext wire format, ratchet tree in the Welcome):
//!
//! - add one member: stage the commit (and Welcome), then abort it, so the group stays at N;
//!   the raw side parses and validates the KeyPackage from its bytes too, as `Mls` must;
//! - remove one member: stage, then abort;
//! - self-update: `Mls` has no plain self-update; its only update-path commit is
//!   `move_to_current_identity` (after a key rotation: new leaf key and credential, signed
//!   by the previous identity), timed here, staged then aborted, against raw
//!   `MlsGroup::self_update` (new leaf key, same credential);
//! - application message: the creator encrypts 1 KiB, one member decrypts it.
//!
//! Only the creator and the receiving member have engines; the other members exist as the
//! KeyPackages they published (their engines are dropped), added in one commit, outside the
//! timing. Building the 1000-member groups takes a while.
//!
//!     cargo bench -p parley-crypto --features mls --bench mls

// A benchmark that fails to set up should stop loudly; criterion's macros write the
// undocumented functions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use openmls::prelude::tls_codec::{Deserialize, Serialize};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, LeafNodeIndex, LeafNodeParameters,
    MlsGroup, MlsGroupCreateConfig, MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn,
    ProcessedMessageContent, ProtocolVersion, StagedWelcome, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;
use openmls_traits::OpenMlsProvider;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::{GroupId, Incoming, Mls};
use parley_crypto::retention::Retention;
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

const SIZES: [usize; 4] = [2, 10, 100, 1000];
/// Parley's ciphersuite, for the raw groups.
const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;
const GROUP: GroupId = [7u8; 32];
const MESSAGE_LEN: usize = 1024;

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn engine(name: &str, rng: &mut StdRng) -> (Mls, IdentitySecretKey) {
    let secret = IdentitySecretKey::generate(rng);
    let mls = Mls::new(Handle::parse(name).unwrap(), &secret, Vec::new()).unwrap();
    (mls, secret)
}

fn key_package(mls: &mut Mls) -> Vec<u8> {
    mls.generate_key_packages(1, false, now_ms())
        .unwrap()
        .remove(0)
}

/// A Parley group of `n`: the creator, the receiver, and `n - 2` members by KeyPackage.
struct ParleyGroup {
    creator: Mls,
    receiver: Mls,
    /// A KeyPackage of someone not in the group, for the add.
    joiner: Vec<u8>,
    /// A member other than the creator, for the remove.
    removed: Handle,
}

fn parley_group(n: usize, rng: &mut StdRng) -> ParleyGroup {
    let (mut creator, _) = engine("creator", rng);
    let (mut receiver, _) = engine("receiver", rng);
    creator
        .create_group(GROUP, Retention::after(Duration::from_secs(3600)).unwrap())
        .unwrap();
    let mut packages = vec![key_package(&mut receiver)];
    for i in 0..n - 2 {
        packages.push(key_package(&mut engine(&format!("member{i:04}"), rng).0));
    }
    let commit = creator.add_members(&GROUP, &packages).unwrap();
    creator.merge_own_commit(&GROUP).unwrap();
    let welcome = receiver
        .stage_welcome(commit.welcome.as_ref().unwrap())
        .unwrap();
    receiver.join(welcome).unwrap();
    creator.take_changes();
    receiver.take_changes();
    let removed = if n > 2 { "member0000" } else { "receiver" };
    ParleyGroup {
        creator,
        receiver,
        joiner: key_package(&mut engine("joiner", rng).0),
        removed: Handle::parse(removed).unwrap(),
    }
}

/// One raw OpenMLS client: its provider, signer and (once in one) group.
struct RawClient {
    provider: OpenMlsRustCrypto,
    signer: SignatureKeyPair,
    credential: CredentialWithKey,
}

impl RawClient {
    fn new(name: &str) -> RawClient {
        let signer = SignatureKeyPair::new(SUITE.signature_algorithm()).unwrap();
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().to_vec().into(),
        };
        RawClient {
            provider: OpenMlsRustCrypto::default(),
            signer,
            credential,
        }
    }

    fn key_package(&self) -> KeyPackage {
        KeyPackage::builder()
            .build(SUITE, &self.provider, &self.signer, self.credential.clone())
            .unwrap()
            .key_package()
            .clone()
    }
}

/// A raw OpenMLS group of `n`, built like [`parley_group`].
struct RawGroup {
    creator: RawClient,
    group: MlsGroup,
    receiver: RawClient,
    receiver_group: MlsGroup,
    /// The joiner's KeyPackage as published (TLS bytes), parsed and validated in the add.
    joiner: Vec<u8>,
    removed: LeafNodeIndex,
}

fn raw_group(n: usize) -> RawGroup {
    let creator = RawClient::new("creator");
    let receiver = RawClient::new("receiver");
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(SUITE)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build();
    let mut group = MlsGroup::new(
        &creator.provider,
        &creator.signer,
        &config,
        creator.credential.clone(),
    )
    .unwrap();
    let mut packages = vec![receiver.key_package()];
    for i in 0..n - 2 {
        packages.push(RawClient::new(&format!("member{i:04}")).key_package());
    }
    let (_, welcome, _) = group
        .add_members(&creator.provider, &creator.signer, &packages)
        .unwrap();
    group.merge_pending_commit(&creator.provider).unwrap();
    let bytes = welcome.tls_serialize_detached().unwrap();
    let MlsMessageBodyIn::Welcome(welcome) = MlsMessageIn::tls_deserialize_exact(bytes)
        .unwrap()
        .extract()
    else {
        panic!("not a Welcome")
    };
    let join = MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .use_ratchet_tree_extension(true)
        .build();
    let receiver_group = StagedWelcome::new_from_welcome(&receiver.provider, &join, welcome, None)
        .unwrap()
        .into_group(&receiver.provider)
        .unwrap();
    let joiner = openmls::prelude::MlsMessageOut::from(RawClient::new("joiner").key_package())
        .tls_serialize_detached()
        .unwrap();
    RawGroup {
        creator,
        group,
        receiver,
        receiver_group,
        joiner,
        // Leaf 1 is the receiver: at n = 2 the only other member.
        removed: LeafNodeIndex::new(if n > 2 { 2 } else { 1 }),
    }
}

fn parse_key_package(bytes: &[u8], provider: &OpenMlsRustCrypto) -> KeyPackage {
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

fn bench(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(1);
    let mut message = vec![0u8; MESSAGE_LEN];
    rng.fill_bytes(&mut message);

    for n in SIZES {
        let mut p = parley_group(n, &mut rng);
        let mut r = raw_group(n);
        assert_eq!(p.creator.members(&GROUP).unwrap().len(), n);
        assert_eq!(r.group.members().count(), n);

        let mut group = c.benchmark_group(format!("mls_{n}_members"));
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));

        group.bench_function("add_member/raw_openmls", |b| {
            b.iter(|| {
                let package = parse_key_package(&r.joiner, &r.creator.provider);
                let (commit, _, _) = r
                    .group
                    .add_members(&r.creator.provider, &r.creator.signer, &[package])
                    .unwrap();
                r.group
                    .clear_pending_commit(r.creator.provider.storage())
                    .unwrap();
                commit
            })
        });
        group.bench_function("add_member/parley", |b| {
            b.iter(|| {
                let commit = p.creator.add_members(&GROUP, &[p.joiner.clone()]).unwrap();
                p.creator.abort_own_commit(&GROUP).unwrap();
                // A client persists after each operation; unread, the log would grow.
                p.creator.take_changes();
                commit
            })
        });

        group.bench_function("remove_member/raw_openmls", |b| {
            b.iter(|| {
                let commit = r
                    .group
                    .remove_members(&r.creator.provider, &r.creator.signer, &[r.removed])
                    .unwrap();
                r.group
                    .clear_pending_commit(r.creator.provider.storage())
                    .unwrap();
                commit
            })
        });
        group.bench_function("remove_member/parley", |b| {
            b.iter(|| {
                let commit = p
                    .creator
                    .remove_members(&GROUP, std::slice::from_ref(&p.removed))
                    .unwrap();
                p.creator.abort_own_commit(&GROUP).unwrap();
                p.creator.take_changes();
                commit
            })
        });

        group.bench_function("message_1KiB/raw_openmls", |b| {
            b.iter(|| {
                let out = r
                    .group
                    .create_message(&r.creator.provider, &r.creator.signer, &message)
                    .unwrap()
                    .tls_serialize_detached()
                    .unwrap();
                let incoming = MlsMessageIn::tls_deserialize_exact(out)
                    .unwrap()
                    .try_into_protocol_message()
                    .unwrap();
                let processed = r
                    .receiver_group
                    .process_message(&r.receiver.provider, incoming)
                    .unwrap();
                match processed.into_content() {
                    ProcessedMessageContent::ApplicationMessage(m) => m.into_bytes(),
                    _ => panic!("not an application message"),
                }
            })
        });
        group.bench_function("message_1KiB/parley", |b| {
            b.iter(|| {
                let frame = p.creator.encrypt(&GROUP, &message).unwrap();
                let Incoming::Application { payload, .. } =
                    p.receiver.process(&GROUP, &frame).unwrap()
                else {
                    panic!("not an application message")
                };
                p.creator.take_changes();
                p.receiver.take_changes();
                payload
            })
        });

        group.bench_function("self_update/raw_openmls", |b| {
            b.iter(|| {
                let bundle = r
                    .group
                    .self_update(
                        &r.creator.provider,
                        &r.creator.signer,
                        LeafNodeParameters::default(),
                    )
                    .unwrap();
                r.group
                    .clear_pending_commit(r.creator.provider.storage())
                    .unwrap();
                bundle
            })
        });
        // Last, since it leaves the creator with a previous identity: its leaf stays on it
        // (each move is aborted), so every iteration is the same move.
        p.creator
            .replace_identity(&IdentitySecretKey::generate(&mut rng));
        group.bench_function("self_update/parley", |b| {
            b.iter(|| {
                let commit = p.creator.move_to_current_identity(&GROUP).unwrap();
                p.creator.abort_own_commit(&GROUP).unwrap();
                p.creator.take_changes();
                commit
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
