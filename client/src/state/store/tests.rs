use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::*;

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_owned())
}

fn open(dir: &Path, p: &str) -> Result<Store, OpenFailure> {
    Store::open(dir, &pass(p), KdfParams::insecure_for_tests())
}

fn open_ok(dir: &Path, p: &str) -> Store {
    match open(dir, p) {
        Ok(store) => store,
        Err(OpenFailure::WrongPassphrase) => panic!("wrong passphrase"),
        Err(OpenFailure::Store(e)) => panic!("{e}"),
    }
}

/// Every file under `dir`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

async fn write_some(store: &Store) {
    let gid = [1u8; 32];
    let mut batch = StoreBatch::default();
    batch.put_u64(Key::Cursor(&gid), 42);
    batch.put(Key::History(&gid, 0), &"first").unwrap();
    batch.put(Key::History(&gid, 1), &"second").unwrap();
    batch.put_raw(Key::Mls(b"mls-key-1"), b"mls-value-1");
    batch.mark_seen(&[9u8; 32]);
    store.apply(batch).await.unwrap();
}

#[tokio::test]
async fn batches_apply_atomically_and_survive_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let gid = [1u8; 32];
    write_some(&open_ok(dir.path(), "pw")).await;
    let store = open_ok(dir.path(), "pw");
    assert_eq!(store.get_u64(Key::Cursor(&gid)).unwrap(), 42);
    assert!(store.seen(&[9u8; 32]).unwrap());
    assert!(!store.seen(&[8u8; 32]).unwrap());
    let history: Vec<String> = store.scan(Prefix::History(&gid)).unwrap();
    assert_eq!(history, ["first", "second"]);
    assert_eq!(store.next_index(Prefix::History(&gid)).unwrap(), 2);
    assert_eq!(store.next_index(Prefix::History(&[2u8; 32])).unwrap(), 0);
    let mls = store.scan_raw(Prefix::Mls).unwrap();
    assert_eq!(mls.len(), 1);
    assert_eq!(mls[0].0, b"mls-key-1");
    assert_eq!(&mls[0].1[..], b"mls-value-1");
}

/// A batch that moves a group on: a new cursor, history and MLS record, and the removal of
/// an old one.
fn moving_on(gid: &[u8; 32]) -> StoreBatch {
    let mut batch = StoreBatch::default();
    batch.put_u64(Key::Cursor(gid), 43);
    batch.put(Key::History(gid, 2), &"third").unwrap();
    batch.remove(Key::History(gid, 0));
    batch.put_raw(Key::Mls(b"mls-key-2"), b"mls-value-2");
    batch
}

fn assert_moved_on(store: &Store, gid: &[u8; 32]) {
    assert_eq!(store.get_u64(Key::Cursor(gid)).unwrap(), 43);
    let history: Vec<String> = store.scan(Prefix::History(gid)).unwrap();
    assert_eq!(history, ["second", "third"]);
    assert_eq!(
        store
            .get_raw(Key::Mls(b"mls-key-2"))
            .unwrap()
            .unwrap()
            .as_slice(),
        b"mls-value-2"
    );
}

/// A crash after any number of a batch's writes: the next opening finishes the batch, and
/// it stays finished.
#[tokio::test]
async fn a_batch_a_crash_interrupted_is_finished_when_the_store_opens() {
    let gid = [1u8; 32];
    for applied in 0..4 {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = open_ok(dir.path(), "pw");
            write_some(&store).await;
            store.interrupt_for_tests(moving_on(&gid), applied).unwrap();
            assert_eq!(
                store.get_u64(Key::Cursor(&gid)).unwrap(),
                if applied >= 1 { 43 } else { 42 }
            );
            store.db.flush().unwrap();
        }
        assert_moved_on(&open_ok(dir.path(), "pw"), &gid);
        let store = open_ok(dir.path(), "pw");
        assert_moved_on(&store, &gid);
        assert!(store.journal_is_empty_for_tests(), "applied {applied}");
    }
}

/// A batch is applied write by write now, so a read running meanwhile must still see it
/// whole: two records always written together never differ in a scan.
#[test]
fn a_read_sees_a_batch_whole_while_it_is_applied() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let gid = [3u8; 32];
    let pair = |n: u64| {
        let mut batch = StoreBatch::default();
        batch.put(Key::History(&gid, 0), &n).unwrap();
        batch.put(Key::History(&gid, 1), &n).unwrap();
        batch
    };
    store.apply_unflushed(pair(0)).unwrap();
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            for n in 1..3000 {
                store.apply_unflushed(pair(n)).unwrap();
            }
            done.store(true, Ordering::SeqCst);
        });
        let mut scans = 0;
        while !done.load(Ordering::SeqCst) || scans == 0 {
            let seen: Vec<u64> = store.scan(Prefix::History(&gid)).unwrap();
            assert_eq!(seen.len(), 2);
            assert_eq!(seen[0], seen[1], "a scan saw half a batch");
            scans += 1;
        }
    });
}

fn conversation(group_id: [u8; 32], name: &str) -> records::Conversation {
    records::Conversation {
        group_id,
        kind: records::StoredKind::Group,
        named_by: "alice".to_owned(),
        peer: None,
        title: name.to_owned(),
        name: name.to_owned(),
        active: true,
        retired: false,
        close_pending: false,
    }
}

fn names_of(store: &Store) -> Vec<String> {
    let mut names: Vec<String> = store
        .conversations()
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    names.sort();
    names
}

fn naming(gid: &[u8; 32], name: &str) -> StoreBatch {
    let mut batch = StoreBatch::default();
    batch
        .put(Key::Conversation(gid), &conversation(*gid, name))
        .unwrap();
    batch
}

#[tokio::test]
async fn the_conversation_list_follows_every_batch_that_changes_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let (one, two) = ([1u8; 32], [2u8; 32]);
    assert!(names_of(&store).is_empty());
    store.apply(naming(&one, "one")).await.unwrap();
    assert_eq!(names_of(&store), ["one"]);
    // A batch that touches no conversation leaves the list as it was.
    write_some(&store).await;
    assert_eq!(names_of(&store), ["one"]);
    // Written among other records, without waiting for the disk.
    let mut batch = naming(&two, "two");
    batch.put_u64(Key::Cursor(&two), 7);
    store.apply_unflushed(batch).unwrap();
    assert_eq!(names_of(&store), ["one", "two"]);
    store.apply(naming(&one, "renamed")).await.unwrap();
    assert_eq!(names_of(&store), ["renamed", "two"]);
    let mut batch = StoreBatch::default();
    batch.remove(Key::Conversation(&two));
    store.apply(batch).await.unwrap();
    assert_eq!(names_of(&store), ["renamed"]);
    // What the store holds, read afresh.
    let scanned: Vec<records::Conversation> = store.scan(Prefix::Conversations).unwrap();
    assert_eq!(scanned.len(), 1);
    assert_eq!(scanned[0].name, "renamed");
    drop(store);
    assert_eq!(names_of(&open_ok(dir.path(), "pw")), ["renamed"]);
}

/// Applies `write(n)` for n = 1, 2, ... while another thread keeps reading, and checks after
/// each batch that `read` shows it (the first n it did not, if any).
fn first_stale_read(
    store: &Store,
    write: impl Fn(u64) -> StoreBatch,
    read: impl Fn() -> u64,
    reader: impl Fn() + Sync,
) -> Option<u64> {
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            while !done.load(Ordering::SeqCst) {
                reader();
            }
        });
        // Returned once the reader is stopped, so that a failure cannot leave it spinning.
        let stale = (1..3000).find(|&n| {
            store.apply_unflushed(write(n)).unwrap();
            read() != n
        });
        done.store(true, Ordering::SeqCst);
        stale
    })
}

#[test]
fn a_list_read_while_a_batch_renames_a_conversation_is_never_kept_stale() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let gid = [4u8; 32];
    store.apply_unflushed(naming(&gid, "0")).unwrap();
    let stale = first_stale_read(
        &store,
        |n| naming(&gid, &n.to_string()),
        || names_of(&store)[0].parse().unwrap(),
        || {
            store.conversations().unwrap();
        },
    );
    assert_eq!(
        stale, None,
        "a list read before this batch was kept after it"
    );
}

fn contact(handle: &str, version: u64) -> records::Contact {
    records::Contact {
        handle: handle.to_owned(),
        identity_key: [1; 32],
        inbox_key: [2; 32],
        record_version: version,
        verified: false,
        changed: None,
        record: None,
        previous_keys: Vec::new(),
    }
}

fn pinning(contact: &records::Contact) -> StoreBatch {
    let handle = parley_crypto::handle::Handle::parse(&contact.handle).unwrap();
    let mut batch = StoreBatch::default();
    batch.put(Key::Contact(&handle), contact).unwrap();
    batch
}

fn version_of(store: &Store, handle: &str) -> Option<u64> {
    store.contact(handle).unwrap().map(|c| c.record_version)
}

#[tokio::test]
async fn the_pinned_contacts_follow_every_batch_that_changes_them() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    assert_eq!(version_of(&store, "bob"), None);
    store.apply(pinning(&contact("bob", 1))).await.unwrap();
    assert_eq!(version_of(&store, "bob"), Some(1));
    assert_eq!(version_of(&store, "carol"), None);
    write_some(&store).await;
    assert_eq!(version_of(&store, "bob"), Some(1));
    let mut batch = pinning(&contact("carol", 5));
    batch.put_u64(Key::Cursor(&[5; 32]), 1);
    store.apply_unflushed(batch).unwrap();
    assert_eq!(version_of(&store, "carol"), Some(5));
    store.apply(pinning(&contact("bob", 2))).await.unwrap();
    assert_eq!(version_of(&store, "bob"), Some(2));
    let mut batch = StoreBatch::default();
    batch.remove(Key::Contact(
        &parley_crypto::handle::Handle::parse("bob").unwrap(),
    ));
    store.apply(batch).await.unwrap();
    assert_eq!(version_of(&store, "bob"), None);
    assert_eq!(version_of(&store, "carol"), Some(5));
    drop(store);
    let store = open_ok(dir.path(), "pw");
    assert_eq!(
        (version_of(&store, "bob"), version_of(&store, "carol")),
        (None, Some(5))
    );
}

#[test]
fn a_contact_read_while_a_batch_changes_it_is_never_kept_stale() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    store.apply_unflushed(pinning(&contact("dave", 0))).unwrap();
    let stale = first_stale_read(
        &store,
        |n| pinning(&contact("dave", n)),
        || version_of(&store, "dave").unwrap(),
        || {
            store.contact("dave").unwrap();
        },
    );
    assert_eq!(
        stale, None,
        "a contact read before this batch was kept after it"
    );
}

#[tokio::test]
async fn a_finished_batch_leaves_no_journal_record() {
    let gid = [1u8; 32];
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    write_some(&store).await;
    store.apply(moving_on(&gid)).await.unwrap();
    assert_moved_on(&store, &gid);
    assert!(store.journal_is_empty_for_tests());
}

#[tokio::test]
async fn a_damaged_journal_record_is_refused_when_the_store_opens() {
    let dir = tempfile::tempdir().unwrap();
    write_some(&open_ok(dir.path(), "pw")).await;
    {
        let db = sled::open(dir.path().join("store")).unwrap();
        db.open_tree(journal::TREE)
            .unwrap()
            .insert(journal::KEY, &[1u8, 0, 0, 0, 9][..])
            .unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        open(dir.path(), "pw"),
        Err(OpenFailure::Store(StoreError::Corrupt(_)))
    ));
}

#[tokio::test]
async fn a_wrong_passphrase_is_refused_and_changes_no_byte() {
    let dir = tempfile::tempdir().unwrap();
    write_some(&open_ok(dir.path(), "right")).await;
    let before = snapshot(dir.path());
    for _ in 0..3 {
        assert!(matches!(
            open(dir.path(), "wrong"),
            Err(OpenFailure::WrongPassphrase)
        ));
    }
    assert_eq!(snapshot(dir.path()), before);
    assert_eq!(
        open_ok(dir.path(), "right")
            .get_u64(Key::Cursor(&[1u8; 32]))
            .unwrap(),
        42
    );
}

#[tokio::test]
async fn a_store_without_records_keeps_no_key() {
    let dir = tempfile::tempdir().unwrap();
    drop(open_ok(dir.path(), "first"));
    // Nothing was ever written, so another passphrase makes a new store.
    let store = open_ok(dir.path(), "second");
    write_some(&store).await;
    drop(store);
    assert!(matches!(
        open(dir.path(), "first"),
        Err(OpenFailure::WrongPassphrase)
    ));
    open_ok(dir.path(), "second");
}

#[tokio::test]
async fn rewrapping_switches_the_passphrase() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "old");
    write_some(&store).await;
    store.rewrap(&pass("new")).unwrap();
    drop(store);
    assert!(matches!(
        open(dir.path(), "old"),
        Err(OpenFailure::WrongPassphrase)
    ));
    let store = open_ok(dir.path(), "new");
    assert_eq!(store.get_u64(Key::Cursor(&[1u8; 32])).unwrap(), 42);
}

#[tokio::test]
async fn rewrapping_before_the_first_write_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "old");
    store.rewrap(&pass("new")).unwrap();
    write_some(&store).await;
    drop(store);
    assert!(matches!(
        open(dir.path(), "old"),
        Err(OpenFailure::WrongPassphrase)
    ));
    open_ok(dir.path(), "new");
}

#[tokio::test]
async fn the_tree_holds_only_hashed_keys_and_sealed_values() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    write_some(&store).await;
    let mut kinds = 0;
    for item in store.tree.iter() {
        let (key, value) = item.unwrap();
        kinds += 1;
        assert!([16, 32, 40].contains(&key.len()), "key {key:?}");
        assert_eq!(value[0], 1);
        assert!(value.len() >= parley_crypto::vault::SEALED_OVERHEAD + 4);
        for needle in [&b"first"[..], b"second", b"mls-key-1", b"mls-value-1"] {
            assert!(!value.windows(needle.len()).any(|w| w == needle));
        }
    }
    assert_eq!(kinds, 5);
    let key_file = std::fs::read(dir.path().join(key_file::KEY_FILE)).unwrap();
    assert_eq!(
        WrappedKey::decode(&key_file).unwrap().params(),
        KdfParams::insecure_for_tests()
    );
}

#[tokio::test]
async fn a_value_moved_to_another_record_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let gid = [1u8; 32];
    write_some(&store).await;
    let first = Key::History(&gid, 0).encode(&store.keys.vault);
    let second = Key::History(&gid, 1).encode(&store.keys.vault);
    let moved = store.tree.get(&first).unwrap().unwrap();
    store.tree.insert(&second, moved).unwrap();
    assert!(matches!(
        store.scan::<String>(Prefix::History(&gid)),
        Err(StoreError::Corrupt(_))
    ));
}

#[tokio::test]
async fn a_plaintext_store_is_not_taken_over() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path().join("store")).unwrap();
        db.open_tree(TREE)
            .unwrap()
            .insert(b"settings", b"{}")
            .unwrap();
        db.flush().unwrap();
    }
    assert!(matches!(
        open(dir.path(), "pw"),
        Err(OpenFailure::Store(StoreError::Corrupt(_)))
    ));
}

/// The lengths of every sealed value in the tree.
fn stored_lengths(store: &Store) -> Vec<usize> {
    store
        .tree
        .iter()
        .map(|item| item.unwrap().1.len())
        .collect()
}

#[tokio::test]
async fn history_values_of_different_lengths_are_stored_at_one_length() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let gid = [2u8; 32];
    let texts = ["ok", "yes, we accept the second draft", &"x".repeat(150)];
    let mut batch = StoreBatch::default();
    for (i, text) in (0u64..).zip(texts) {
        batch.put(Key::History(&gid, i), &text).unwrap();
    }
    store.apply(batch).await.unwrap();
    let lengths = stored_lengths(&store);
    assert_eq!(lengths.len(), 3);
    assert!(lengths.iter().all(|len| *len == lengths[0]), "{lengths:?}");
    let history: Vec<String> = store.scan(Prefix::History(&gid)).unwrap();
    assert_eq!(history, texts);
    // Reopened, the padded values read back the same.
    drop(store);
    let store = open_ok(dir.path(), "pw");
    let history: Vec<String> = store.scan(Prefix::History(&gid)).unwrap();
    assert_eq!(history, texts);
}

#[tokio::test]
async fn every_record_holding_a_message_is_padded_and_mls_state_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let gid = [3u8; 32];
    for key in [
        Key::History(&gid, 0),
        Key::Outbox(0),
        Key::Held(0),
        Key::Quarantine(0),
        Key::Alert(0),
        Key::PendingCommit(&gid),
    ] {
        assert!(key.slot().padded_at_rest(), "{key:?}");
    }
    assert!(!Key::Mls(b"k").slot().padded_at_rest());
    let mut batch = StoreBatch::default();
    batch.put_raw(Key::Outbox(0), b"short");
    batch.put_raw(Key::Outbox(1), &[b'y'; 200]);
    store.apply(batch).await.unwrap();
    let lengths = stored_lengths(&store);
    assert_eq!(lengths[0], lengths[1], "{lengths:?}");
    assert_eq!(
        store.get_raw(Key::Outbox(0)).unwrap().unwrap().as_slice(),
        b"short"
    );
}

#[tokio::test]
async fn a_history_value_written_unpadded_by_an_older_version_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let gid = [4u8; 32];
    // Written as before padding: no flag, the value as it is.
    let key = Key::History(&gid, 0).encode(&store.keys.vault);
    let mut frame = 0u32.to_be_bytes().to_vec();
    frame.extend_from_slice(b"\"from before\"");
    let sealed = store.keys.vault.seal(&mut OsRng, &key, &frame).unwrap();
    store.tree.insert(key, sealed).unwrap();
    let history: Vec<String> = store.scan(Prefix::History(&gid)).unwrap();
    assert_eq!(history, ["from before"]);
}

#[tokio::test]
async fn a_value_too_large_for_a_bucket_is_kept_unpadded() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_ok(dir.path(), "pw");
    let large = vec![b'z'; parley_crypto::padding::MAX_PADDED_LEN + 1];
    let mut batch = StoreBatch::default();
    batch.put_raw(Key::Held(0), &large);
    store.apply(batch).await.unwrap();
    assert_eq!(
        store.get_raw(Key::Held(0)).unwrap().unwrap().as_slice(),
        &large[..]
    );
}
