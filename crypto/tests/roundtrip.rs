//! Property tests: every format decodes back to what was encoded, every bit of a signed or
//! sealed object is covered by its authentication, and decoders never panic on junk.

// A test binary: helpers outside #[test] fns should fail loudly on bad fixtures too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::envelope::{self, OpenError};
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::padding::{is_bucket, pad, unpad, unpad_exact};
use parley_crypto::payload::Payload;
use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::SeedableRng;

const HANDLE_RE: &str = "[a-z0-9][a-z0-9._-]{2,31}";

fn handle() -> impl Strategy<Value = Handle> {
    HANDLE_RE.prop_map(|s| Handle::parse(&s).unwrap())
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        (any::<u64>(), ".{1,200}")
            .prop_map(|(sent_at_ms, text)| Payload::Text { sent_at_ms, text }),
        (any::<u64>(), 1..=u32::MAX, any::<[u8; 32]>(), ".{1,200}").prop_map(
            |(sent_at_ms, number, previous, text)| Payload::TextVersion {
                sent_at_ms,
                number,
                previous,
                text
            }
        ),
        (any::<u64>(), 1..=u32::MAX, 1..=u32::MAX, ".{1,200}").prop_map(
            |(sent_at_ms, version, para, text)| Payload::TextComment {
                sent_at_ms,
                version,
                para,
                text
            }
        ),
        any::<u64>().prop_map(|sent_at_ms| Payload::RecordExported { sent_at_ms }),
        (
            any::<u8>().prop_filter("kinds 1 to 6 are known", |k| !(1..=6).contains(k)),
            any::<u64>(),
            proptest::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(kind, sent_at_ms, body)| Payload::Unknown {
                kind,
                sent_at_ms,
                body
            }),
    ]
}

fn inbox_message() -> impl Strategy<Value = InboxMessage> {
    prop_oneof![
        (
            ".{1,30}".prop_filter("name at most 64 bytes", |n: &String| n.len() <= 64),
            proptest::collection::vec(any::<u8>(), 0..500)
        )
            .prop_map(|(conversation_name, welcome)| InboxMessage::Welcome {
                conversation_name,
                welcome
            }),
        (
            ".{1,30}".prop_filter("name at most 64 bytes", |n: &String| n.len() <= 64),
            proptest::collection::vec(any::<u8>(), 0..300),
            proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..8)
        )
            .prop_map(|(conversation_name, welcome, member_records)| {
                InboxMessage::WelcomeWithRecords {
                    conversation_name,
                    welcome,
                    member_records,
                }
            }),
        (
            any::<u8>().prop_filter("kinds 1 and 2 are Welcomes", |k| *k != 1 && *k != 2),
            proptest::collection::vec(any::<u8>(), 0..300)
        )
            .prop_map(|(kind, body)| InboxMessage::Unknown { kind, body }),
    ]
}

proptest! {
    #[test]
    fn padding_round_trip(content in proptest::collection::vec(any::<u8>(), 0..5000), overhead in 0usize..200) {
        let frame = pad(&content, overhead).unwrap();
        prop_assert!(is_bucket(frame.len() + overhead));
        prop_assert_eq!(unpad(&frame).unwrap(), &content[..]);
        prop_assert_eq!(unpad_exact(&frame, overhead).unwrap(), &content[..]);
    }

    #[test]
    fn payload_round_trip(p in payload()) {
        let bytes = p.encode().unwrap();
        // Payloads may hold a document key: no PartialEq; the canonical encoding stands in.
        prop_assert_eq!(Payload::decode(&bytes).unwrap().encode().unwrap(), bytes);
    }

    #[test]
    fn inbox_message_round_trip(m in inbox_message()) {
        let bytes = m.encode().unwrap();
        prop_assert_eq!(InboxMessage::decode(&bytes).unwrap(), m.clone());
        if matches!(m, InboxMessage::Welcome { .. } | InboxMessage::WelcomeWithRecords { .. }) {
            let mut trailing = bytes;
            trailing.push(0);
            prop_assert!(InboxMessage::decode(&trailing).is_err());
        }
    }

    #[test]
    fn directory_record_round_trip_and_bit_flips(
        h in handle(),
        identity_seed in any::<[u8; 32]>(),
        inbox_seed in any::<[u8; 32]>(),
        record_version in any::<u64>(),
        created_at_ms in any::<u64>(),
        flip in any::<prop::sample::Index>(),
        trailing in proptest::collection::vec(any::<u8>(), 1..8),
    ) {
        let sk = IdentitySecretKey::from_bytes(&identity_seed);
        let record = DirectoryRecord {
            handle: h,
            identity_key: sk.public_key(),
            inbox_key: InboxSecretKey::from_bytes(inbox_seed).public_key(),
            record_version,
            created_at_ms,
        };
        let signed = record.clone().sign(&sk).unwrap();
        let bytes = signed.to_bytes();
        let decoded = SignedRecord::decode_and_verify(&bytes).unwrap();
        prop_assert_eq!(decoded.record(), &record);
        prop_assert_eq!(&decoded, &signed);

        let bit = flip.index(bytes.len() * 8);
        let mut flipped = bytes.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(SignedRecord::decode_and_verify(&flipped).is_err(), "bit {} accepted", bit);

        let mut extended = bytes;
        extended.extend_from_slice(&trailing);
        prop_assert!(SignedRecord::decode_and_verify(&extended).is_err());
    }

    #[test]
    fn decoders_never_panic(junk in proptest::collection::vec(any::<u8>(), 0..1100)) {
        let bob = Handle::parse("bob").unwrap();
        let key = InboxSecretKey::from_bytes([3u8; 32]);
        let _ = SignedRecord::decode_and_verify(&junk);
        let _ = envelope::open(&junk, &bob, &key);
        let _ = unpad(&junk);
        let _ = unpad_exact(&junk, 49);
        let _ = InboxMessage::decode(&junk);
        let _ = Payload::decode(&junk);
        // Junk with a valid version byte reaches further into the parsers.
        let mut v1 = junk.clone();
        v1.insert(0, 1);
        let _ = SignedRecord::decode_and_verify(&v1);
        let _ = InboxMessage::decode(&v1);
        let _ = Payload::decode(&v1);
        v1.resize(256, 0);
        prop_assert!(envelope::open(&v1, &bob, &key).is_err());
    }
}

proptest! {
    // HPKE operations are comparatively slow; fewer cases still cover the size classes.
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn envelope_round_trip(
        message in proptest::collection::vec(any::<u8>(), 0..3000),
        sender in handle(),
        recipient in handle(),
        sender_seed in any::<[u8; 32]>(),
        recipient_seed in any::<[u8; 32]>(),
        rng_seed in any::<u64>(),
    ) {
        let mut rng = StdRng::seed_from_u64(rng_seed);
        let sender_key = InboxSecretKey::from_bytes(sender_seed);
        let recipient_key = InboxSecretKey::from_bytes(recipient_seed);
        let sealed = envelope::seal(
            &mut rng, &message, &sender, &sender_key, &recipient, &recipient_key.public_key(),
        ).unwrap();
        prop_assert!(is_bucket(sealed.len()), "length {} is not a bucket", sealed.len());
        if sender.as_str().len() >= 8 {
            prop_assert!(!sealed.windows(sender.as_str().len()).any(|w| w == sender.as_bytes()));
        }

        let opened = envelope::open(&sealed, &recipient, &recipient_key).unwrap();
        prop_assert_eq!(opened.sender(), &sender);
        prop_assert_eq!(opened.authenticate(&sender_key.public_key()).unwrap(), message);

        // Someone else's inbox key cannot pass for the sender's.
        let opened = envelope::open(&sealed, &recipient, &recipient_key).unwrap();
        let impostor = InboxSecretKey::generate(&mut rng).public_key();
        prop_assert_eq!(opened.authenticate(&impostor), Err(OpenError::Decryption));
    }
}
