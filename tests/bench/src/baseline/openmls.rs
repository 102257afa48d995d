//! Raw OpenMLS application messages, the cost Parley's client is held against: the same
//! ciphersuite, wire format and padding as Parley's groups, with none of Parley's checks,
//! framing or storage around them.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use openmls::prelude::tls_codec::{Deserialize, Serialize};
use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, MlsGroup, MlsGroupCreateConfig,
    MlsGroupJoinConfig, MlsMessageBodyIn, MlsMessageIn, ProcessedMessageContent, StagedWelcome,
    PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_rust_crypto::OpenMlsRustCrypto;

/// Parley's ciphersuite.
const SUITE: Ciphersuite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

/// Parley's MLS padding, so ciphertexts are as long as Parley's.
const PADDING: usize = 64;

/// Untimed rounds before the timed ones, so first-use costs (secret tree derivation for the
/// first generation, allocations) are not counted.
const WARM_UP_ROUNDS: usize = 4;

/// One raw OpenMLS client: its provider (crypto and in-memory storage), signer and
/// credential.
struct Client {
    /// Crypto, randomness and the in-memory key store.
    provider: OpenMlsRustCrypto,
    /// The client's signature key.
    signer: SignatureKeyPair,
    /// Its credential with the public signature key.
    credential: CredentialWithKey,
}

impl Client {
    /// A new client named `name`.
    fn new(name: &str) -> anyhow::Result<Client> {
        let signer = SignatureKeyPair::new(SUITE.signature_algorithm())?;
        let credential = CredentialWithKey {
            credential: BasicCredential::new(name.as_bytes().to_vec()).into(),
            signature_key: signer.public().to_vec().into(),
        };
        Ok(Client {
            provider: OpenMlsRustCrypto::default(),
            signer,
            credential,
        })
    }

    /// A fresh KeyPackage of this client's, its private part kept in its provider.
    fn key_package(&self) -> anyhow::Result<KeyPackage> {
        Ok(KeyPackage::builder()
            .build(SUITE, &self.provider, &self.signer, self.credential.clone())?
            .key_package()
            .clone())
    }
}

/// Mean time of one application message of `payload` bytes in a group of `members`: the
/// creator's `create_message` and serialisation, then one member's parsing and
/// `process_message`, over `messages` timed rounds.
///
/// The group is the creator, one receiving member that joins by Welcome, and `members - 2`
/// members that exist only as the KeyPackages added in the same commit: sending and
/// receiving need no other member's client.
pub(crate) fn message_cost(
    members: usize,
    payload: usize,
    messages: usize,
) -> anyhow::Result<Duration> {
    if members < 2 || messages == 0 {
        bail!("a message cost needs at least 2 members and 1 message");
    }
    let creator = Client::new("creator")?;
    let receiver = Client::new("receiver")?;
    let config = MlsGroupCreateConfig::builder()
        .ciphersuite(SUITE)
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING)
        .use_ratchet_tree_extension(true)
        .build();
    let mut group = MlsGroup::new(
        &creator.provider,
        &creator.signer,
        &config,
        creator.credential.clone(),
    )?;
    let mut packages = Vec::with_capacity(members - 1);
    packages.push(receiver.key_package()?);
    for i in 0..members - 2 {
        packages.push(Client::new(&format!("member{i:04}"))?.key_package()?);
    }
    let (_, welcome, _) = group.add_members(&creator.provider, &creator.signer, &packages)?;
    group.merge_pending_commit(&creator.provider)?;

    // Through bytes, as a Welcome arrives.
    let MlsMessageBodyIn::Welcome(welcome) =
        MlsMessageIn::tls_deserialize_exact(welcome.tls_serialize_detached()?)?.extract()
    else {
        bail!("the add did not produce a Welcome");
    };
    let join = MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING)
        .use_ratchet_tree_extension(true)
        .build();
    let mut receiver_group =
        StagedWelcome::new_from_welcome(&receiver.provider, &join, welcome, None)?
            .into_group(&receiver.provider)?;
    if receiver_group.members().count() != members {
        bail!("the receiver's group does not have {members} members");
    }

    let message = vec![0x5au8; payload];
    let mut round = || -> anyhow::Result<()> {
        let bytes = group
            .create_message(&creator.provider, &creator.signer, &message)?
            .tls_serialize_detached()?;
        let incoming = MlsMessageIn::tls_deserialize_exact(bytes)?.try_into_protocol_message()?;
        let processed = receiver_group.process_message(&receiver.provider, incoming)?;
        let ProcessedMessageContent::ApplicationMessage(received) = processed.into_content() else {
            bail!("the receiver did not get an application message");
        };
        std::hint::black_box(received.into_bytes());
        Ok(())
    };
    for _ in 0..WARM_UP_ROUNDS {
        round()?;
    }
    let start = Instant::now();
    for _ in 0..messages {
        round()?;
    }
    let elapsed = start.elapsed();
    Ok(elapsed / u32::try_from(messages).context("too many messages")?)
}
