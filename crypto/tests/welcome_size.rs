//! Sizes of what the engine hands to the relay, measured with Parley's real ciphersuite:
//! Welcomes of groups of two and of a hundred members seal into deposits of one and the same
//! length, and KeyPackages are exactly a padding bucket.
//!
//! Measured when the floor was chosen (32-byte handles, every member added in one commit):
//! a Welcome for a group of 2 is 859 bytes, for 100 members 36,065 bytes (803 and 33,265
//! with 4-byte handles; about 360 bytes per member added at once). Both are padded to a
//! 61,440-byte frame and seal into 65,536-byte deposits. Run with `--nocapture` to see the
//! numbers of the current build.

#![cfg(feature = "mls")]
// Helpers outside #[test] functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::inbox_message::{InboxMessage, MAX_CONVERSATION_NAME_LEN};
use parley_crypto::mls::{Mls, WELCOME_FRAME_LEN};
use parley_crypto::padding;
use rand::rngs::StdRng;
use rand::SeedableRng;

const GROUP: [u8; 32] = [9u8; 32];
/// The deposit every Welcome of a group of up to a hundred members must fill exactly.
const WELCOME_DEPOSIT_LEN: usize = 64 * 1024;

fn now_ms() -> u64 {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since.as_millis()).unwrap()
}

/// Handle number `i`: 32 bytes (the longest a handle may be) or 4.
fn handle(i: usize, long: bool) -> Handle {
    let text = if long {
        format!("{i:03}-{}", "x".repeat(28))
    } else {
        format!("m{i:03}")
    };
    Handle::parse(&text).unwrap()
}

fn engine(i: usize, long: bool) -> Mls {
    let seed = u64::try_from(i).unwrap();
    let secret = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed));
    Mls::new(handle(i, long), &secret, Vec::new()).unwrap()
}

/// The Welcome (as the engine hands it out) of a group of `members`, all added at once by
/// its creator, and an engine of one invitee.
fn welcome(members: usize, long: bool) -> (Vec<u8>, Mls) {
    let mut creator = engine(0, long);
    creator.create_group(GROUP).unwrap();
    let mut invitees: Vec<Mls> = (1..members).map(|i| engine(i, long)).collect();
    let key_packages: Vec<Vec<u8>> = invitees
        .iter_mut()
        .map(|mls| {
            mls.generate_key_packages(1, false, now_ms())
                .unwrap()
                .remove(0)
        })
        .collect();
    let out = creator.add_members(&GROUP, &key_packages).unwrap();
    (out.welcome.unwrap(), invitees.remove(0))
}

/// The Welcome sealed into a deposit as a client sends it: with the longest conversation
/// name and handles (`long`) or the shortest.
fn sealed(welcome: &[u8], long: bool) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(7);
    let (name, sender, recipient) = if long {
        (
            "n".repeat(MAX_CONVERSATION_NAME_LEN),
            handle(0, true),
            handle(1, true),
        )
    } else {
        (
            "t".to_owned(),
            Handle::parse("abc").unwrap(),
            Handle::parse("xyz").unwrap(),
        )
    };
    let message = InboxMessage::Welcome {
        conversation_name: name,
        welcome: welcome.to_vec(),
    }
    .encode()
    .unwrap();
    let sender_inbox = InboxSecretKey::generate(&mut rng);
    let recipient_inbox = InboxSecretKey::generate(&mut rng).public_key();
    envelope::seal(
        &mut rng,
        &message,
        &sender,
        &sender_inbox,
        &recipient,
        &recipient_inbox,
    )
    .unwrap()
}

#[test]
fn welcomes_for_two_and_a_hundred_members_make_deposits_of_one_length() {
    let mut deposits = Vec::new();
    for long in [false, true] {
        for members in [2, 100] {
            let (frame, mut invitee) = welcome(members, long);
            let content = padding::unpad(&frame).unwrap().len();
            eprintln!(
                "{members} members, {} handles: Welcome {content} bytes, frame {}",
                if long { "32-byte" } else { "4-byte" },
                frame.len()
            );
            assert_eq!(frame.len(), WELCOME_FRAME_LEN, "{members} members");
            // Room to spare below the floor, so that groups a little beyond a hundred, and
            // a fuller ratchet tree than one commit leaves, still share the bucket.
            assert!(content < WELCOME_FRAME_LEN * 3 / 4, "{content}");
            for long_names in [false, true] {
                let deposit = sealed(&frame, long_names);
                eprintln!("  sealed: {} bytes", deposit.len());
                deposits.push(deposit.len());
            }
            // The padded Welcome is what an invitee opens.
            let staged = invitee.stage_welcome(&frame).unwrap();
            assert_eq!(staged.members().len(), members);
        }
    }
    assert!(
        deposits.iter().all(|len| *len == WELCOME_DEPOSIT_LEN),
        "{deposits:?}"
    );
}

#[test]
fn a_welcome_without_its_padding_is_refused() {
    let (frame, mut invitee) = welcome(2, false);
    let bare = padding::unpad(&frame).unwrap().to_vec();
    assert!(invitee.stage_welcome(&bare).is_err());
    let bucket_only = padding::pad(&bare, 0).unwrap();
    assert!(invitee.stage_welcome(&bucket_only).is_err());
    assert!(invitee.stage_welcome(&frame).is_ok());
}

#[test]
fn key_packages_are_exactly_a_bucket() {
    let mut mls = engine(1, true);
    let mut all = mls.generate_key_packages(3, false, now_ms()).unwrap();
    all.extend(mls.generate_key_packages(1, true, now_ms()).unwrap());
    for key_package in &all {
        assert!(
            padding::is_bucket(key_package.len()),
            "{}",
            key_package.len()
        );
        assert_eq!(
            mls.inspect_key_package(key_package, now_ms())
                .unwrap()
                .handle,
            handle(1, true)
        );
        // Unpadded, or padded into a frame of another length, it is refused.
        let bare = padding::unpad(key_package).unwrap();
        assert!(mls.inspect_key_package(bare, now_ms()).is_err());
        let mut longer = key_package.clone();
        longer.extend_from_slice(&[0; 256]);
        assert!(mls.inspect_key_package(&longer, now_ms()).is_err());
    }
}
