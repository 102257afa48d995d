//! OpenMLS's in-memory key/value storage with a change log: every write or delete first notes
//! the value its key held before (once per key until the log is taken), so that what changed
//! since the caller last persisted is known without comparing the whole map, which holds the
//! ratchet tree of every group (megabytes at a thousand members).
//!
//! The values and their encoding are `MemoryStorage`'s own (every call is passed on to it);
//! only the log is added. Each mutating method must name the storage key(s) `MemoryStorage`
//! touches for it, computed as it does: label, JSON of the key, storage version (big endian).
//! A key missed here would be a change never persisted, so the unit tests compare every
//! taken log with a diff of the whole map (see `shadow`).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError, RwLockReadGuard, RwLockWriteGuard};

use openmls_memory_storage::{MemoryStorage, MemoryStorageError};
use openmls_traits::storage::{traits, Key, StorageProvider, CURRENT_VERSION};
use zeroize::Zeroize;

/// Key/value pairs as OpenMLS stores them.
pub(crate) type Map = HashMap<Vec<u8>, Vec<u8>>;

/// A write (`Some`) or delete (`None`) of one key.
pub(crate) type Change = (Vec<u8>, Option<Vec<u8>>);

// MemoryStorage's labels (openmls_memory_storage 0.6.0, pinned in the workspace).
const KEY_PACKAGE: &[u8] = b"KeyPackage";
const PSK: &[u8] = b"Psk";
const ENCRYPTION_KEY_PAIR: &[u8] = b"EncryptionKeyPair";
const SIGNATURE_KEY_PAIR: &[u8] = b"SignatureKeyPair";
const EPOCH_KEY_PAIRS: &[u8] = b"EpochKeyPairs";
const TREE: &[u8] = b"Tree";
const GROUP_CONTEXT: &[u8] = b"GroupContext";
const INTERIM_TRANSCRIPT_HASH: &[u8] = b"InterimTranscriptHash";
const CONFIRMATION_TAG: &[u8] = b"ConfirmationTag";
const JOIN_CONFIG: &[u8] = b"MlsGroupJoinConfig";
const OWN_LEAF_NODES: &[u8] = b"OwnLeafNodes";
const GROUP_STATE: &[u8] = b"GroupState";
const QUEUED_PROPOSAL: &[u8] = b"QueuedProposal";
const PROPOSAL_QUEUE_REFS: &[u8] = b"ProposalQueueRefs";
const OWN_LEAF_NODE_INDEX: &[u8] = b"OwnLeafNodeIndex";
const EPOCH_SECRETS: &[u8] = b"EpochSecrets";
const RESUMPTION_PSK_STORE: &[u8] = b"ResumptionPsk";
const MESSAGE_SECRETS: &[u8] = b"MessageSecrets";

/// The storage key of `key` (already JSON) under `label`, as MemoryStorage builds it.
fn storage_key(label: &[u8], key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(label.len() + key.len() + 2);
    out.extend_from_slice(label);
    out.extend_from_slice(key);
    out.extend_from_slice(&CURRENT_VERSION.to_be_bytes());
    out
}

/// MemoryStorage's key of a group's epoch key pairs: the JSON of the group id, the epoch
/// and the leaf index, one after the other.
fn epoch_key_pairs_key(
    group_id: &impl traits::GroupId<CURRENT_VERSION>,
    epoch: &impl traits::EpochKey<CURRENT_VERSION>,
    leaf_index: u32,
) -> Result<Vec<u8>, MemoryStorageError> {
    let mut key = serde_json::to_vec(group_id)?;
    key.extend_from_slice(&serde_json::to_vec(epoch)?);
    key.extend_from_slice(&serde_json::to_vec(&leaf_index)?);
    Ok(storage_key(EPOCH_KEY_PAIRS, &key))
}

/// MemoryStorage plus the log of what changed since the last take or discard.
#[derive(Default)]
pub(crate) struct TrackedStorage {
    inner: MemoryStorage,
    /// For each key changed since the last take or discard, its value then (`None`: absent).
    before: Mutex<HashMap<Vec<u8>, Option<Vec<u8>>>>,
    /// The whole map as of the last take or discard, to check the log against.
    #[cfg(test)]
    shadow: Mutex<Map>,
}

impl TrackedStorage {
    /// A storage holding `pairs`, with nothing logged.
    pub(crate) fn new(pairs: impl IntoIterator<Item = (Vec<u8>, Vec<u8>)>) -> Self {
        let storage = TrackedStorage::default();
        *storage.values_mut() = pairs.into_iter().collect();
        #[cfg(test)]
        {
            *lock(&storage.shadow) = storage.values().clone();
        }
        storage
    }

    fn values(&self) -> RwLockReadGuard<'_, Map> {
        // A panic elsewhere cannot leave a map half-written: every access is one insert,
        // remove or lookup.
        self.inner
            .values
            .read()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn values_mut(&self) -> RwLockWriteGuard<'_, Map> {
        self.inner
            .values
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Notes what `key` holds now, unless it changed already since the last take: the log
    /// keeps the value as of the last take, whatever happened in between.
    fn touch(&self, key: Vec<u8>) {
        let mut before = lock(&self.before);
        if let Entry::Vacant(slot) = before.entry(key) {
            let value = self.values().get(slot.key()).cloned();
            slot.insert(value);
        }
    }

    /// [`TrackedStorage::touch`] for a key of `label` that is JSON of one value.
    fn touch_key(
        &self,
        label: &[u8],
        key: &(impl Key<CURRENT_VERSION> + ?Sized),
    ) -> Result<(), MemoryStorageError> {
        self.touch(storage_key(label, &serde_json::to_vec(key)?));
        Ok(())
    }

    /// [`TrackedStorage::touch`] for the key of one queued proposal.
    fn touch_proposal(
        &self,
        group_id: &impl traits::GroupId<CURRENT_VERSION>,
        proposal_ref: &impl traits::ProposalRef<CURRENT_VERSION>,
    ) -> Result<(), MemoryStorageError> {
        self.touch(storage_key(
            QUEUED_PROPOSAL,
            &serde_json::to_vec(&(group_id, proposal_ref))?,
        ));
        Ok(())
    }

    /// Writes (`Some`) and deletes (`None`) since the last take or discard, in key order so
    /// that the same state change always yields the same batch. A key written back to the
    /// value it had, or written then deleted when it was absent, is no change.
    pub(crate) fn take_changes(&self) -> Vec<Change> {
        let before = std::mem::take(&mut *lock(&self.before));
        let values = self.values();
        let mut changes: Vec<Change> = Vec::with_capacity(before.len());
        for (key, old) in before {
            let now = values.get(&key);
            if now != old.as_ref() {
                changes.push((key, now.cloned()));
            }
            if let Some(mut old) = old {
                old.zeroize();
            }
        }
        changes.sort_by(|a, b| a.0.cmp(&b.0));
        #[cfg(test)]
        shadow::check_take(&mut lock(&self.shadow), &values, &changes);
        changes
    }

    /// Puts back every value changed since the last take or discard.
    pub(crate) fn discard_changes(&self) {
        let before = std::mem::take(&mut *lock(&self.before));
        let mut values = self.values_mut();
        for (key, old) in before {
            let replaced = match old {
                Some(old) => values.insert(key, old),
                None => values.remove(&key),
            };
            if let Some(mut replaced) = replaced {
                replaced.zeroize();
            }
        }
        #[cfg(test)]
        shadow::check_discard(&lock(&self.shadow), &values);
    }

    /// Writes `value` under `key` directly, as OpenMLS would through some method (tests of
    /// the log itself).
    #[cfg(test)]
    pub(crate) fn put(&self, key: &[u8], value: Option<&[u8]>) {
        self.touch(key.to_vec());
        let mut values = self.values_mut();
        match value {
            Some(value) => values.insert(key.to_vec(), value.to_vec()),
            None => values.remove(key),
        };
    }

    /// The value under `key` (tests).
    #[cfg(test)]
    pub(crate) fn get(&self, key: &[u8]) -> Option<Vec<u8>> {
        self.values().get(key).cloned()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while the log is locked but allocation; its entries stay whole.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Values hold group secrets; the copies this module keeps are wiped when dropped.
impl Drop for TrackedStorage {
    fn drop(&mut self) {
        let mut before = std::mem::take(&mut *lock(&self.before));
        before.values_mut().flatten().for_each(Zeroize::zeroize);
        self.values_mut().values_mut().for_each(Zeroize::zeroize);
        #[cfg(test)]
        lock(&self.shadow).values_mut().for_each(Zeroize::zeroize);
    }
}

/// The log checked against a diff of the whole map, as the storage computed it before it
/// kept a log: any key a mutating method below fails to name shows up here.
#[cfg(test)]
mod shadow {
    use super::{Change, Map};

    pub(super) fn check_take(shadow: &mut Map, current: &Map, taken: &[Change]) {
        let mut diff: Vec<Change> = current
            .iter()
            .filter(|(k, v)| shadow.get(*k) != Some(*v))
            .map(|(k, v)| (k.clone(), Some(v.clone())))
            .chain(
                shadow
                    .keys()
                    .filter(|k| !current.contains_key(*k))
                    .map(|k| (k.clone(), None)),
            )
            .collect();
        diff.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(taken, diff.as_slice(), "the change log missed a write");
        *shadow = current.clone();
    }

    pub(super) fn check_discard(shadow: &Map, current: &Map) {
        assert!(shadow == current, "discarding left changes behind");
    }
}

/// Trait methods that write or delete the one key MemoryStorage builds from `$label` and the
/// JSON of `$key`: the key is noted, then the call passed on.
macro_rules! logged {
    ($(fn $name:ident<$($g:ident: $bound:ident),+>($($arg:ident: &$ty:ident),+) touches $label:ident($key:ident);)+) => {$(
        fn $name<$($g: traits::$bound<CURRENT_VERSION>),+>(
            &self,
            $($arg: &$ty),+
        ) -> Result<(), Self::Error> {
            self.touch_key($label, $key)?;
            self.inner.$name($($arg),+)
        }
    )+};
}

/// Trait methods that only read: passed on as they are.
macro_rules! passed_on {
    ($(fn $name:ident<$($g:ident: $bound:ident),+>($arg:ident: &$ty:ident) -> $ret:ty;)+) => {$(
        fn $name<$($g: traits::$bound<CURRENT_VERSION>),+>(
            &self,
            $arg: &$ty,
        ) -> Result<$ret, Self::Error> {
            self.inner.$name($arg)
        }
    )+};
}

/// Every call goes to MemoryStorage; the mutating ones first note the keys they touch.
impl StorageProvider<CURRENT_VERSION> for TrackedStorage {
    type Error = MemoryStorageError;

    // Writes and deletes of one key, `label` and the JSON of one argument.
    logged! {
        fn write_mls_join_config<GroupId: GroupId, MlsGroupJoinConfig: MlsGroupJoinConfig>(group_id: &GroupId, config: &MlsGroupJoinConfig) touches JOIN_CONFIG(group_id);
        fn append_own_leaf_node<GroupId: GroupId, LeafNode: LeafNode>(group_id: &GroupId, leaf_node: &LeafNode) touches OWN_LEAF_NODES(group_id);
        fn write_tree<GroupId: GroupId, TreeSync: TreeSync>(group_id: &GroupId, tree: &TreeSync) touches TREE(group_id);
        fn write_interim_transcript_hash<GroupId: GroupId, InterimTranscriptHash: InterimTranscriptHash>(group_id: &GroupId, interim_transcript_hash: &InterimTranscriptHash) touches INTERIM_TRANSCRIPT_HASH(group_id);
        fn write_context<GroupId: GroupId, GroupContext: GroupContext>(group_id: &GroupId, group_context: &GroupContext) touches GROUP_CONTEXT(group_id);
        fn write_confirmation_tag<GroupId: GroupId, ConfirmationTag: ConfirmationTag>(group_id: &GroupId, confirmation_tag: &ConfirmationTag) touches CONFIRMATION_TAG(group_id);
        fn write_group_state<GroupState: GroupState, GroupId: GroupId>(group_id: &GroupId, group_state: &GroupState) touches GROUP_STATE(group_id);
        fn write_message_secrets<GroupId: GroupId, MessageSecrets: MessageSecrets>(group_id: &GroupId, message_secrets: &MessageSecrets) touches MESSAGE_SECRETS(group_id);
        fn write_resumption_psk_store<GroupId: GroupId, ResumptionPskStore: ResumptionPskStore>(group_id: &GroupId, resumption_psk_store: &ResumptionPskStore) touches RESUMPTION_PSK_STORE(group_id);
        fn write_own_leaf_index<GroupId: GroupId, LeafNodeIndex: LeafNodeIndex>(group_id: &GroupId, own_leaf_index: &LeafNodeIndex) touches OWN_LEAF_NODE_INDEX(group_id);
        fn write_group_epoch_secrets<GroupId: GroupId, GroupEpochSecrets: GroupEpochSecrets>(group_id: &GroupId, group_epoch_secrets: &GroupEpochSecrets) touches EPOCH_SECRETS(group_id);
        fn write_signature_key_pair<SignaturePublicKey: SignaturePublicKey, SignatureKeyPair: SignatureKeyPair>(public_key: &SignaturePublicKey, signature_key_pair: &SignatureKeyPair) touches SIGNATURE_KEY_PAIR(public_key);
        fn write_encryption_key_pair<EncryptionKey: EncryptionKey, HpkeKeyPair: HpkeKeyPair>(public_key: &EncryptionKey, key_pair: &HpkeKeyPair) touches ENCRYPTION_KEY_PAIR(public_key);
        fn write_key_package<HashReference: HashReference, KeyPackage: KeyPackage>(hash_ref: &HashReference, key_package: &KeyPackage) touches KEY_PACKAGE(hash_ref);
        fn write_psk<PskId: PskId, PskBundle: PskBundle>(psk_id: &PskId, psk: &PskBundle) touches PSK(psk_id);
        fn delete_own_leaf_nodes<GroupId: GroupId>(group_id: &GroupId) touches OWN_LEAF_NODES(group_id);
        fn delete_group_config<GroupId: GroupId>(group_id: &GroupId) touches JOIN_CONFIG(group_id);
        fn delete_tree<GroupId: GroupId>(group_id: &GroupId) touches TREE(group_id);
        fn delete_confirmation_tag<GroupId: GroupId>(group_id: &GroupId) touches CONFIRMATION_TAG(group_id);
        fn delete_group_state<GroupId: GroupId>(group_id: &GroupId) touches GROUP_STATE(group_id);
        fn delete_context<GroupId: GroupId>(group_id: &GroupId) touches GROUP_CONTEXT(group_id);
        fn delete_interim_transcript_hash<GroupId: GroupId>(group_id: &GroupId) touches INTERIM_TRANSCRIPT_HASH(group_id);
        fn delete_message_secrets<GroupId: GroupId>(group_id: &GroupId) touches MESSAGE_SECRETS(group_id);
        fn delete_all_resumption_psk_secrets<GroupId: GroupId>(group_id: &GroupId) touches RESUMPTION_PSK_STORE(group_id);
        fn delete_own_leaf_index<GroupId: GroupId>(group_id: &GroupId) touches OWN_LEAF_NODE_INDEX(group_id);
        fn delete_group_epoch_secrets<GroupId: GroupId>(group_id: &GroupId) touches EPOCH_SECRETS(group_id);
        fn delete_signature_key_pair<SignaturePublicKey: SignaturePublicKey>(public_key: &SignaturePublicKey) touches SIGNATURE_KEY_PAIR(public_key);
        fn delete_encryption_key_pair<EncryptionKey: EncryptionKey>(public_key: &EncryptionKey) touches ENCRYPTION_KEY_PAIR(public_key);
        fn delete_key_package<KeyPackageRef: HashReference>(hash_ref: &KeyPackageRef) touches KEY_PACKAGE(hash_ref);
        fn delete_psk<PskKey: PskId>(psk_id: &PskKey) touches PSK(psk_id);
    }

    // Reads.
    passed_on! {
        fn mls_group_join_config<GroupId: GroupId, MlsGroupJoinConfig: MlsGroupJoinConfig>(group_id: &GroupId) -> Option<MlsGroupJoinConfig>;
        fn own_leaf_nodes<GroupId: GroupId, LeafNode: LeafNode>(group_id: &GroupId) -> Vec<LeafNode>;
        fn queued_proposal_refs<GroupId: GroupId, ProposalRef: ProposalRef>(group_id: &GroupId) -> Vec<ProposalRef>;
        fn queued_proposals<GroupId: GroupId, ProposalRef: ProposalRef, QueuedProposal: QueuedProposal>(group_id: &GroupId) -> Vec<(ProposalRef, QueuedProposal)>;
        fn tree<GroupId: GroupId, TreeSync: TreeSync>(group_id: &GroupId) -> Option<TreeSync>;
        fn group_context<GroupId: GroupId, GroupContext: GroupContext>(group_id: &GroupId) -> Option<GroupContext>;
        fn interim_transcript_hash<GroupId: GroupId, InterimTranscriptHash: InterimTranscriptHash>(group_id: &GroupId) -> Option<InterimTranscriptHash>;
        fn confirmation_tag<GroupId: GroupId, ConfirmationTag: ConfirmationTag>(group_id: &GroupId) -> Option<ConfirmationTag>;
        fn group_state<GroupState: GroupState, GroupId: GroupId>(group_id: &GroupId) -> Option<GroupState>;
        fn message_secrets<GroupId: GroupId, MessageSecrets: MessageSecrets>(group_id: &GroupId) -> Option<MessageSecrets>;
        fn resumption_psk_store<GroupId: GroupId, ResumptionPskStore: ResumptionPskStore>(group_id: &GroupId) -> Option<ResumptionPskStore>;
        fn own_leaf_index<GroupId: GroupId, LeafNodeIndex: LeafNodeIndex>(group_id: &GroupId) -> Option<LeafNodeIndex>;
        fn group_epoch_secrets<GroupId: GroupId, GroupEpochSecrets: GroupEpochSecrets>(group_id: &GroupId) -> Option<GroupEpochSecrets>;
        fn signature_key_pair<SignaturePublicKey: SignaturePublicKey, SignatureKeyPair: SignatureKeyPair>(public_key: &SignaturePublicKey) -> Option<SignatureKeyPair>;
        fn encryption_key_pair<HpkeKeyPair: HpkeKeyPair, EncryptionKey: EncryptionKey>(public_key: &EncryptionKey) -> Option<HpkeKeyPair>;
        fn key_package<KeyPackageRef: HashReference, KeyPackage: KeyPackage>(hash_ref: &KeyPackageRef) -> Option<KeyPackage>;
        fn psk<PskBundle: PskBundle, PskId: PskId>(psk_id: &PskId) -> Option<PskBundle>;
    }

    // The calls that touch more than one key, or a key of several arguments.
    fn queue_proposal<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
        QueuedProposal: traits::QueuedProposal<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
        proposal: &QueuedProposal,
    ) -> Result<(), Self::Error> {
        self.touch_proposal(group_id, proposal_ref)?;
        self.touch_key(PROPOSAL_QUEUE_REFS, group_id)?;
        self.inner.queue_proposal(group_id, proposal_ref, proposal)
    }

    fn write_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        EpochKey: traits::EpochKey<CURRENT_VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
        key_pairs: &[HpkeKeyPair],
    ) -> Result<(), Self::Error> {
        self.touch(epoch_key_pairs_key(group_id, epoch, leaf_index)?);
        self.inner
            .write_encryption_epoch_key_pairs(group_id, epoch, leaf_index, key_pairs)
    }

    fn encryption_epoch_key_pairs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        EpochKey: traits::EpochKey<CURRENT_VERSION>,
        HpkeKeyPair: traits::HpkeKeyPair<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<Vec<HpkeKeyPair>, Self::Error> {
        self.inner
            .encryption_epoch_key_pairs(group_id, epoch, leaf_index)
    }

    fn remove_proposal<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        proposal_ref: &ProposalRef,
    ) -> Result<(), Self::Error> {
        self.touch_key(PROPOSAL_QUEUE_REFS, group_id)?;
        self.touch_proposal(group_id, proposal_ref)?;
        self.inner.remove_proposal(group_id, proposal_ref)
    }

    fn clear_proposal_queue<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        ProposalRef: traits::ProposalRef<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
    ) -> Result<(), Self::Error> {
        // MemoryStorage 0.6.0 removes each queued proposal under the bare JSON of
        // (group id, reference), without label or version, so the proposals themselves
        // stay; the keys noted are the ones it removes, whatever they are.
        let refs: Vec<ProposalRef> = self.inner.queued_proposal_refs(group_id)?;
        for proposal_ref in &refs {
            self.touch(serde_json::to_vec(&(group_id, proposal_ref))?);
        }
        self.touch_key(PROPOSAL_QUEUE_REFS, group_id)?;
        self.inner
            .clear_proposal_queue::<GroupId, ProposalRef>(group_id)
    }

    fn delete_encryption_epoch_key_pairs<
        GroupId: traits::GroupId<CURRENT_VERSION>,
        EpochKey: traits::EpochKey<CURRENT_VERSION>,
    >(
        &self,
        group_id: &GroupId,
        epoch: &EpochKey,
        leaf_index: u32,
    ) -> Result<(), Self::Error> {
        self.touch(epoch_key_pairs_key(group_id, epoch, leaf_index)?);
        self.inner
            .delete_encryption_epoch_key_pairs(group_id, epoch, leaf_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changes_are_writes_and_deletes_since_last_take() {
        let s = TrackedStorage::new([
            (b"a".to_vec(), b"1".to_vec()),
            (b"b".to_vec(), b"2".to_vec()),
        ]);
        assert!(s.take_changes().is_empty());
        s.put(b"a", Some(b"9"));
        s.put(b"c", Some(b"3"));
        s.put(b"b", None);
        s.put(b"b2", Some(b"x"));
        s.put(b"b2", None); // written and deleted in between: no change at all
        s.put(b"d", None); // deleting what is absent: no change either
        assert_eq!(
            s.take_changes(),
            vec![
                (b"a".to_vec(), Some(b"9".to_vec())),
                (b"b".to_vec(), None),
                (b"c".to_vec(), Some(b"3".to_vec())),
            ]
        );
        assert!(s.take_changes().is_empty());
        // Written back to the value it had at the last take: nothing to persist.
        s.put(b"a", Some(b"7"));
        s.put(b"a", Some(b"9"));
        assert!(s.take_changes().is_empty());
    }

    #[test]
    fn discard_restores_last_taken_state() {
        let s = TrackedStorage::new([(b"a".to_vec(), b"1".to_vec())]);
        s.put(b"a", Some(b"2"));
        let _ = s.take_changes();
        s.put(b"a", Some(b"3"));
        s.put(b"a", Some(b"5")); // the log keeps "2", the value as of the take
        s.put(b"z", Some(b"4"));
        s.discard_changes();
        assert_eq!(s.get(b"a"), Some(b"2".to_vec()));
        assert_eq!(s.get(b"z"), None);
        assert!(s.take_changes().is_empty());
        // A change after the discard is logged against the restored value.
        s.put(b"a", Some(b"6"));
        assert_eq!(s.take_changes(), vec![(b"a".to_vec(), Some(b"6".to_vec()))]);
    }

    #[test]
    fn writes_through_openmls_are_logged_under_memory_storage_keys() {
        // A write and a delete through real methods: the logged key must be the one
        // MemoryStorage changed (the take's check against the whole map says so too).
        let group_id = openmls::prelude::GroupId::from_slice(&[9u8; 32]);
        let mut key = b"MlsGroupJoinConfig".to_vec();
        key.extend_from_slice(&serde_json::to_vec(&group_id).unwrap());
        key.extend_from_slice(&1u16.to_be_bytes());
        let s = TrackedStorage::default();
        let config = openmls::prelude::MlsGroupJoinConfig::default();
        s.write_mls_join_config(&group_id, &config).unwrap();
        let changes = s.take_changes();
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].0, key);
        assert_eq!(changes[0].1, s.get(&key));
        s.delete_group_config(&group_id).unwrap();
        assert_eq!(s.take_changes(), vec![(key, None)]);
    }
}
