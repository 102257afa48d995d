//! Sealed envelopes: inbox deposits that hide the sender from the relay and authenticate
//! the sender to the recipient.
//!
//! ```text
//! envelope = 0x01 | enc_outer[32] | ct_outer
//! ct_outer = HPKE Base seal to the recipient inbox key, info "parley/v1/envelope/outer",
//!            aad [0x01], pt = padded frame of the inner plaintext (whole envelope = a bucket)
//! inner    = u8 len | sender_handle | enc_inner[32] | ct_inner
//! ct_inner = HPKE Auth seal from the sender's inbox key, info "parley/v1/envelope/inner"
//!            | enc_outer | u8 len | sender | u8 len | recipient, aad [0x01], pt = message
//! ```
//!
//! The inner info binds the outer encapsulation and both handles, so an inner layer cannot be
//! lifted into another outer envelope or redirected to another recipient. Every decryption
//! failure is the same coarse error, so a prober learns nothing about which check failed.
//!
//! Version 2 also carries the sender's signed directory record inside the outer layer, so
//! that the recipient can check the sender against its pin (or pin a new sender) without
//! asking the relay, which would tell the relay who sent the deposit:
//!
//! ```text
//! envelope = 0x02 | enc_outer[32] | ct_outer        (as v1, aad [0x02])
//! inner    = u8 len | sender_handle | u16 BE len | sender_record | enc_inner[32] | ct_inner
//! ct_inner = HPKE Auth seal, info "parley/v2/envelope/inner" | enc_outer | u8 len | sender
//!            | u8 len | recipient | SHA-256(sender_record), aad [0x02], pt = message
//! ```
//!
//! The record is bound into the inner info, and the inner layer authenticates only under the
//! inbox key the record names, so a record cannot be swapped for another.

use std::fmt;

use hpke::aead::ChaCha20Poly1305;
use hpke::kdf::HkdfSha256;
use hpke::kem::X25519HkdfSha256;
use hpke::{Deserializable, Kem as KemTrait, OpModeR, OpModeS, Serializable};
use rand_core::CryptoRngCore;
use sha2::{Digest, Sha256};

use crate::handle::Handle;
use crate::identity::{InboxPublicKey, InboxSecretKey};
use crate::padding::{self, PaddingError};

type Kem = X25519HkdfSha256;
type Kdf = HkdfSha256;
type Aead = ChaCha20Poly1305;
type OuterContext = hpke::aead::AeadCtxS<Aead, Kdf, Kem>;

/// Version byte of the envelope format without the sender's record (also the AEAD
/// associated data of both layers).
pub const ENVELOPE_VERSION_V1: u8 = 0x01;
/// Version byte of the envelope format that carries the sender's signed directory record.
pub const ENVELOPE_VERSION_V2: u8 = 0x02;
/// Longest sender record a v2 envelope carries.
pub const MAX_SENDER_RECORD_LEN: usize = u16::MAX as usize;
/// Length of an X25519 HPKE encapsulated key.
pub const ENC_LEN: usize = 32;
/// Length of the ChaCha20-Poly1305 tag.
const TAG_LEN: usize = 16;
/// Bytes around the padded frame: version, outer encapsulation and outer tag.
pub const ENVELOPE_OVERHEAD: usize = 1 + ENC_LEN + TAG_LEN;
/// The least length of a sealed invitation (a Welcome and the members' records): 64 KiB.
/// A Welcome carries the ratchet tree and one encrypted secret per member added, and the
/// invitation one signed record per other member, so its own bucket would tell the relay how
/// large a group someone is invited into. Measured with Parley's ciphersuite and the longest
/// handles (`crypto/tests/welcome_size.rs`): about 1 KiB for a group of two, 56 KiB for a
/// hundred members added at once; so every invitation into a group of up to a hundred (and
/// some way beyond) is one 64 KiB deposit. A larger one is padded to the bucket that holds it.
pub const INVITATION_ENVELOPE_LEN: usize = 64 * 1024;
/// HPKE info of the outer layer.
pub const OUTER_INFO: &[u8] = b"parley/v1/envelope/outer";
/// HPKE info prefix of the inner layer.
pub const INNER_INFO_PREFIX: &[u8] = b"parley/v1/envelope/inner";
/// HPKE info prefix of the inner layer of a v2 envelope.
pub const INNER_INFO_PREFIX_V2: &[u8] = b"parley/v2/envelope/inner";

/// Why an envelope could not be sealed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SealError {
    /// The message does not fit the largest padding bucket.
    #[error("message too large for an envelope")]
    TooLarge(#[from] PaddingError),
    /// HPKE refused (e.g. a degenerate recipient or sender key).
    #[error("envelope encryption failed")]
    Encryption,
    /// The sender's record is longer than [`MAX_SENDER_RECORD_LEN`].
    #[error("sender record too large for an envelope")]
    RecordTooLarge,
}

/// Why an envelope could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OpenError {
    /// The envelope is neither v1 nor v2 (first byte shown).
    #[error("unknown envelope version {0}")]
    UnknownVersion(u8),
    /// The envelope is too short or its length is not a padding bucket.
    #[error("malformed envelope")]
    Malformed,
    /// Any failure to decrypt or authenticate; deliberately not more specific.
    #[error("envelope could not be decrypted")]
    Decryption,
}

/// Adapts our rand_core 0.6 RNG to the rand_core 0.9 traits hpke 0.13 expects.
struct HpkeRng<'a, R: ?Sized>(&'a mut R);

impl<R: CryptoRngCore + ?Sized> hpke::rand_core::RngCore for HpkeRng<'_, R> {
    fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.0.fill_bytes(dst)
    }
}

impl<R: CryptoRngCore + ?Sized> hpke::rand_core::CryptoRng for HpkeRng<'_, R> {}

fn hpke_public(key: &InboxPublicKey) -> Result<<Kem as KemTrait>::PublicKey, hpke::HpkeError> {
    <Kem as KemTrait>::PublicKey::from_bytes(&key.to_bytes())
}

fn hpke_secret(key: &InboxSecretKey) -> Result<<Kem as KemTrait>::PrivateKey, hpke::HpkeError> {
    <Kem as KemTrait>::PrivateKey::from_bytes(key.to_bytes().as_ref())
}

fn inner_info(
    version: u8,
    enc_outer: &[u8; ENC_LEN],
    sender: &Handle,
    recipient: &Handle,
    sender_record: Option<&[u8]>,
) -> Vec<u8> {
    let prefix = if version == ENVELOPE_VERSION_V1 {
        INNER_INFO_PREFIX
    } else {
        INNER_INFO_PREFIX_V2
    };
    let mut info = Vec::with_capacity(prefix.len() + ENC_LEN + 2 + 64 + 32);
    info.extend_from_slice(prefix);
    info.extend_from_slice(enc_outer);
    info.push(sender.len_u8());
    info.extend_from_slice(sender.as_bytes());
    info.push(recipient.len_u8());
    info.extend_from_slice(recipient.as_bytes());
    if let Some(record) = sender_record {
        info.extend_from_slice(&Sha256::digest(record));
    }
    info
}

/// Starts the outer layer: the encapsulation must exist before the inner layer can bind it.
fn outer_context(
    rng: &mut (impl CryptoRngCore + ?Sized),
    recipient_inbox: &InboxPublicKey,
) -> Result<([u8; ENC_LEN], OuterContext), SealError> {
    let pk = hpke_public(recipient_inbox).map_err(|_| SealError::Encryption)?;
    let (enc, ctx) =
        hpke::setup_sender::<Aead, Kdf, Kem, _>(&OpModeS::Base, &pk, OUTER_INFO, &mut HpkeRng(rng))
            .map_err(|_| SealError::Encryption)?;
    let enc: [u8; ENC_LEN] = enc
        .to_bytes()
        .as_slice()
        .try_into()
        .map_err(|_| SealError::Encryption)?;
    Ok((enc, ctx))
}

/// Pads the inner plaintext so the whole envelope is a bucket (at least `at_least` long),
/// seals it and frames it.
fn finish_outer(
    version: u8,
    enc_outer: [u8; ENC_LEN],
    mut ctx: OuterContext,
    inner_plaintext: &[u8],
    at_least: usize,
) -> Result<Vec<u8>, SealError> {
    let frame = padding::pad_at_least(inner_plaintext, ENVELOPE_OVERHEAD, at_least)?;
    let ct_outer = ctx
        .seal(&frame, &[version])
        .map_err(|_| SealError::Encryption)?;
    let mut out = Vec::with_capacity(1 + ENC_LEN + ct_outer.len());
    out.push(version);
    out.extend_from_slice(&enc_outer);
    out.extend_from_slice(&ct_outer);
    Ok(out)
}

/// Seals `message` from `sender` to `recipient` in a v1 envelope, without the sender's
/// record: the recipient has to look the sender up. Kept so that old deliveries can be
/// produced in tests; new deliveries use [`seal_with_record`]. The result's length is always
/// a padding bucket, and nothing in it but the recipient's key choice is visible to the
/// relay.
pub fn seal(
    rng: &mut impl CryptoRngCore,
    message: &[u8],
    sender: &Handle,
    sender_inbox: &InboxSecretKey,
    recipient: &Handle,
    recipient_inbox: &InboxPublicKey,
) -> Result<Vec<u8>, SealError> {
    let from = SealingSender {
        handle: sender,
        inbox: sender_inbox,
        record: None,
        at_least: 0,
    };
    seal_version(rng, message, &from, recipient, recipient_inbox)
}

/// Seals `message` from `sender` to `recipient` in a v2 envelope that carries
/// `sender_record` (the sender's signed directory record, as the directory serves it), so
/// that the recipient needs no lookup that would name the sender to the relay.
pub fn seal_with_record(
    rng: &mut impl CryptoRngCore,
    message: &[u8],
    sender: &Handle,
    sender_inbox: &InboxSecretKey,
    sender_record: &[u8],
    recipient: &Handle,
    recipient_inbox: &InboxPublicKey,
) -> Result<Vec<u8>, SealError> {
    let from = SealingSender::with_record(sender, sender_inbox, sender_record, 0)?;
    seal_version(rng, message, &from, recipient, recipient_inbox)
}

/// Seals an invitation (an encoded [`crate::inbox_message::InboxMessage`] carrying a
/// Welcome) like [`seal_with_record`], padded to at least [`INVITATION_ENVELOPE_LEN`], so
/// that its length does not tell the size of the group.
pub fn seal_invitation(
    rng: &mut impl CryptoRngCore,
    invitation: &[u8],
    sender: &Handle,
    sender_inbox: &InboxSecretKey,
    sender_record: &[u8],
    recipient: &Handle,
    recipient_inbox: &InboxPublicKey,
) -> Result<Vec<u8>, SealError> {
    let from =
        SealingSender::with_record(sender, sender_inbox, sender_record, INVITATION_ENVELOPE_LEN)?;
    seal_version(rng, invitation, &from, recipient, recipient_inbox)
}

/// Who seals, and with which record (none for v1).
struct SealingSender<'a> {
    handle: &'a Handle,
    inbox: &'a InboxSecretKey,
    record: Option<&'a [u8]>,
    /// The least length of the envelope (0: its content's bucket).
    at_least: usize,
}

impl<'a> SealingSender<'a> {
    /// A v2 sender, carrying `record` (checked for length), sealing at least `at_least`.
    fn with_record(
        handle: &'a Handle,
        inbox: &'a InboxSecretKey,
        record: &'a [u8],
        at_least: usize,
    ) -> Result<SealingSender<'a>, SealError> {
        if record.len() > MAX_SENDER_RECORD_LEN {
            return Err(SealError::RecordTooLarge);
        }
        Ok(SealingSender {
            handle,
            inbox,
            record: Some(record),
            at_least,
        })
    }
}

fn seal_version(
    rng: &mut impl CryptoRngCore,
    message: &[u8],
    sender: &SealingSender<'_>,
    recipient: &Handle,
    recipient_inbox: &InboxPublicKey,
) -> Result<Vec<u8>, SealError> {
    let version = match sender.record {
        None => ENVELOPE_VERSION_V1,
        Some(_) => ENVELOPE_VERSION_V2,
    };
    let recipient_pk = hpke_public(recipient_inbox).map_err(|_| SealError::Encryption)?;
    let sender_sk = hpke_secret(sender.inbox).map_err(|_| SealError::Encryption)?;
    let sender_pk = <Kem as KemTrait>::sk_to_pk(&sender_sk);

    let (enc_outer, outer) = outer_context(rng, recipient_inbox)?;

    let info = inner_info(version, &enc_outer, sender.handle, recipient, sender.record);
    let (enc_inner, ct_inner) = hpke::single_shot_seal::<Aead, Kdf, Kem, _>(
        &OpModeS::Auth((sender_sk, sender_pk)),
        &recipient_pk,
        &info,
        message,
        &[version],
        &mut HpkeRng(rng),
    )
    .map_err(|_| SealError::Encryption)?;

    let enc_inner = enc_inner.to_bytes();
    let record_len = sender.record.map_or(0, <[u8]>::len);
    let mut inner = Vec::with_capacity(1 + 32 + 2 + record_len + ENC_LEN + ct_inner.len());
    inner.push(sender.handle.len_u8());
    inner.extend_from_slice(sender.handle.as_bytes());
    if let Some(record) = sender.record {
        let len = u16::try_from(record.len()).map_err(|_| SealError::RecordTooLarge)?;
        inner.extend_from_slice(&len.to_be_bytes());
        inner.extend_from_slice(record);
    }
    inner.extend_from_slice(enc_inner.as_slice());
    inner.extend_from_slice(&ct_inner);

    finish_outer(version, enc_outer, outer, &inner, sender.at_least)
}

/// Removes the outer layer: checks framing, decrypts and unpads. Returns the inner plaintext.
fn open_outer(
    envelope: &[u8],
    recipient_sk: &<Kem as KemTrait>::PrivateKey,
) -> Result<(u8, [u8; ENC_LEN], Vec<u8>), OpenError> {
    let (&version, rest) = envelope.split_first().ok_or(OpenError::Malformed)?;
    if version != ENVELOPE_VERSION_V1 && version != ENVELOPE_VERSION_V2 {
        return Err(OpenError::UnknownVersion(version));
    }
    if !padding::is_bucket(envelope.len()) {
        return Err(OpenError::Malformed);
    }
    let (enc_outer, ct_outer) = rest
        .split_first_chunk::<ENC_LEN>()
        .ok_or(OpenError::Malformed)?;
    let enc =
        <Kem as KemTrait>::EncappedKey::from_bytes(enc_outer).map_err(|_| OpenError::Decryption)?;
    let frame = hpke::single_shot_open::<Aead, Kdf, Kem>(
        &OpModeR::Base,
        recipient_sk,
        &enc,
        OUTER_INFO,
        ct_outer,
        &[version],
    )
    .map_err(|_| OpenError::Decryption)?;
    let inner = padding::unpad(&frame).map_err(|_| OpenError::Decryption)?;
    Ok((version, *enc_outer, inner.to_vec()))
}

/// Opens the outer layer of an envelope addressed to `recipient`. The sender's handle is then
/// known but NOT yet authenticated: look up and pin the sender's inbox key, then call
/// [`OpenedEnvelope::authenticate`].
pub fn open(
    envelope: &[u8],
    recipient: &Handle,
    recipient_inbox: &InboxSecretKey,
) -> Result<OpenedEnvelope, OpenError> {
    let recipient_sk = hpke_secret(recipient_inbox).map_err(|_| OpenError::Decryption)?;
    let (version, enc_outer, inner) = open_outer(envelope, &recipient_sk)?;

    let (&sender_len, rest) = inner.split_first().ok_or(OpenError::Decryption)?;
    let (sender, rest) = rest
        .split_at_checked(usize::from(sender_len))
        .ok_or(OpenError::Decryption)?;
    let sender = Handle::from_bytes(sender).map_err(|_| OpenError::Decryption)?;
    let (sender_record, rest) = if version == ENVELOPE_VERSION_V2 {
        let (len, rest) = rest.split_first_chunk::<2>().ok_or(OpenError::Decryption)?;
        let (record, rest) = rest
            .split_at_checked(usize::from(u16::from_be_bytes(*len)))
            .ok_or(OpenError::Decryption)?;
        (Some(record.to_vec()), rest)
    } else {
        (None, rest)
    };
    let (enc_inner, ct_inner) = rest
        .split_first_chunk::<ENC_LEN>()
        .ok_or(OpenError::Decryption)?;

    Ok(OpenedEnvelope {
        version,
        sender,
        sender_record,
        recipient: recipient.clone(),
        recipient_sk,
        enc_outer,
        enc_inner: *enc_inner,
        ct_inner: ct_inner.to_vec(),
    })
}

/// An envelope whose outer layer is open: the claimed sender is known, the message is not.
pub struct OpenedEnvelope {
    version: u8,
    sender: Handle,
    sender_record: Option<Vec<u8>>,
    recipient: Handle,
    // hpke's X25519 private key wraps a StaticSecret, which zeroizes on drop.
    recipient_sk: <Kem as KemTrait>::PrivateKey,
    enc_outer: [u8; ENC_LEN],
    enc_inner: [u8; ENC_LEN],
    ct_inner: Vec<u8>,
}

impl OpenedEnvelope {
    /// The sender's handle as claimed inside the envelope (authenticated only by
    /// [`OpenedEnvelope::authenticate`]).
    pub fn sender(&self) -> &Handle {
        &self.sender
    }

    /// The sender's signed directory record as the sender put it in (v2 envelopes only), NOT
    /// yet verified: decode and verify it, check its handle is [`OpenedEnvelope::sender`],
    /// then authenticate with its inbox key.
    pub fn sender_record(&self) -> Option<&[u8]> {
        self.sender_record.as_deref()
    }

    /// Decrypts the message, proving it was sealed by the holder of `sender_inbox` for this
    /// recipient inside this very outer envelope (and, for v2, with this very record).
    pub fn authenticate(self, sender_inbox: &InboxPublicKey) -> Result<Vec<u8>, OpenError> {
        let sender_pk = hpke_public(sender_inbox).map_err(|_| OpenError::Decryption)?;
        let enc = <Kem as KemTrait>::EncappedKey::from_bytes(&self.enc_inner)
            .map_err(|_| OpenError::Decryption)?;
        hpke::single_shot_open::<Aead, Kdf, Kem>(
            &OpModeR::Auth(sender_pk),
            &self.recipient_sk,
            &enc,
            &inner_info(
                self.version,
                &self.enc_outer,
                &self.sender,
                &self.recipient,
                self.sender_record.as_deref(),
            ),
            &self.ct_inner,
            &[self.version],
        )
        .map_err(|_| OpenError::Decryption)
    }
}

impl fmt::Debug for OpenedEnvelope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Destructured so that a new (possibly secret) field cannot be printed by accident.
        let Self {
            version,
            sender,
            sender_record,
            recipient,
            recipient_sk: _,
            enc_outer: _,
            enc_inner: _,
            ct_inner,
        } = self;
        f.debug_struct("OpenedEnvelope")
            .field("version", version)
            .field("sender", sender)
            .field("sender_record_len", &sender_record.as_ref().map(Vec::len))
            .field("recipient", recipient)
            .field("ct_inner_len", &ct_inner.len())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    struct Party {
        handle: Handle,
        inbox: InboxSecretKey,
    }

    fn party(name: &str, rng: &mut StdRng) -> Party {
        Party {
            handle: Handle::parse(name).unwrap(),
            inbox: InboxSecretKey::generate(rng),
        }
    }

    fn seal_from(rng: &mut StdRng, from: &Party, to: &Party, msg: &[u8]) -> Vec<u8> {
        seal(
            rng,
            msg,
            &from.handle,
            &from.inbox,
            &to.handle,
            &to.inbox.public_key(),
        )
        .unwrap()
    }

    #[test]
    fn seal_open_authenticate() {
        let mut rng = StdRng::seed_from_u64(10);
        let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
        let env = seal_from(&mut rng, &alice, &bob, b"hi bob");
        assert_eq!(env.len(), 256);
        let opened = open(&env, &bob.handle, &bob.inbox).unwrap();
        assert_eq!(opened.sender(), &alice.handle);
        assert!(format!("{opened:?}").contains("alice"));
        assert_eq!(
            opened.authenticate(&alice.inbox.public_key()).unwrap(),
            b"hi bob"
        );
    }

    /// A recipient who can open the outer layer (or anyone holding an inner layer) must not be
    /// able to re-deposit it under a fresh outer encapsulation as a "new" message from Alice.
    #[test]
    fn rewrapped_inner_layer_fails_authentication() {
        let mut rng = StdRng::seed_from_u64(11);
        let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
        let env = seal_from(&mut rng, &alice, &bob, b"original");

        let bob_sk = hpke_secret(&bob.inbox).unwrap();
        let (version, _, inner) = open_outer(&env, &bob_sk).unwrap();
        let (enc, ctx) = outer_context(&mut rng, &bob.inbox.public_key()).unwrap();
        let rewrapped = finish_outer(version, enc, ctx, &inner, 0).unwrap();

        let opened = open(&rewrapped, &bob.handle, &bob.inbox).unwrap();
        assert_eq!(opened.sender(), &alice.handle);
        assert_eq!(
            opened.authenticate(&alice.inbox.public_key()),
            Err(OpenError::Decryption)
        );
    }

    /// Forwarding Alice's inner layer to Carol inside a valid outer envelope must fail too.
    #[test]
    fn redirected_inner_layer_fails_authentication() {
        let mut rng = StdRng::seed_from_u64(12);
        let alice = party("alice", &mut rng);
        let bob = party("bob", &mut rng);
        let carol = party("carol", &mut rng);
        let env = seal_from(&mut rng, &alice, &bob, b"for bob only");

        let bob_sk = hpke_secret(&bob.inbox).unwrap();
        let (version, _, inner) = open_outer(&env, &bob_sk).unwrap();
        let (enc, ctx) = outer_context(&mut rng, &carol.inbox.public_key()).unwrap();
        let forwarded = finish_outer(version, enc, ctx, &inner, 0).unwrap();

        let opened = open(&forwarded, &carol.handle, &carol.inbox).unwrap();
        assert_eq!(
            opened.authenticate(&alice.inbox.public_key()),
            Err(OpenError::Decryption)
        );
    }

    #[test]
    fn framing_errors() {
        let mut rng = StdRng::seed_from_u64(13);
        let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
        let env = seal_from(&mut rng, &alice, &bob, b"x");
        assert_eq!(
            open(&[], &bob.handle, &bob.inbox).unwrap_err(),
            OpenError::Malformed
        );
        let mut v3 = env.clone();
        v3[0] = 3;
        assert_eq!(
            open(&v3, &bob.handle, &bob.inbox).unwrap_err(),
            OpenError::UnknownVersion(3)
        );
        // A v1 envelope relabelled v2 fails as a whole (the version is the AEAD's data).
        let mut relabelled = env.clone();
        relabelled[0] = ENVELOPE_VERSION_V2;
        assert_eq!(
            open(&relabelled, &bob.handle, &bob.inbox).unwrap_err(),
            OpenError::Decryption
        );
        assert_eq!(
            open(&env[..255], &bob.handle, &bob.inbox).unwrap_err(),
            OpenError::Malformed
        );
    }

    fn seal_with_record_from(
        rng: &mut StdRng,
        from: &Party,
        record: &[u8],
        to: &Party,
        msg: &[u8],
    ) -> Vec<u8> {
        seal_with_record(
            rng,
            msg,
            &from.handle,
            &from.inbox,
            record,
            &to.handle,
            &to.inbox.public_key(),
        )
        .unwrap()
    }

    /// A v2 envelope hands the recipient the sender's record and authenticates as v1 does.
    #[test]
    fn a_v2_envelope_carries_the_sender_record() {
        let mut rng = StdRng::seed_from_u64(20);
        let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
        let record = b"alice's signed directory record".to_vec();
        let env = seal_with_record_from(&mut rng, &alice, &record, &bob, b"hi bob");
        assert_eq!(env[0], ENVELOPE_VERSION_V2);
        assert!(padding::is_bucket(env.len()));
        let opened = open(&env, &bob.handle, &bob.inbox).unwrap();
        assert_eq!(opened.sender_record(), Some(record.as_slice()));
        assert_eq!(
            opened.authenticate(&alice.inbox.public_key()).unwrap(),
            b"hi bob"
        );
        // A v1 envelope still opens, without a record.
        let old = seal_from(&mut rng, &alice, &bob, b"old");
        let opened = open(&old, &bob.handle, &bob.inbox).unwrap();
        assert_eq!(opened.sender_record(), None);
        assert_eq!(
            opened.authenticate(&alice.inbox.public_key()).unwrap(),
            b"old"
        );
    }

    /// Swapping the record inside a v2 envelope (e.g. for one naming another key) breaks the
    /// authentication: the record is bound into the inner layer.
    #[test]
    fn a_swapped_record_fails_authentication() {
        let mut rng = StdRng::seed_from_u64(21);
        let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
        let env = seal_with_record_from(&mut rng, &alice, b"record A", &bob, b"msg");
        let bob_sk = hpke_secret(&bob.inbox).unwrap();
        let (version, _, inner) = open_outer(&env, &bob_sk).unwrap();
        let mut swapped = inner.clone();
        let at = 1 + usize::from(inner[0]) + 2;
        swapped[at..at + 8].copy_from_slice(b"record B");
        let (enc, ctx) = outer_context(&mut rng, &bob.inbox.public_key()).unwrap();
        let rewrapped = finish_outer(version, enc, ctx, &swapped, 0).unwrap();
        let opened = open(&rewrapped, &bob.handle, &bob.inbox).unwrap();
        assert_eq!(opened.sender_record(), Some(&b"record B"[..]));
        assert_eq!(
            opened.authenticate(&alice.inbox.public_key()),
            Err(OpenError::Decryption)
        );
    }

    /// A record length running past the inner layer is the coarse decryption error.
    #[test]
    fn a_record_length_past_the_end_is_refused() {
        let mut rng = StdRng::seed_from_u64(22);
        let (alice, bob) = (party("alice", &mut rng), party("bob", &mut rng));
        let bob_sk = hpke_secret(&bob.inbox).unwrap();
        let env = seal_with_record_from(&mut rng, &alice, b"rec", &bob, b"msg");
        let (version, _, mut inner) = open_outer(&env, &bob_sk).unwrap();
        let at = 1 + usize::from(inner[0]);
        inner[at..at + 2].copy_from_slice(&u16::MAX.to_be_bytes());
        let (enc, ctx) = outer_context(&mut rng, &bob.inbox.public_key()).unwrap();
        let broken = finish_outer(version, enc, ctx, &inner, 0).unwrap();
        assert_eq!(
            open(&broken, &bob.handle, &bob.inbox).err(),
            Some(OpenError::Decryption)
        );
    }
}
