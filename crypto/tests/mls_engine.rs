//! The MLS conversation engine end to end: several members, each with its own `Mls`, passing
//! real frames, Welcomes and KeyPackages between them (the relay's role is played by the
//! test: it decides which of two racing commits wins).

#![cfg(feature = "mls")]
// Helpers outside #[test] functions unwrap too; a failure there is a test failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;

use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentityPublicKey, IdentitySecretKey};
use parley_crypto::mls::{
    GroupId, Incoming, IncomingCommit, KeyPackageLifetime, Member, Mls, MlsError,
    KEY_PACKAGE_LIFETIME,
};
use parley_crypto::padding;
use parley_crypto::retention::Retention;
use rand::rngs::StdRng;
use rand::SeedableRng;

/// Asserts that `$e` failed with an error matching `$p`, showing what it got otherwise.
macro_rules! assert_err {
    ($e:expr, $p:pat) => {
        match $e {
            Err($p) => {}
            Err(other) => panic!("expected {}, got {other:?}", stringify!($p)),
            Ok(_) => panic!("expected {}, got Ok", stringify!($p)),
        }
    };
}

const GROUP: GroupId = [7u8; 32];

/// One member: its engine, identity, and the key/value state it persisted so far.
struct Peer {
    mls: Mls,
    handle: Handle,
    secret: IdentitySecretKey,
    stored: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl Peer {
    fn new(name: &str, seed: u64) -> Peer {
        let secret = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed));
        let handle = Handle::parse(name).unwrap();
        let mls = Mls::new(handle.clone(), &secret, Vec::new()).unwrap();
        Peer {
            mls,
            handle,
            secret,
            stored: BTreeMap::new(),
        }
    }

    fn member(&self) -> Member {
        Member {
            handle: self.handle.clone(),
            identity_key: self.key(),
        }
    }

    fn key(&self) -> IdentityPublicKey {
        self.secret.public_key()
    }

    fn key_package(&mut self) -> Vec<u8> {
        self.mls
            .generate_key_packages(1, false, now_ms())
            .unwrap()
            .remove(0)
    }

    /// What a client does after each operation: write the changes in one batch.
    fn persist(&mut self) {
        for (k, v) in self.mls.take_changes() {
            match v {
                Some(v) => self.stored.insert(k, v),
                None => self.stored.remove(&k),
            };
        }
    }

    /// Restart: a new engine from nothing but the persisted pairs.
    fn reload(&mut self) {
        self.persist();
        let state: Vec<_> = self.stored.clone().into_iter().collect();
        self.mls = Mls::new(self.handle.clone(), &self.secret, state).unwrap();
    }

    fn join(&mut self, welcome: &[u8]) -> Vec<Member> {
        let staged = self.mls.stage_welcome(welcome).unwrap();
        assert_eq!(staged.group_id(), GROUP);
        let members = staged.members().to_vec();
        assert_eq!(self.mls.join(staged).unwrap(), GROUP);
        self.persist();
        members
    }

    fn send(&mut self, text: &str) -> Vec<u8> {
        let frame = self.mls.encrypt(&GROUP, text.as_bytes()).unwrap();
        self.persist();
        frame
    }

    fn receive(&mut self, frame: &[u8]) -> (Member, String) {
        let incoming = self.mls.process(&GROUP, frame).unwrap();
        self.persist();
        match incoming {
            Incoming::Application { sender, payload } => {
                (sender, String::from_utf8(payload).unwrap())
            }
            other => panic!("expected an application message, got {other:?}"),
        }
    }

    fn staged_commit(&mut self, frame: &[u8]) -> IncomingCommit {
        match self.mls.process(&GROUP, frame).unwrap() {
            Incoming::Commit(commit) => commit,
            other => panic!("expected a commit, got {other:?}"),
        }
    }

    fn apply_commit(&mut self, frame: &[u8]) -> (Vec<Member>, Vec<Member>) {
        let commit = self.staged_commit(frame);
        let lists = (commit.added().to_vec(), commit.removed().to_vec());
        self.mls.merge_incoming_commit(&GROUP, commit).unwrap();
        self.persist();
        lists
    }

    fn access_public(&self) -> [u8; 32] {
        self.mls.access_key(&GROUP).unwrap().public_key().to_bytes()
    }
}

/// alice, the group's admin, makes bob an admin too; bob and carol merge it.
fn promote_bob(alice: &mut Peer, bob: &mut Peer, carol: &mut Peer) {
    let out = alice.mls.promote(&GROUP, &bob.handle).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    for peer in [bob, carol] {
        let commit = peer.staged_commit(&out.commit);
        assert_eq!(commit.promoted(), [Handle::parse("bob").unwrap()]);
        peer.mls.merge_incoming_commit(&GROUP, commit).unwrap();
        peer.persist();
    }
}

/// alice creates the group and adds bob and carol in one commit; everyone at epoch 1.
fn trio() -> (Peer, Peer, Peer) {
    let mut alice = Peer::new("alice", 1);
    let mut bob = Peer::new("bob", 2);
    let mut carol = Peer::new("carol", 3);
    alice.mls.create_group(GROUP, Retention::Off).unwrap();
    let kps = vec![bob.key_package(), carol.key_package()];
    bob.persist();
    carol.persist();
    let out = alice.mls.add_members(&GROUP, &kps).unwrap();
    assert_eq!(out.epoch, 0);
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    let welcome = out.welcome.unwrap();
    let expected = vec![alice.member(), bob.member(), carol.member()];
    assert_eq!(bob.join(&welcome), expected);
    assert_eq!(carol.join(&welcome), expected);
    (alice, bob, carol)
}

#[test]
fn three_members_exchange_messages() {
    let (mut alice, mut bob, mut carol) = trio();
    for peer in [&alice, &bob, &carol] {
        assert_eq!(peer.mls.epoch(&GROUP).unwrap(), 1);
        assert_eq!(
            peer.mls.members(&GROUP).unwrap(),
            vec![alice.member(), bob.member(), carol.member()]
        );
        assert!(peer.mls.is_active(&GROUP).unwrap());
    }

    let frame = alice.send("hello from alice");
    // Frames leave the engine padded to a size bucket.
    assert_eq!(padding::bucket_for(frame.len()).unwrap(), frame.len());
    assert_eq!(
        bob.receive(&frame),
        (alice.member(), "hello from alice".into())
    );
    assert_eq!(
        carol.receive(&frame),
        (alice.member(), "hello from alice".into())
    );
    // The relay echoes our own entries back; they are not ours to decrypt.
    assert!(matches!(
        alice.mls.process(&GROUP, &frame).unwrap(),
        Incoming::Ignored
    ));

    let frame = bob.send("hi, bob here");
    assert_eq!(alice.receive(&frame), (bob.member(), "hi, bob here".into()));
    assert_eq!(carol.receive(&frame), (bob.member(), "hi, bob here".into()));

    let frame = carol.send("carol too");
    assert_eq!(alice.receive(&frame), (carol.member(), "carol too".into()));
    assert_eq!(bob.receive(&frame), (carol.member(), "carol too".into()));

    assert!(bob.mls.has_group(&GROUP));
    assert!(!bob.mls.has_group(&[8u8; 32]));
}

#[test]
fn removed_member_cannot_read_later_messages() {
    let (mut alice, mut bob, mut carol) = trio();
    let out = alice
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    assert!(out.welcome.is_none());
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();

    let commit = bob.staged_commit(&out.commit);
    assert_eq!(commit.epoch(), 1);
    assert_eq!(commit.sender(), Some(&alice.member()));
    assert_eq!(commit.removed(), &[carol.member()]);
    assert!(commit.added().is_empty());
    assert!(!commit.removes_us());
    bob.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(
        bob.mls.members(&GROUP).unwrap(),
        vec![alice.member(), bob.member()]
    );

    let secret = alice.send("carol is gone");
    assert_eq!(
        bob.receive(&secret),
        (alice.member(), "carol is gone".into())
    );

    // Carol, still in epoch 1, cannot read an epoch-2 message.
    assert_err!(carol.mls.process(&GROUP, &secret), MlsError::WrongEpoch);
    // Once she processes her removal she is out for good.
    let commit = carol.staged_commit(&out.commit);
    assert!(commit.removes_us());
    carol.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    assert!(!carol.mls.is_active(&GROUP).unwrap());
    assert_err!(carol.mls.process(&GROUP, &secret), MlsError::NotAMember);
    assert_err!(carol.mls.access_key(&GROUP), MlsError::NotAMember);
    assert_err!(
        carol.mls.encrypt(&GROUP, b"let me in"),
        MlsError::NotAMember
    );
}

#[test]
fn a_removed_member_added_back_joins_again_and_reads_from_then_on() {
    let (mut alice, mut bob, mut carol) = trio();
    let out = alice
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    bob.apply_commit(&out.commit);
    let removal = carol.staged_commit(&out.commit);
    carol.mls.merge_incoming_commit(&GROUP, removal).unwrap();
    carol.persist();
    assert!(!carol.mls.is_active(&GROUP).unwrap());
    let missed = alice.send("while carol was out");
    bob.receive(&missed);

    // Added back with a fresh KeyPackage: the Welcome replaces the left group's state.
    let kp = carol.key_package();
    carol.persist();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    bob.apply_commit(&out.commit);
    let welcome = out.welcome.unwrap();
    let members = carol.join(&welcome);
    assert_eq!(members.len(), 3);
    assert!(carol.mls.is_active(&GROUP).unwrap());
    assert_eq!(
        carol.mls.epoch(&GROUP).unwrap(),
        alice.mls.epoch(&GROUP).unwrap()
    );
    // Nothing of the time away is readable; what follows is.
    assert!(carol.mls.process(&GROUP, &missed).is_err());
    let back = alice.send("welcome back");
    assert_eq!(
        carol.receive(&back),
        (alice.member(), "welcome back".into())
    );
    // The state survives a restart as one group.
    carol.reload();
    let again = bob.send("and again");
    assert_eq!(carol.receive(&again), (bob.member(), "and again".into()));

    // The same Welcome again (a relay replaying it) is refused and changes nothing.
    let epoch = carol.mls.epoch(&GROUP).unwrap();
    assert!(carol.mls.stage_welcome(&welcome).is_err());
    carol.mls.discard_changes();
    assert_eq!(carol.mls.epoch(&GROUP).unwrap(), epoch);
    let last = alice.send("still here");
    assert_eq!(carol.receive(&last), (alice.member(), "still here".into()));
}

#[test]
fn access_keys_follow_epochs_and_committer_knows_the_next_one() {
    let mut alice = Peer::new("alice", 1);
    let mut bob = Peer::new("bob", 2);
    let mut carol = Peer::new("carol", 3);
    let epoch0 = alice
        .mls
        .create_group(GROUP, Retention::Off)
        .unwrap()
        .public_key()
        .to_bytes();
    assert_eq!(alice.access_public(), epoch0);

    let kp = bob.key_package();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    let epoch1 = out.next_access_key.public_key().to_bytes();
    assert_ne!(epoch1, epoch0);
    // Until the relay accepts, alice still signs with the key of epoch 0.
    assert_eq!(alice.access_public(), epoch0);
    alice.mls.merge_own_commit(&GROUP).unwrap();
    assert_eq!(alice.access_public(), epoch1);
    bob.join(&out.welcome.unwrap());
    assert_eq!(bob.access_public(), epoch1);

    let kp = carol.key_package();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    assert_eq!(out.epoch, 1);
    let epoch2 = out.next_access_key.public_key().to_bytes();
    assert_ne!(epoch2, epoch1);
    alice.mls.merge_own_commit(&GROUP).unwrap();
    bob.apply_commit(&out.commit);
    carol.join(&out.welcome.unwrap());
    for peer in [&alice, &bob, &carol] {
        assert_eq!(peer.access_public(), epoch2);
        assert_eq!(peer.mls.epoch(&GROUP).unwrap(), 2);
    }
    assert_eq!(
        alice.mls.epoch_authenticator(&GROUP).unwrap(),
        carol.mls.epoch_authenticator(&GROUP).unwrap()
    );

    // A commit by another admin: bob's next key is what the others derive after merging.
    promote_bob(&mut alice, &mut bob, &mut carol);
    let out = bob
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    let epoch3 = out.next_access_key.public_key().to_bytes();
    bob.mls.merge_own_commit(&GROUP).unwrap();
    alice.apply_commit(&out.commit);
    assert_eq!(alice.access_public(), epoch3);
    assert_eq!(bob.access_public(), epoch3);
    assert!(![epoch0, epoch1, epoch2].contains(&epoch3));
}

#[test]
fn racing_commits_converge_after_the_loser_retries() {
    let (mut alice, mut bob, mut carol) = trio();
    promote_bob(&mut alice, &mut bob, &mut carol);
    let mut dave = Peer::new("dave", 4);
    let dave_kp = dave.key_package();
    dave.persist();

    // Both admins commit on epoch 2; the relay takes alice's.
    let winner = alice
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    let loser = bob
        .mls
        .add_members(&GROUP, std::slice::from_ref(&dave_kp))
        .unwrap();
    assert_eq!((winner.epoch, loser.epoch), (2, 2));
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();

    // Bob is refused: he drops his commit, catches up, and retries on epoch 3.
    bob.mls.abort_own_commit(&GROUP).unwrap();
    assert_err!(bob.mls.merge_own_commit(&GROUP), MlsError::NoPendingCommit);
    let (added, removed) = bob.apply_commit(&winner.commit);
    assert!(added.is_empty());
    assert_eq!(removed, vec![carol.member()]);
    let retry = bob
        .mls
        .add_members(&GROUP, std::slice::from_ref(&dave_kp))
        .unwrap();
    assert_eq!(retry.epoch, 3);
    bob.mls.merge_own_commit(&GROUP).unwrap();
    bob.persist();

    let (added, removed) = alice.apply_commit(&retry.commit);
    assert_eq!(added, vec![dave.member()]);
    assert!(removed.is_empty());
    let welcome_members = dave.join(&retry.welcome.unwrap());
    let expected = vec![alice.member(), bob.member(), dave.member()];
    assert_eq!(welcome_members, expected);

    // The stale commit of the lost race is refused by whoever sees it.
    assert_err!(
        alice.mls.process(&GROUP, &loser.commit),
        MlsError::WrongEpoch
    );

    for peer in [&alice, &bob, &dave] {
        assert_eq!(peer.mls.epoch(&GROUP).unwrap(), 4);
        assert_eq!(peer.mls.members(&GROUP).unwrap(), expected);
        assert_eq!(
            peer.access_public(),
            retry.next_access_key.public_key().to_bytes()
        );
    }
    let frame = dave.send("thanks for having me");
    assert_eq!(
        alice.receive(&frame),
        (dave.member(), "thanks for having me".into())
    );
    assert_eq!(
        bob.receive(&frame),
        (dave.member(), "thanks for having me".into())
    );

    // Carol's view ends with her removal.
    let commit = carol.staged_commit(&winner.commit);
    assert!(commit.removes_us());
}

/// The access key is kept once derived, but never served for another state of its epoch:
/// two admins' commits race for one epoch, carol merges the first, takes its key, rolls the
/// merge back and merges the second; she must then sign with the second epoch's key, or the
/// relay would refuse every call she makes to the group.
#[test]
fn a_kept_access_key_follows_the_epoch_state_not_its_number() {
    let (mut alice, mut bob, mut carol) = trio();
    promote_bob(&mut alice, &mut bob, &mut carol);
    let first = alice
        .mls
        .set_retention(&GROUP, Retention::parse("1h").unwrap())
        .unwrap();
    let second = bob
        .mls
        .set_retention(&GROUP, Retention::parse("2h").unwrap())
        .unwrap();
    assert_eq!(first.epoch, second.epoch);
    let before = carol.access_public();
    assert_eq!(carol.access_public(), before, "kept within an epoch");

    let commit = carol.staged_commit(&first.commit);
    carol.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(
        carol.access_public(),
        first.next_access_key.public_key().to_bytes()
    );
    carol.mls.discard_changes();
    carol.apply_commit(&second.commit);
    let now = carol.access_public();
    assert_eq!(now, second.next_access_key.public_key().to_bytes());
    assert_ne!(now, first.next_access_key.public_key().to_bytes());
}

#[test]
fn state_survives_reload_from_taken_changes() {
    let mut alice = Peer::new("alice", 1);
    let mut bob = Peer::new("bob", 2);
    let mut carol = Peer::new("carol", 3);
    alice.mls.create_group(GROUP, Retention::Off).unwrap();
    alice.persist();
    let kp = bob.key_package();
    bob.persist();
    bob.reload(); // the KeyPackage's private keys must come back from the stored pairs
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.persist();
    alice.reload(); // a pending commit survives a restart too
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    bob.join(&out.welcome.unwrap());

    let frame = alice.send("before restart");
    assert_eq!(bob.receive(&frame).1, "before restart");

    let access = alice.access_public();
    alice.reload();
    bob.reload();
    assert!(alice.mls.take_changes().is_empty());
    assert_eq!(alice.access_public(), access);
    assert_eq!(bob.access_public(), access);
    assert_eq!(
        bob.mls.members(&GROUP).unwrap(),
        vec![alice.member(), bob.member()]
    );

    // The conversation continues, including a replay check that needs the stored ratchets.
    let frame = bob.send("after restart");
    assert_eq!(alice.receive(&frame).1, "after restart");
    alice.reload();
    assert_err!(
        alice.mls.process(&GROUP, &frame),
        MlsError::AlreadyProcessed
    );
    let kp = carol.key_package();
    carol.persist();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.reload();
    bob.apply_commit(&out.commit);
    bob.reload();
    carol.join(&out.welcome.unwrap());
    carol.reload();
    let frame = carol.send("joined after restarts");
    assert_eq!(alice.receive(&frame).1, "joined after restarts");
    assert_eq!(bob.receive(&frame).1, "joined after restarts");
}

#[test]
fn discarded_changes_roll_the_state_back() {
    let (mut alice, mut bob, _carol) = trio();
    let mut dave = Peer::new("dave", 4);
    let kp = dave.key_package();
    let refused = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    // The relay refused: drop everything the attempt wrote, pending commit included.
    alice.mls.discard_changes();
    assert_err!(
        alice.mls.merge_own_commit(&GROUP),
        MlsError::NoPendingCommit
    );
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 1);
    assert!(alice.mls.take_changes().is_empty());
    assert_eq!(alice.access_public(), bob.access_public());
    let frame = alice.send("still epoch 1");
    assert_eq!(bob.receive(&frame).1, "still epoch 1");
    assert_ne!(
        refused.next_access_key.public_key().to_bytes(),
        bob.access_public()
    );
}

#[test]
fn discarding_rolls_back_merges_and_decryptions_the_engine_had_already_made() {
    let (mut alice, mut bob, mut carol) = trio();
    // alice merges her own add, then the client abandons the operation: epoch 1 again, and
    // what she sends is read by members who never saw the commit.
    let mut dave = Peer::new("dave", 4);
    let kp = dave.key_package();
    alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 2);
    alice.mls.discard_changes();
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 1);
    assert_eq!(alice.mls.members(&GROUP).unwrap().len(), 3);
    let frame = alice.send("still epoch 1");
    assert_eq!(bob.receive(&frame).1, "still epoch 1");

    // bob decrypts, then discards: the message is unread again, and reads the same.
    let frame = alice.send("twice");
    assert_eq!(bob.mls.epoch(&GROUP).unwrap(), 1);
    bob.mls.process(&GROUP, &frame).unwrap();
    bob.mls.discard_changes();
    assert_eq!(bob.receive(&frame).1, "twice");
    assert_err!(bob.mls.process(&GROUP, &frame), MlsError::AlreadyProcessed);

    // carol merges an incoming commit, then discards: back at epoch 1, the commit applies
    // again, and she then reads the new epoch.
    let out = bob
        .mls
        .set_retention(&GROUP, Retention::parse("1h").unwrap())
        .unwrap();
    bob.mls.merge_own_commit(&GROUP).unwrap();
    bob.persist();
    let commit = carol.staged_commit(&out.commit);
    carol.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(carol.mls.epoch(&GROUP).unwrap(), 2);
    carol.mls.discard_changes();
    assert_eq!(carol.mls.epoch(&GROUP).unwrap(), 1);
    assert_eq!(carol.mls.retention(&GROUP).unwrap(), Retention::Off);
    carol.apply_commit(&out.commit);
    let frame = bob.send("epoch 2");
    assert_eq!(carol.receive(&frame).1, "epoch 2");

    // An encryption discarded is not a message sent: the next one reads at a peer that
    // never saw the first.
    carol.mls.encrypt(&GROUP, b"never sent").unwrap();
    carol.mls.discard_changes();
    let frame = carol.send("sent");
    assert_eq!(bob.receive(&frame).1, "sent");
}

fn member_handles(peer: &Peer) -> Vec<String> {
    let mut handles: Vec<String> = peer
        .mls
        .members(&GROUP)
        .unwrap()
        .iter()
        .map(|m| m.handle.to_string())
        .collect();
    handles.sort();
    handles
}

#[test]
fn the_member_list_follows_every_epoch_state_it_is_read_in() {
    let (mut alice, mut bob, carol) = trio();
    assert_eq!(member_handles(&alice), ["alice", "bob", "carol"]);
    let mut dave = Peer::new("dave", 4);
    let kp = dave.key_package();
    alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    assert_eq!(member_handles(&alice), ["alice", "bob", "carol", "dave"]);
    // Rolled back after being read: the list read in the rolled-back state is not kept.
    alice.mls.discard_changes();
    assert_eq!(member_handles(&alice), ["alice", "bob", "carol"]);
    // Read at every step of another member's removal, on both sides.
    assert_eq!(member_handles(&bob), ["alice", "bob", "carol"]);
    let out = alice
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    assert_eq!(member_handles(&alice), ["alice", "bob"]);
    bob.apply_commit(&out.commit);
    assert_eq!(member_handles(&bob), ["alice", "bob"]);
}

/// What a member's engine shows of a group: an engine rebuilt from the persisted pairs must
/// show the same.
fn view(mls: &Mls) -> String {
    format!(
        "{:?}",
        (
            mls.epoch(&GROUP),
            mls.is_active(&GROUP),
            mls.members(&GROUP),
            mls.founder(&GROUP),
            mls.admins(&GROUP),
            mls.retention(&GROUP),
            mls.access_key(&GROUP).map(|k| k.public_key().to_bytes()),
            mls.epoch_authenticator(&GROUP),
        )
    )
}

impl Peer {
    /// Persists, then checks that an engine rebuilt from the stored pairs shows the group
    /// as the live one does and decrypts `frame` (if any) to the same plaintext; the live
    /// engine is then replaced by the rebuilt one if `swap`.
    fn check_twin(&mut self, frame: Option<&[u8]>, swap: bool) {
        self.persist();
        let state: Vec<_> = self.stored.clone().into_iter().collect();
        let mut twin = Mls::new(self.handle.clone(), &self.secret, state).unwrap();
        assert_eq!(
            view(&twin),
            view(&self.mls),
            "{} rebuilt differs",
            self.handle
        );
        if let Some(frame) = frame {
            let read = |mls: &mut Mls| format!("{:?}", mls.process(&GROUP, frame));
            assert_eq!(read(&mut twin), read(&mut self.mls));
            self.persist();
            twin.take_changes();
            assert_eq!(view(&twin), view(&self.mls));
        }
        if swap {
            self.mls = twin;
        }
    }
}

#[test]
fn an_engine_rebuilt_from_the_taken_changes_matches_the_live_one_at_every_step() {
    let (mut alice, mut bob, mut carol) = trio();
    let mut dave = Peer::new("dave", 4);
    // Every few steps one of them restarts from its stored pairs, so that both kept and
    // reloaded groups carry the conversation on.
    let mut step = 0;
    let mut check = |peers: &mut [&mut Peer], frame: Option<&[u8]>| {
        for peer in peers.iter_mut() {
            step += 1;
            peer.check_twin(frame, step % 3 == 0);
        }
    };
    for round in 0..3 {
        let frame = alice.send(&format!("alice {round}"));
        check(&mut [&mut bob, &mut carol], Some(&frame));
        let frame = bob.send(&format!("bob {round}"));
        check(&mut [&mut alice, &mut carol], Some(&frame));
        check(&mut [&mut bob], None);
    }

    let kp = dave.key_package();
    dave.persist();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    check(&mut [&mut alice], None); // a pending commit
    alice.mls.merge_own_commit(&GROUP).unwrap();
    check(&mut [&mut alice], None);
    for peer in [&mut bob, &mut carol] {
        let commit = peer.staged_commit(&out.commit);
        peer.persist();
        peer.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    }
    dave.join(&out.welcome.unwrap());
    check(&mut [&mut bob, &mut carol, &mut dave], None);

    let out = alice
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    check(&mut [&mut alice], None);
    for peer in [&mut bob, &mut dave, &mut carol] {
        peer.apply_commit(&out.commit);
    }
    check(&mut [&mut bob, &mut dave, &mut carol], None);
    assert!(!carol.mls.is_active(&GROUP).unwrap());

    let out = alice.mls.promote(&GROUP, &dave.handle).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    for peer in [&mut bob, &mut dave] {
        peer.apply_commit(&out.commit);
    }
    let out = dave
        .mls
        .set_retention(&GROUP, Retention::parse("7d").unwrap())
        .unwrap();
    dave.mls.merge_own_commit(&GROUP).unwrap();
    for peer in [&mut alice, &mut bob] {
        peer.apply_commit(&out.commit);
    }
    check(&mut [&mut alice, &mut bob, &mut dave], None);

    for round in 0..2 {
        let frame = dave.send(&format!("dave {round}"));
        check(&mut [&mut alice, &mut bob], Some(&frame));
        let frame = alice.send(&format!("alice again {round}"));
        check(&mut [&mut bob, &mut dave], Some(&frame));
    }
}

/// The time the engine is given: the real one, because OpenMLS checks KeyPackage lifetimes
/// against the system clock as well.
fn now_ms() -> u64 {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    u64::try_from(since_epoch.as_millis()).unwrap()
}

#[test]
fn key_packages_live_from_the_time_given_for_twelve_weeks() {
    let alice = Peer::new("alice", 1);
    let mut bob = Peer::new("bob", 2);
    // Three hours ago by the caller's clock, still valid by the system's.
    let made_at = now_ms() - 3 * 3600 * 1000;
    let kp = bob
        .mls
        .generate_key_packages(1, false, made_at)
        .unwrap()
        .remove(0);
    let lifetime = alice.mls.key_package_lifetime(&kp).unwrap();
    let made_at_secs = made_at / 1000;
    assert_eq!(lifetime, KeyPackageLifetime::starting_at(made_at));
    assert_eq!(lifetime.not_before_secs, made_at_secs - 3600);
    assert_eq!(
        lifetime.not_after_secs,
        made_at_secs + KEY_PACKAGE_LIFETIME.as_secs()
    );
    assert_eq!(KEY_PACKAGE_LIFETIME.as_secs(), 84 * 24 * 3600);

    let secs = |s: u64| s * 1000;
    let last_valid = secs(lifetime.not_after_secs) - 1;
    assert!(alice.mls.inspect_key_package(&kp, last_valid).is_ok());
    assert_err!(
        alice
            .mls
            .inspect_key_package(&kp, secs(lifetime.not_after_secs)),
        MlsError::KeyPackageExpired
    );
    assert!(alice
        .mls
        .inspect_key_package(&kp, secs(lifetime.not_before_secs))
        .is_ok());
    assert_err!(
        alice
            .mls
            .inspect_key_package(&kp, secs(lifetime.not_before_secs) - 1),
        MlsError::KeyPackageNotYetValid
    );
}

#[test]
fn key_package_inspection_names_its_owner() {
    let mut alice = Peer::new("alice", 1);
    let mut bob = Peer::new("bob", 2);
    let kps = bob.mls.generate_key_packages(3, false, now_ms()).unwrap();
    let last_resort = bob.mls.generate_key_packages(1, true, now_ms()).unwrap();
    assert_eq!(kps.len(), 3);
    for kp in kps.iter().chain(&last_resort) {
        let member = alice.mls.inspect_key_package(kp, now_ms()).unwrap();
        assert_eq!(member.handle, bob.handle);
        assert_eq!(member.identity_key, bob.key());
    }
    assert_ne!(kps[0], kps[1]);

    // Garbage, a flipped signature bit, and a message that is not a KeyPackage.
    assert_err!(
        alice
            .mls
            .inspect_key_package(b"not a key package", now_ms()),
        MlsError::Malformed
    );
    // The last byte of the KeyPackage itself (part of its signature), not of the padding.
    let mut forged = kps[0].clone();
    let last = 4 + padding::unpad(&forged).unwrap().len() - 1;
    forged[last] ^= 1;
    assert_err!(
        alice.mls.inspect_key_package(&forged, now_ms()),
        MlsError::InvalidKeyPackage
    );
    alice.mls.create_group(GROUP, Retention::Off).unwrap();
    let out = alice.mls.add_members(&GROUP, &kps[..1]).unwrap();
    assert_err!(
        alice
            .mls
            .inspect_key_package(&out.welcome.unwrap(), now_ms()),
        MlsError::Malformed
    );
    // Forged KeyPackages are refused by add_members as well.
    alice.mls.abort_own_commit(&GROUP).unwrap();
    assert_err!(
        alice.mls.add_members(&GROUP, &[forged]),
        MlsError::InvalidKeyPackage
    );
}

#[test]
fn key_package_with_a_non_handle_credential_is_refused() {
    use openmls::prelude::tls_codec::Serialize;
    use openmls::prelude::{
        BasicCredential, Ciphersuite, CredentialWithKey, KeyPackage, MlsMessageOut,
    };
    use openmls_basic_credential::SignatureKeyPair;
    use openmls_rust_crypto::OpenMlsRustCrypto;

    let provider = OpenMlsRustCrypto::default();
    let suite = Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;
    let signer = SignatureKeyPair::new(suite.signature_algorithm()).unwrap();
    let credential = CredentialWithKey {
        credential: BasicCredential::new(b"Not A Handle!".to_vec()).into(),
        signature_key: signer.public().to_vec().into(),
    };
    let bundle = KeyPackage::builder()
        .build(suite, &provider, &signer, credential)
        .unwrap();
    let bytes = MlsMessageOut::from(bundle.key_package().clone())
        .tls_serialize_detached()
        .unwrap();
    let bytes = padding::pad(&bytes, 0).unwrap();

    let mut alice = Peer::new("alice", 1);
    assert_err!(
        alice.mls.inspect_key_package(&bytes, now_ms()),
        MlsError::InvalidCredential
    );
    alice.mls.create_group(GROUP, Retention::Off).unwrap();
    assert_err!(
        alice.mls.add_members(&GROUP, &[bytes]),
        MlsError::InvalidCredential
    );
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 0);
}

#[test]
fn tampered_replayed_and_stale_frames_are_rejected() {
    let (mut alice, mut bob, _carol) = trio();
    let frame = alice.send("integrity matters");
    let content_len = u32::from_be_bytes(frame[..4].try_into().unwrap()) as usize;

    // A flipped bit in the ciphertext (its last byte is inside the AEAD tag).
    let mut tampered = frame.clone();
    tampered[4 + content_len - 1] ^= 0x01;
    assert_err!(bob.mls.process(&GROUP, &tampered), MlsError::InvalidMessage);
    // Non-zero padding, a frame cut short, and a frame that is not a bucket.
    let mut bad_padding = frame.clone();
    *bad_padding.last_mut().unwrap() = 1;
    assert_err!(bob.mls.process(&GROUP, &bad_padding), MlsError::Malformed);
    assert_err!(
        bob.mls.process(&GROUP, &frame[..frame.len() / 2]),
        MlsError::Malformed
    );
    let mut garbage = padding::pad(b"definitely not MLS", 0).unwrap();
    assert_err!(bob.mls.process(&GROUP, &garbage), MlsError::Malformed);
    garbage.push(0);
    assert_err!(bob.mls.process(&GROUP, &garbage), MlsError::Malformed);
    // An entry of another group, and a group we do not have.
    assert_err!(bob.mls.process(&[9u8; 32], &frame), MlsError::WrongGroup);

    // The rejected copies left no trace: the genuine frame still decrypts, once.
    assert_eq!(bob.receive(&frame).1, "integrity matters");
    assert_err!(bob.mls.process(&GROUP, &frame), MlsError::AlreadyProcessed);

    // A message from an epoch the group has just left is still read, once.
    let old = bob.send("sent in epoch 1");
    let mut dave = Peer::new("dave", 4);
    let kp = dave.key_package();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    assert_eq!(
        alice.receive(&old),
        (bob.member(), "sent in epoch 1".into())
    );
    assert_err!(alice.mls.process(&GROUP, &old), MlsError::AlreadyProcessed);
    // A commit processed twice: the second time it is stale.
    bob.apply_commit(&out.commit);
    assert_err!(bob.mls.process(&GROUP, &out.commit), MlsError::WrongEpoch);
    // A Welcome is not a group log entry, and a frame is not a Welcome.
    let welcome = out.welcome.unwrap();
    assert_err!(
        bob.mls.process(&GROUP, &padding::pad(&welcome, 0).unwrap()),
        MlsError::Malformed
    );
    assert_err!(dave.mls.stage_welcome(&frame), MlsError::Malformed);
    // Bob holds no KeyPackage this Welcome was sealed to.
    assert_err!(
        bob.mls.stage_welcome(&welcome),
        MlsError::NoMatchingKeyPackage
    );
}

#[test]
fn messages_displaced_past_commits_are_read_for_three_epochs_from_their_sender_only() {
    let (mut alice, mut bob, mut carol) = trio();
    // Sent in epoch 1, served by the relay only after the commits that followed.
    let from_bob = bob.send("bob, epoch 1");
    let too_old = bob.send("bob, epoch 1, served four epochs later");
    let from_carol = carol.send("carol, epoch 1");

    // alice removes carol (epoch 2), then dave takes carol's leaf (epoch 3).
    alice
        .mls
        .remove_members(&GROUP, std::slice::from_ref(&carol.handle))
        .unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    let mut dave = Peer::new("dave", 4);
    let kp = dave.key_package();
    alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 3);
    assert!(alice.mls.members(&GROUP).unwrap().contains(&dave.member()));

    // Two epochs late, bob's message reads, attributed to bob.
    assert_eq!(
        alice.receive(&from_bob),
        (bob.member(), "bob, epoch 1".into())
    );
    // carol's leaf now belongs to dave: her old message must not be shown as his.
    assert_err!(alice.mls.process(&GROUP, &from_carol), MlsError::WrongEpoch);

    // Two more epochs: epoch 1 is now four behind, beyond the three kept.
    for (name, seed) in [("erin", 5), ("frank", 6)] {
        let kp = Peer::new(name, seed).key_package();
        alice.mls.add_members(&GROUP, &[kp]).unwrap();
        alice.mls.merge_own_commit(&GROUP).unwrap();
    }
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 5);
    assert_err!(alice.mls.process(&GROUP, &too_old), MlsError::TooOld);
}

#[test]
fn group_operations_report_typed_errors() {
    let mut alice = Peer::new("alice", 1);
    assert_err!(alice.mls.epoch(&GROUP), MlsError::UnknownGroup);
    assert_err!(alice.mls.encrypt(&GROUP, b"x"), MlsError::UnknownGroup);
    alice.mls.create_group(GROUP, Retention::Off).unwrap();
    assert_err!(
        alice.mls.create_group(GROUP, Retention::Off),
        MlsError::GroupExists
    );
    assert!(matches!(
        alice.mls.remove_members(&GROUP, &[Handle::parse("zed").unwrap()]),
        Err(MlsError::UnknownMember(h)) if h.as_str() == "zed"
    ));
    assert_err!(
        alice
            .mls
            .remove_members(&GROUP, std::slice::from_ref(&alice.handle)),
        MlsError::CannotRemoveSelf
    );
    assert_err!(alice.mls.add_members(&GROUP, &[]), MlsError::EmptyInput);
    let mut bob = Peer::new("bob", 2);
    let kp = bob.key_package();
    alice
        .mls
        .add_members(&GROUP, std::slice::from_ref(&kp))
        .unwrap();
    // While a commit awaits the relay, no second commit can be staged on top of it.
    let mut carol = Peer::new("carol", 3);
    let kp = carol.key_package();
    assert_err!(
        alice.mls.add_members(&GROUP, &[kp]),
        MlsError::PendingCommit
    );
    alice.mls.merge_own_commit(&GROUP).unwrap();
    // Adding an identity that is already in the group.
    let again = bob.key_package();
    assert!(matches!(
        alice.mls.add_members(&GROUP, &[again]),
        Err(MlsError::AlreadyMember(h)) if h == bob.handle
    ));
    let mut carol = Peer::new("carol", 3);
    let twice = vec![carol.key_package(), carol.key_package()];
    assert!(matches!(
        alice.mls.add_members(&GROUP, &twice),
        Err(MlsError::AlreadyMember(h)) if h == carol.handle
    ));
    assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 1);
}

#[test]
fn a_rotated_member_moves_its_leaf_with_a_commit_signed_by_the_old_key() {
    let (mut alice, mut bob, mut carol) = trio();
    let old = alice.member();
    // alice rotates: a new identity, the old one kept to sign the move.
    let previous = std::mem::replace(
        &mut alice.secret,
        IdentitySecretKey::generate(&mut StdRng::seed_from_u64(99)),
    );
    alice.persist();
    let state: Vec<_> = alice.stored.clone().into_iter().collect();
    alice.mls = Mls::new(alice.handle.clone(), &alice.secret, state)
        .unwrap()
        .with_previous_identity(&previous);
    assert!(alice.mls.on_previous_identity(&GROUP).unwrap());

    // Until the move, her messages still come from the old leaf.
    let frame = alice.send("before the move");
    assert_eq!(bob.receive(&frame), (old.clone(), "before the move".into()));

    let out = alice.mls.move_to_current_identity(&GROUP).unwrap();
    assert!(out.welcome.is_none());
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    assert!(!alice.mls.on_previous_identity(&GROUP).unwrap());
    for peer in [&mut bob, &mut carol] {
        let commit = peer.staged_commit(&out.commit);
        assert_eq!(commit.sender(), Some(&old), "signed by the pinned key");
        assert_eq!(commit.rekeyed(), Some(&alice.member()));
        assert!(commit.added().is_empty() && commit.removed().is_empty());
        peer.mls.merge_incoming_commit(&GROUP, commit).unwrap();
        peer.persist();
    }
    let frame = alice.send("after the move");
    assert_eq!(
        bob.receive(&frame),
        (alice.member(), "after the move".into())
    );
    assert_eq!(
        carol.receive(&frame),
        (alice.member(), "after the move".into())
    );
    let frame = bob.send("welcome back");
    assert_eq!(alice.receive(&frame), (bob.member(), "welcome back".into()));

    // A member without a rotation behind it has nothing to move from.
    assert_err!(
        bob.mls.move_to_current_identity(&GROUP),
        MlsError::NoPreviousIdentity
    );
}

/// alice creates the group with `retention` and adds bob; both at epoch 1.
fn pair_with(retention: Retention) -> (Peer, Peer) {
    let mut alice = Peer::new("alice", 1);
    let mut bob = Peer::new("bob", 2);
    alice.mls.create_group(GROUP, retention).unwrap();
    let kp = bob.key_package();
    bob.persist();
    let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    bob.join(&out.welcome.unwrap());
    (alice, bob)
}

#[test]
fn retention_set_at_creation_reaches_whoever_joins() {
    let week = Retention::parse("7d").unwrap();
    let (alice, mut bob) = pair_with(week);
    assert_eq!(alice.mls.retention(&GROUP).unwrap(), week);
    assert_eq!(bob.mls.retention(&GROUP).unwrap(), week);
    bob.reload();
    assert_eq!(bob.mls.retention(&GROUP).unwrap(), week);
}

#[test]
fn a_retention_change_is_a_commit_every_member_is_told_of() {
    let (mut alice, mut bob) = pair_with(Retention::Off);
    assert_eq!(bob.mls.retention(&GROUP).unwrap(), Retention::Off);
    let day = Retention::parse("24h").unwrap();
    let out = alice.mls.set_retention(&GROUP, day).unwrap();
    // Not in force until the relay accepted it and it is merged.
    assert_eq!(alice.mls.retention(&GROUP).unwrap(), Retention::Off);
    alice.mls.merge_own_commit(&GROUP).unwrap();
    alice.persist();
    assert_eq!(alice.mls.retention(&GROUP).unwrap(), day);

    let commit = bob.staged_commit(&out.commit);
    assert_eq!(commit.retention(), Some(day));
    assert!(commit.added().is_empty() && commit.removed().is_empty());
    bob.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    bob.persist();
    assert_eq!(bob.mls.retention(&GROUP).unwrap(), day);

    // And back off: the extension goes, and the change is reported as such.
    let out = bob.mls.set_retention(&GROUP, Retention::Off).unwrap();
    bob.mls.merge_own_commit(&GROUP).unwrap();
    let commit = alice.staged_commit(&out.commit);
    assert_eq!(commit.retention(), Some(Retention::Off));
    alice.mls.merge_incoming_commit(&GROUP, commit).unwrap();
    assert_eq!(alice.mls.retention(&GROUP).unwrap(), Retention::Off);

    // An ordinary commit reports no change.
    let out = alice
        .mls
        .remove_members(&GROUP, &[bob.handle.clone()])
        .unwrap();
    let commit = bob.staged_commit(&out.commit);
    assert_eq!(commit.retention(), None);
}

#[test]
fn forgetting_past_epochs_makes_their_late_messages_unreadable() {
    let (mut alice, mut bob) = pair_with(Retention::parse("1h").unwrap());
    let late = alice.send("sent in epoch 1, delivered after the commit");
    let kept = alice.send("the same, for the control");
    let out = alice
        .mls
        .set_retention(&GROUP, Retention::parse("2h").unwrap())
        .unwrap();
    alice.mls.merge_own_commit(&GROUP).unwrap();
    bob.apply_commit(&out.commit);
    // Past-epoch keys are kept for late messages...
    assert_eq!(bob.receive(&kept).1, "the same, for the control");
    // ...until the client drops them, once what they protect has expired.
    bob.mls.forget_past_epochs(&GROUP).unwrap();
    bob.reload();
    assert!(bob.mls.process(&GROUP, &late).is_err());
    // The current epoch is unaffected.
    let now = alice.send("epoch 2");
    assert_eq!(bob.receive(&now).1, "epoch 2");
}
