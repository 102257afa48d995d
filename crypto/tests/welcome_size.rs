//! Sizes of what the engine and the envelopes hand to the relay, measured with Parley's real
//! ciphersuite: invitations (a Welcome and the other members' signed records) into groups of
//! two and of a hundred members seal into deposits of one and the same length, and
//! KeyPackages are exactly a padding bucket.
//!
//! Measured when the floor was chosen (every member added in one commit): with 32-byte
//! handles a Welcome for a group of 2 is 859 bytes, for 100 members 36,065 bytes (about 360
//! bytes per member added at once), and each member's record about 180 bytes; both
//! invitations seal into 65,536-byte deposits. Run with `--nocapture` to see the numbers of
//! the current build.

#![cfg(feature = "mls")]
// Helpers outside #[test] functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::envelope::{self, INVITATION_ENVELOPE_LEN};
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::inbox_message::{InboxMessage, MAX_CONVERSATION_NAME_LEN};
use parley_crypto::mls::Mls;
use parley_crypto::padding;
use parley_crypto::retention::Retention;
use rand::rngs::StdRng;
use rand::SeedableRng;

const GROUP: [u8; 32] = [9u8; 32];
/// The deposit every invitation into a group of up to a hundred members must fill exactly.
const WELCOME_DEPOSIT_LEN: usize = 64 * 1024;
/// A Welcome and its records leave at least this much of the deposit unused, so that groups
/// a little beyond a hundred, and a fuller ratchet tree than one commit leaves, still share
/// the bucket.
const SPARE: usize = 4 * 1024;

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

fn identity(i: usize) -> IdentitySecretKey {
    let seed = u64::try_from(i).unwrap();
    IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed))
}

fn engine(i: usize, long: bool) -> Mls {
    Mls::new(handle(i, long), &identity(i), Vec::new()).unwrap()
}

/// Member `i`'s signed directory record, as the inviter pinned it.
fn record(i: usize, long: bool) -> Vec<u8> {
    let secret = identity(i);
    let mut rng = StdRng::seed_from_u64(1000 + u64::try_from(i).unwrap());
    DirectoryRecord {
        handle: handle(i, long),
        identity_key: secret.public_key(),
        inbox_key: InboxSecretKey::generate(&mut rng).public_key(),
        record_version: u64::MAX,
        created_at_ms: u64::MAX,
    }
    .sign(&secret)
    .map(|signed: SignedRecord| signed.to_bytes())
    .unwrap()
}

/// The Welcome (as the engine hands it out) of a group of `members`, all added at once by
/// its creator, and an engine of one invitee.
fn welcome(members: usize, long: bool) -> (Vec<u8>, Mls) {
    let mut creator = engine(0, long);
    creator.create_group(GROUP, Retention::Off).unwrap();
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

/// The invitation as a client sends it: the Welcome with the records of the members other
/// than the invitee (1 is the invitee, 0 the sender, whose record rides in the envelope).
fn invitation(welcome: &[u8], members: usize, long: bool) -> Vec<u8> {
    let name = if long {
        "n".repeat(MAX_CONVERSATION_NAME_LEN)
    } else {
        "t".to_owned()
    };
    InboxMessage::WelcomeWithRecords {
        conversation_name: name,
        welcome: welcome.to_vec(),
        member_records: (0..members)
            .filter(|i| *i != 1)
            .map(|i| record(i, long))
            .collect(),
    }
    .encode()
    .unwrap()
}

/// The invitation sealed into a deposit as a client sends it.
fn sealed(invitation: &[u8], long: bool) -> Vec<u8> {
    let mut rng = StdRng::seed_from_u64(7);
    let sender_inbox = InboxSecretKey::generate(&mut rng);
    let recipient_inbox = InboxSecretKey::generate(&mut rng).public_key();
    envelope::seal_invitation(
        &mut rng,
        invitation,
        &handle(0, long),
        &sender_inbox,
        &record(0, long),
        &handle(1, long),
        &recipient_inbox,
    )
    .unwrap()
}

#[test]
fn invitations_into_groups_of_two_and_a_hundred_make_deposits_of_one_length() {
    assert_eq!(INVITATION_ENVELOPE_LEN, WELCOME_DEPOSIT_LEN);
    let mut deposits = Vec::new();
    for long in [false, true] {
        for members in [2, 100] {
            let (welcome, mut invitee) = welcome(members, long);
            let invitation = invitation(&welcome, members, long);
            let deposit = sealed(&invitation, long);
            eprintln!(
                "{members} members, {} handles: Welcome {} bytes, invitation {} bytes, sealed {}",
                if long { "32-byte" } else { "4-byte" },
                welcome.len(),
                invitation.len(),
                deposit.len()
            );
            assert!(
                deposit.len() - invitation.len() > SPARE,
                "{members} members: invitation {} bytes leaves no room",
                invitation.len()
            );
            deposits.push(deposit.len());
            // What the invitee opens is the Welcome as the engine handed it out.
            let staged = invitee.stage_welcome(&welcome).unwrap();
            assert_eq!(staged.members().len(), members);
        }
    }
    assert!(
        deposits.iter().all(|len| *len == WELCOME_DEPOSIT_LEN),
        "{deposits:?}"
    );
}

#[test]
fn an_invitation_larger_than_the_floor_is_padded_to_its_own_bucket() {
    let mut rng = StdRng::seed_from_u64(3);
    let sender_inbox = InboxSecretKey::generate(&mut rng);
    let recipient_inbox = InboxSecretKey::generate(&mut rng).public_key();
    let large = vec![7u8; WELCOME_DEPOSIT_LEN];
    let deposit = envelope::seal_invitation(
        &mut rng,
        &large,
        &handle(0, false),
        &sender_inbox,
        &record(0, false),
        &handle(1, false),
        &recipient_inbox,
    )
    .unwrap();
    assert_eq!(deposit.len(), 2 * WELCOME_DEPOSIT_LEN);
    assert!(padding::is_bucket(deposit.len()));
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
