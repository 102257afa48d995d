//! The engine itself: who we are (handle, signer), the provider holding all group state,
//! state persistence and the shared helpers of the group operations.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use openmls::prelude::{
    BasicCredential, Ciphersuite, CredentialWithKey, GroupId as MlsGroupId, MlsGroup,
    MlsGroupJoinConfig, SignatureScheme, PURE_CIPHERTEXT_WIRE_FORMAT_POLICY,
};
use openmls_basic_credential::SignatureKeyPair;
use openmls_traits::OpenMlsProvider;
use zeroize::Zeroizing;

use super::epoch_cache::EpochCache;
use super::errors::MlsError;
use super::members::Member;
use super::storage::Provider;
use super::GroupId;
use crate::access::{AccessKey, ACCESS_EXPORTER_LABEL, ACCESS_SECRET_LEN};
use crate::handle::Handle;
use crate::identity::{IdentityPublicKey, IdentitySecretKey};

/// The one ciphersuite Parley speaks.
pub(crate) const SUITE: Ciphersuite =
    Ciphersuite::MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519;

/// PrivateMessage content is padded to a multiple of this many bytes, on top of the
/// size-bucket padding of the frame.
const PADDING_SIZE: usize = 64;
/// Past epochs whose application messages can still be read. A hostile relay (or a slow
/// sender) can serve a message after the commit that closed its epoch; without these keys it
/// would be lost. The store keeps decrypted history anyway, so the keys reveal nothing a
/// seized laptop would not already show.
pub(crate) const PAST_EPOCHS: usize = 3;

/// The conversation engine: one per local identity. It owns the OpenMLS provider (RustCrypto
/// and an in-memory key/value storage) and the signer, and never hands OpenMLS types out.
///
/// The storage is the state: every operation writes through it, and `discard_changes` rolls
/// it back. Groups are also kept loaded, since loading one deserializes its whole ratchet
/// tree (milliseconds at a thousand members, against about a hundred microseconds for a
/// message); a kept group is always what loading it from the storage would give.
pub struct Mls {
    pub(crate) handle: Handle,
    pub(crate) identity_key: IdentityPublicKey,
    pub(crate) signer: SignatureKeyPair,
    /// The identity replaced by a key rotation, kept while some group still has our leaf
    /// on it: that group's next commit of ours (the move) must be signed by it.
    pub(crate) previous: Option<(IdentityPublicKey, SignatureKeyPair)>,
    pub(crate) provider: Provider,
    /// Groups as the storage holds them, loaded once. A group is taken out while an
    /// operation works on it and put back only if the operation succeeded: OpenMLS writes
    /// every change through to the storage as it makes it, so after a success the group and
    /// the storage agree, while after an error the storage alone is trusted. Emptied by
    /// `discard_changes`, which rolls the storage back under it. A mutex (never held while
    /// OpenMLS works) lets the read-only queries on `&self` fill it too, and keeps `Mls`
    /// `Sync`.
    groups: Mutex<HashMap<GroupId, MlsGroup>>,
    /// Each group's relay access key, for the epoch state it was derived in.
    pub(crate) access_keys: EpochCache<AccessKey>,
    /// Each group's members, for the epoch state they were read in.
    pub(crate) members: EpochCache<Vec<Member>>,
}

impl Mls {
    /// Builds the engine for `handle` with `identity` as leaf signature key.
    ///
    /// `state`: the key/value pairs previously returned by [`Mls::take_changes`] (the caller
    /// persists them); empty for a fresh identity.
    pub fn new(
        handle: Handle,
        identity: &IdentitySecretKey,
        state: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>,
    ) -> Result<Mls, MlsError> {
        Ok(Mls {
            handle,
            identity_key: identity.public_key(),
            signer: signer_of(identity),
            previous: None,
            provider: Provider::new(state),
            groups: Mutex::default(),
            access_keys: EpochCache::default(),
            members: EpochCache::default(),
        })
    }

    /// Also keeps `previous`, the identity a key rotation replaced, to sign the commits that
    /// move our leaf in each group from it to the current one.
    pub fn with_previous_identity(mut self, previous: &IdentitySecretKey) -> Mls {
        self.previous = Some((previous.public_key(), signer_of(previous)));
        self
    }

    /// Takes `new` as our identity from now on (after a key rotation); the one it replaces
    /// is kept as the previous identity (see [`Mls::with_previous_identity`]).
    pub fn replace_identity(&mut self, new: &IdentitySecretKey) {
        let old = std::mem::replace(&mut self.signer, signer_of(new));
        self.previous = Some((self.identity_key, old));
        self.identity_key = new.public_key();
    }

    /// Forgets the previous identity: groups still on it can no longer be moved (nor sent to).
    pub fn forget_previous_identity(&mut self) {
        self.previous = None;
    }

    /// The signer of our leaf in `group`: the previous identity's while the group has not
    /// been moved to the current one.
    pub(crate) fn signer_for(&self, group: &MlsGroup) -> &SignatureKeyPair {
        match (&self.previous, group.own_leaf_node()) {
            (Some((key, signer)), Some(leaf))
                if leaf.signature_key().as_slice() == key.to_bytes().as_slice() =>
            {
                signer
            }
            _ => &self.signer,
        }
    }

    /// Key/value writes since the last call (`None` = delete). The caller persists them
    /// atomically with whatever else the operation changed (history, cursors).
    pub fn take_changes(&mut self) -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
        self.provider.take_changes()
    }

    /// Drops changes not yet taken, restoring the state as of the last
    /// [`Mls::take_changes`] (used when an operation must be abandoned, e.g. the relay
    /// refused a commit).
    pub fn discard_changes(&mut self) {
        self.provider.discard_changes();
        // Kept groups may hold what was just rolled back: the next use reloads them.
        self.cache().clear();
        self.access_keys.clear();
        self.members.clear();
    }

    /// Our handle.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Whether a group with this id is stored.
    pub fn has_group(&self, group_id: &GroupId) -> bool {
        self.with_group(group_id, |_| Ok(())).is_ok()
    }

    /// Our credential and leaf signature key.
    pub(crate) fn credential(&self) -> CredentialWithKey {
        CredentialWithKey {
            credential: BasicCredential::new(self.handle.as_bytes().to_vec()).into(),
            signature_key: self.identity_key.to_bytes().to_vec().into(),
        }
    }

    fn cache(&self) -> MutexGuard<'_, HashMap<GroupId, MlsGroup>> {
        // Held only to insert, remove or clear: a panic elsewhere leaves no half-done entry.
        self.groups.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Takes the group out of the kept ones, or loads it from the storage. The caller puts
    /// it back with [`Mls::keep`] if it still matches the storage, or drops it.
    pub(crate) fn take_group(&self, group_id: &GroupId) -> Result<MlsGroup, MlsError> {
        if let Some(group) = self.cache().remove(group_id) {
            return Ok(group);
        }
        MlsGroup::load(self.provider.storage(), &MlsGroupId::from_slice(group_id))?
            .ok_or(MlsError::UnknownGroup)
    }

    /// Keeps `group` loaded; it must be exactly what the storage holds for it.
    pub(crate) fn keep(&self, group_id: GroupId, group: MlsGroup) {
        self.cache().insert(group_id, group);
    }

    /// Runs `f` on the group. The group is kept for the next call only if `f` succeeds:
    /// an error may come from OpenMLS midway through a change, leaving the loaded group and
    /// the storage apart, so the next call reloads it from the storage.
    pub(crate) fn with_group<T>(
        &self,
        group_id: &GroupId,
        f: impl FnOnce(&mut MlsGroup) -> Result<T, MlsError>,
    ) -> Result<T, MlsError> {
        let group = self.take_group(group_id)?;
        self.run_on(group_id, group, f)
    }

    /// [`Mls::with_group`] on a group we are still a member of.
    pub(crate) fn with_active<T>(
        &self,
        group_id: &GroupId,
        f: impl FnOnce(&mut MlsGroup) -> Result<T, MlsError>,
    ) -> Result<T, MlsError> {
        let group = self.take_group(group_id)?;
        if !group.is_active() {
            // Untouched: it stays loaded.
            self.keep(*group_id, group);
            return Err(MlsError::NotAMember);
        }
        self.run_on(group_id, group, f)
    }

    /// Runs `f` on `group`, taken out of the kept ones, and keeps it again if `f` succeeded.
    fn run_on<T>(
        &self,
        group_id: &GroupId,
        mut group: MlsGroup,
        f: impl FnOnce(&mut MlsGroup) -> Result<T, MlsError>,
    ) -> Result<T, MlsError> {
        let result = f(&mut group);
        if result.is_ok() {
            self.keep(*group_id, group);
        }
        result
    }
}

/// An OpenMLS signer for an identity key. RustCrypto's Ed25519 signer takes the 32-byte
/// seed as private key (the encoding ed25519-dalek's SigningKey::from_bytes uses) and the raw
/// public key.
fn signer_of(identity: &IdentitySecretKey) -> SignatureKeyPair {
    let seed: Zeroizing<[u8; 32]> = identity.to_bytes();
    SignatureKeyPair::from_raw(
        SignatureScheme::ED25519,
        seed.to_vec(),
        identity.public_key().to_bytes().to_vec(),
    )
}

/// How we take part in every group, whether we created it or joined it.
pub(crate) fn join_config() -> MlsGroupJoinConfig {
    join_config_keeping(PAST_EPOCHS)
}

/// [`join_config`] with the secrets of `past_epochs` past epochs kept.
pub(crate) fn join_config_keeping(past_epochs: usize) -> MlsGroupJoinConfig {
    MlsGroupJoinConfig::builder()
        .wire_format_policy(PURE_CIPHERTEXT_WIRE_FORMAT_POLICY)
        .padding_size(PADDING_SIZE)
        .max_past_epochs(past_epochs)
        .use_ratchet_tree_extension(true)
        .build()
}

/// The relay access key of an epoch from an exporter (the group's, or a staged commit's).
pub(crate) fn access_key_from(
    export: impl FnOnce(&str, &[u8], usize) -> Result<Vec<u8>, MlsError>,
    group_id: &GroupId,
) -> Result<AccessKey, MlsError> {
    let secret = Zeroizing::new(export(ACCESS_EXPORTER_LABEL, group_id, ACCESS_SECRET_LEN)?);
    let seed: Zeroizing<[u8; ACCESS_SECRET_LEN]> = Zeroizing::new(
        secret
            .as_slice()
            .try_into()
            .map_err(|_| MlsError::Internal("exporter"))?,
    );
    Ok(AccessKey::from_exporter_secret(&seed))
}

/// A group id as the engine exposes it; Parley's ids are always 32 bytes.
pub(crate) fn group_id_of(id: &MlsGroupId) -> Result<GroupId, MlsError> {
    id.as_slice().try_into().map_err(|_| MlsError::Malformed)
}

#[cfg(test)]
mod tests {
    //! The kept groups and the change log against the storage, after every operation of a
    //! conversation: each kept group must be what a fresh load gives, and an engine rebuilt
    //! from the taken changes must load the same groups. (The log itself is checked against
    //! a diff of the whole map on every take, see `tracked_storage`.)

    use std::collections::BTreeMap;
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    use rand::rngs::StdRng;
    use rand::SeedableRng;

    use super::*;
    use crate::mls::{Incoming, IncomingCommit};
    use crate::retention::Retention;

    const GROUP: GroupId = [3u8; 32];

    fn now_ms() -> u64 {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64
    }

    struct Peer {
        mls: Mls,
        secret: IdentitySecretKey,
        stored: BTreeMap<Vec<u8>, Vec<u8>>,
    }

    impl Peer {
        fn new(name: &str, seed: u64) -> Peer {
            let secret = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(seed));
            let mls = Mls::new(Handle::parse(name).unwrap(), &secret, Vec::new()).unwrap();
            Peer {
                mls,
                secret,
                stored: BTreeMap::new(),
            }
        }

        fn key_package(&mut self) -> Vec<u8> {
            let kp = self
                .mls
                .generate_key_packages(1, false, now_ms())
                .unwrap()
                .remove(0);
            self.step();
            kp
        }

        /// After an operation: the kept groups agree with the storage; the changes are
        /// persisted; an engine rebuilt from the persisted pairs loads the same groups.
        fn step(&mut self) {
            let kept = assert_coherent(&self.mls);
            for (k, v) in self.mls.take_changes() {
                match v {
                    Some(v) => self.stored.insert(k, v),
                    None => self.stored.remove(&k),
                };
            }
            let twin =
                Mls::new(self.mls.handle.clone(), &self.secret, self.stored.clone()).unwrap();
            for (id, rendered) in kept {
                let group = twin.take_group(&id).unwrap();
                assert_eq!(rendering(&group), rendered, "rebuilt group differs");
            }
        }

        fn commit(&mut self, frame: &[u8]) -> IncomingCommit {
            match self.mls.process(&GROUP, frame).unwrap() {
                Incoming::Commit(commit) => commit,
                other => panic!("expected a commit, got {other:?}"),
            }
        }

        fn apply(&mut self, frame: &[u8]) {
            let commit = self.commit(frame);
            self.step();
            self.mls.merge_incoming_commit(&GROUP, commit).unwrap();
            self.step();
        }

        fn send(&mut self, text: &str) -> Vec<u8> {
            let frame = self.mls.encrypt(&GROUP, text.as_bytes()).unwrap();
            self.step();
            frame
        }

        fn read(&mut self, frame: &[u8]) -> String {
            let Incoming::Application { payload, .. } = self.mls.process(&GROUP, frame).unwrap()
            else {
                panic!("not an application message")
            };
            self.step();
            String::from_utf8(payload).unwrap()
        }

        fn join(&mut self, welcome: &[u8]) {
            let staged = self.mls.stage_welcome(welcome).unwrap();
            self.mls.join(staged).unwrap();
            self.step();
        }
    }

    /// A group's Debug rendering, all of its state but secret values (which OpenMLS masks),
    /// with the entries of every map sorted: a staged commit keeps its proposals in a
    /// HashMap, whose order differs between two copies of the same state.
    fn rendering(group: &MlsGroup) -> String {
        canonical(&format!("{group:?}"))
    }

    /// Sorts the entries of the maps and sets in a Debug rendering: `{k: v, ..}` (a struct
    /// is `Name { .. }`, with a space).
    fn canonical(text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::new();
        let mut i = 0;
        while i < chars.len() {
            let c = chars[i];
            if c == '{' && i + 1 < chars.len() && chars[i + 1] != ' ' && chars[i + 1] != '}' {
                let (mut depth, mut j, mut start) = (0usize, i + 1, i + 1);
                let mut entries = Vec::new();
                while depth > 0 || chars[j] != '}' {
                    match chars[j] {
                        '{' | '(' | '[' => depth += 1,
                        '}' | ')' | ']' => depth -= 1,
                        ',' if depth == 0 => {
                            entries.push(canonical(&chars[start..j].iter().collect::<String>()));
                            start = j + 2; // past ", "
                        }
                        _ => {}
                    }
                    j += 1;
                }
                entries.push(canonical(&chars[start..j].iter().collect::<String>()));
                entries.sort();
                out.push('{');
                out.push_str(&entries.join(", "));
                out.push('}');
                i = j + 1;
            } else {
                out.push(c);
                i += 1;
            }
        }
        out
    }

    /// Each kept group against a fresh load from the storage: the same rendering and the
    /// same secrets where they show. Returns the renderings.
    fn assert_coherent(mls: &Mls) -> Vec<(GroupId, String)> {
        let kept = mls.cache();
        let mut rendered = Vec::new();
        for (id, group) in kept.iter() {
            let loaded = MlsGroup::load(mls.provider.storage(), &MlsGroupId::from_slice(id))
                .unwrap()
                .expect("a kept group is stored");
            let text = rendering(group);
            assert_eq!(text, rendering(&loaded), "kept group differs");
            let export = |g: &MlsGroup| {
                g.export_secret(mls.provider.crypto(), "check", b"", 32)
                    .ok()
            };
            assert_eq!(export(group), export(&loaded));
            assert_eq!(
                group.epoch_authenticator().as_slice(),
                loaded.epoch_authenticator().as_slice()
            );
            assert_eq!(
                group.resumption_psk_secret().as_slice(),
                loaded.resumption_psk_secret().as_slice()
            );
            rendered.push((*id, text));
        }
        rendered
    }

    fn merge_own(peer: &mut Peer) {
        peer.step(); // the pending commit is persisted before the relay answers
        peer.mls.merge_own_commit(&GROUP).unwrap();
        peer.step();
    }

    #[test]
    fn kept_groups_and_the_change_log_follow_the_storage_through_a_conversation() {
        let mut alice = Peer::new("alice", 1);
        let mut bob = Peer::new("bob", 2);
        let mut carol = Peer::new("carol", 3);
        let mut dave = Peer::new("dave", 4);

        alice.mls.create_group(GROUP, Retention::Off).unwrap();
        alice.step();
        let kps = vec![bob.key_package(), carol.key_package()];
        let out = alice.mls.add_members(&GROUP, &kps).unwrap();
        merge_own(&mut alice);
        let welcome = out.welcome.unwrap();
        bob.join(&welcome);
        carol.join(&welcome);

        let m = alice.send("one");
        assert_eq!(bob.read(&m), "one");
        assert_eq!(carol.read(&m), "one");
        let m = bob.send("two");
        assert_eq!(alice.read(&m), "two");

        // Rolled back: an encryption, a decryption, a staged commit, a merge.
        alice.mls.encrypt(&GROUP, b"dropped").unwrap();
        alice.mls.discard_changes();
        alice.step();
        let m = alice.send("after discard");
        bob.mls.process(&GROUP, &m).unwrap();
        bob.mls.discard_changes();
        bob.step();
        assert_eq!(bob.read(&m), "after discard");
        let kp = dave.key_package();
        alice
            .mls
            .add_members(&GROUP, std::slice::from_ref(&kp))
            .unwrap();
        alice.mls.discard_changes();
        alice.step();
        assert!(matches!(
            alice.mls.merge_own_commit(&GROUP),
            Err(MlsError::NoPendingCommit)
        ));
        alice.mls.add_members(&GROUP, &[kp]).unwrap();
        alice.mls.merge_own_commit(&GROUP).unwrap();
        alice.mls.discard_changes();
        alice.step();
        assert_eq!(alice.mls.epoch(&GROUP).unwrap(), 1);

        // Admins, a leave request and the removal it asks for.
        let out = alice.mls.promote(&GROUP, &bob.mls.handle.clone()).unwrap();
        merge_own(&mut alice);
        bob.apply(&out.commit);
        carol.apply(&out.commit);
        let request = carol.mls.leave(&GROUP).unwrap();
        carol.step();
        assert!(matches!(
            alice.mls.process(&GROUP, &request).unwrap(),
            Incoming::LeaveRequest(_)
        ));
        alice.step();
        let carol_handle = carol.mls.handle.clone();
        let out = alice
            .mls
            .remove_members(&GROUP, std::slice::from_ref(&carol_handle))
            .unwrap();
        merge_own(&mut alice);
        bob.apply(&out.commit);
        let commit = carol.commit(&out.commit);
        assert!(commit.removes_us());
        carol.mls.merge_incoming_commit(&GROUP, commit).unwrap();
        carol.step();
        assert!(!carol.mls.is_active(&GROUP).unwrap());

        // carol is added back: her old state (with her queued leave proposal) is deleted.
        let kp = carol.key_package();
        let out = alice.mls.add_members(&GROUP, &[kp]).unwrap();
        merge_own(&mut alice);
        bob.apply(&out.commit);
        carol.join(&out.welcome.unwrap());
        let m = carol.send("back");
        assert_eq!(alice.read(&m), "back");
        assert_eq!(bob.read(&m), "back");

        // Retention, forgetting past epochs, removing an admin (one commit changing the
        // roles too), a staged then aborted add.
        let out = alice
            .mls
            .set_retention(&GROUP, Retention::after(Duration::from_secs(3600)).unwrap())
            .unwrap();
        merge_own(&mut alice);
        bob.apply(&out.commit);
        carol.apply(&out.commit);
        alice.mls.forget_past_epochs(&GROUP).unwrap();
        alice.step();
        let bob_handle = bob.mls.handle.clone();
        let out = alice
            .mls
            .remove_members(&GROUP, std::slice::from_ref(&bob_handle))
            .unwrap();
        merge_own(&mut alice);
        carol.apply(&out.commit);
        let kp = dave.key_package();
        alice.mls.add_members(&GROUP, &[kp]).unwrap();
        alice.step();
        alice.mls.abort_own_commit(&GROUP).unwrap();
        alice.step();

        // alice rotates her identity and moves her leaf to it.
        let new = IdentitySecretKey::generate(&mut StdRng::seed_from_u64(42));
        alice.mls.replace_identity(&new);
        alice.secret = new;
        assert!(alice.mls.on_previous_identity(&GROUP).unwrap());
        let out = alice.mls.move_to_current_identity(&GROUP).unwrap();
        merge_own(&mut alice);
        carol.apply(&out.commit);
        let m = alice.send("moved");
        assert_eq!(carol.read(&m), "moved");
        let m = carol.send("seen");
        assert_eq!(alice.read(&m), "seen");
    }

    #[test]
    fn the_engine_stays_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Mls>();
    }
}
