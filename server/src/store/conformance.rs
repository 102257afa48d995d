//! One suite every storage backend must pass, played through the [`Store`] interface the
//! services use: the races a relay meets under load (a handle registered twice at once, a
//! KeyPackage claimed by 100 at once, N commits racing for one epoch), quotas, paging,
//! acknowledgement, the retention sweeps, and storage going away under a running store.
//! `conformance_suite!` instantiates it for a backend; each backend's module calls it with how
//! to open a fresh, empty store and how to take its storage away ([`Outage`]).

use std::collections::BTreeSet;
use std::sync::Arc;

use parley_crypto::handle::Handle;

use super::blobs::{Begun, BlobMeta, BlobWrite};
use super::directory::{Registration, Rotated, RotationWrite};
use super::groups::{Appended, Created, TtlSet};
use super::inbox::Deposited;
use super::key_packages::{Published, Upload};
use super::{SharedStore, StoreError};
use crate::limits::{InboxQuota, QuotaExceeded};
use crate::service::status;

fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

const ROOMY: InboxQuota = InboxQuota {
    max_messages: 1000,
    max_bytes: 1 << 20,
};

/// How a test takes a backend's storage away from a store in use, and gives it back: a full
/// disk for sled, a database refusing connections for PostgreSQL.
#[tonic::async_trait]
pub(super) trait Outage: Send + Sync {
    /// From now on the storage is gone.
    async fn begin(&self);
    /// The storage is back; the store must serve again without being reopened.
    async fn end(&self);
}

/// Runs `n` copies of `work` at once (each given its index) and collects the results.
async fn race<T, F, Fut>(store: &SharedStore, n: usize, work: F) -> Vec<T>
where
    T: Send + 'static,
    F: Fn(SharedStore, usize) -> Fut,
    Fut: std::future::Future<Output = T> + Send + 'static,
{
    let tasks: Vec<_> = (0..n)
        .map(|i| tokio::spawn(work(Arc::clone(store), i)))
        .collect();
    let mut out = Vec::with_capacity(n);
    for task in tasks {
        out.push(task.await.unwrap());
    }
    out
}

pub(super) async fn a_handle_raced_for_is_registered_once(store: SharedStore) {
    let results = race(&store, 32, |store, i| async move {
        let record = format!("record {i}").into_bytes();
        let outcome = store.register(&handle("contested"), &record).await.unwrap();
        (outcome, record)
    })
    .await;
    let winners: Vec<_> = results
        .iter()
        .filter(|(outcome, _)| *outcome == Registration::Created)
        .collect();
    assert_eq!(winners.len(), 1, "exactly one registration wins");
    let held = store.lookup(&handle("contested")).await.unwrap();
    assert_eq!(
        held.as_ref(),
        Some(&winners[0].1),
        "the winner's record is held"
    );
    assert_eq!(store.lookup(&handle("nobody")).await.unwrap(), None);
}

pub(super) async fn a_rotation_replaces_only_the_record_it_names(store: SharedStore) {
    let alice = handle("alice");
    let write = |old: &'static [u8], new: &'static [u8], version| RotationWrite {
        old_record: old,
        new_record: new,
        new_version: version,
        rotation: new,
    };
    let unknown = store.rotate(&alice, write(b"r1", b"r2", 2), 4).await;
    assert_eq!(unknown.unwrap(), Rotated::Unknown);
    store.register(&alice, b"r1").await.unwrap();
    let done = store.rotate(&alice, write(b"r1", b"r2", 2), 4).await;
    assert_eq!(done.unwrap(), Rotated::Done);
    // Replayed: it names a record no longer held.
    let stale = store.rotate(&alice, write(b"r1", b"r3", 3), 4).await;
    assert_eq!(stale.unwrap(), Rotated::Stale);
    assert_eq!(
        store.lookup(&alice).await.unwrap().as_deref(),
        Some(&b"r2"[..])
    );
    assert_eq!(store.rotations(&alice).await.unwrap(), vec![b"r2".to_vec()]);
}

pub(super) async fn a_key_package_is_claimed_at_most_once_by_100_at_once(store: SharedStore) {
    let bob = handle("bob");
    let one_time: Vec<Vec<u8>> = (0..40u8).map(|i| vec![i; 64]).collect();
    let upload = Upload {
        key_packages: &one_time,
        last_resort: Some(b"last resort"),
        replace: false,
    };
    assert_eq!(
        store.publish_key_packages(&bob, upload, 100).await.unwrap(),
        Published::Held(40)
    );
    let claims = race(&store, 100, |store, _| async move {
        store
            .claim_key_package(&handle("bob"))
            .await
            .unwrap()
            .unwrap()
    })
    .await;
    let mut handed: Vec<Vec<u8>> = claims
        .iter()
        .filter(|c| !c.last_resort)
        .map(|c| c.key_package.clone())
        .collect();
    handed.sort();
    let distinct: BTreeSet<_> = handed.iter().cloned().collect();
    assert_eq!(handed.len(), 40, "every one-time KeyPackage handed out");
    assert_eq!(distinct.len(), 40, "none handed out twice");
    assert!(claims
        .iter()
        .filter(|c| c.last_resort)
        .all(|c| c.key_package == b"last resort"));
    // The last resort stays; more than the cap is refused.
    let last = store.claim_last_resort(&bob).await.unwrap().unwrap();
    assert!(last.last_resort);
    let too_many: Vec<Vec<u8>> = (0..3u8).map(|i| vec![i; 8]).collect();
    let upload = Upload {
        key_packages: &too_many,
        last_resort: None,
        replace: false,
    };
    assert_eq!(
        store.publish_key_packages(&bob, upload, 2).await.unwrap(),
        Published::TooMany
    );
    assert_eq!(
        store.claim_key_package(&handle("nobody")).await.unwrap(),
        None
    );
}

pub(super) async fn exactly_one_of_racing_commits_moves_the_epoch(store: SharedStore) {
    let group = [7u8; 32];
    assert_eq!(
        store.create_group(&group, &[1; 32]).await.unwrap(),
        Created::Created
    );
    assert_eq!(
        store.create_group(&group, &[2; 32]).await.unwrap(),
        Created::Exists
    );
    let outcomes = race(&store, 20, move |store, i| async move {
        let next = [i as u8 + 10; 32];
        let message = format!("commit {i}").into_bytes();
        store
            .append(&group, 0, &message, Some(&next), 1_000)
            .await
            .unwrap()
    })
    .await;
    let won: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, Appended::At(_)))
        .collect();
    assert_eq!(won.len(), 1, "exactly one commit wins: {outcomes:?}");
    assert!(outcomes
        .iter()
        .all(|o| matches!(o, Appended::At(_) | Appended::EpochMoved { current: 1 })));
    let meta = store.group_meta(&group).await.unwrap().unwrap();
    assert_eq!(meta.epoch, 1);
    let key = store.epoch_key(&group, 1).await.unwrap().unwrap();
    assert_eq!(key.first_seq, meta.next_seq);
    // A post to the old epoch is refused; to the new one, taken.
    let late = store.append(&group, 0, b"late", None, 1_000).await.unwrap();
    assert_eq!(late, Appended::EpochMoved { current: 1 });
    let posted = store
        .append(&group, 1, b"hello", None, 1_000)
        .await
        .unwrap();
    assert_eq!(posted, Appended::At(meta.next_seq));
    let none = store.append(&[9; 32], 0, b"x", None, 1_000).await.unwrap();
    assert_eq!(none, Appended::NoGroup);
    // The retention is set from the current epoch only.
    assert_eq!(
        store.set_group_ttl(&group, 0, 60).await.unwrap(),
        TtlSet::EpochMoved
    );
    assert_eq!(
        store.set_group_ttl(&group, 1, 60).await.unwrap(),
        TtlSet::Set
    );
    assert_eq!(
        store.set_group_ttl(&[9; 32], 0, 60).await.unwrap(),
        TtlSet::NoGroup
    );
}

pub(super) async fn a_group_log_pages_by_count_and_bytes(store: SharedStore) {
    let group = [3u8; 32];
    store.create_group(&group, &[1; 32]).await.unwrap();
    for i in 0..10u8 {
        store
            .append(&group, 0, &[i; 100], None, 1_000)
            .await
            .unwrap();
    }
    let first = store
        .read_entries(&group, 0, 0, 0, 4, 1 << 20)
        .await
        .unwrap();
    assert_eq!(
        first.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [0, 1, 2, 3]
    );
    let rest = store
        .read_entries(&group, 0, 0, 4, 100, 1 << 20)
        .await
        .unwrap();
    assert_eq!(rest.len(), 6);
    assert_eq!(rest[5].message, vec![9u8; 100]);
    // A byte budget stops early, but never returns nothing.
    let small = store.read_entries(&group, 0, 0, 0, 100, 250).await.unwrap();
    assert_eq!(small.len(), 2);
    let tiny = store.read_entries(&group, 0, 0, 0, 100, 1).await.unwrap();
    assert_eq!(tiny.len(), 1);
}

pub(super) async fn an_inbox_keeps_its_quota_pages_and_forgets_what_is_acknowledged(
    store: SharedStore,
) {
    let carol = handle("carol");
    let quota = InboxQuota {
        max_messages: 3,
        max_bytes: 1 << 20,
    };
    let mut ids = Vec::new();
    for i in 0..3u8 {
        match store.deposit(&carol, &[i; 32], 1_000, quota).await.unwrap() {
            Deposited::Stored(id) => ids.push(id),
            full => panic!("{full:?}"),
        }
    }
    assert_eq!(
        store
            .deposit(&carol, b"one too many", 1_000, quota)
            .await
            .unwrap(),
        Deposited::Full(QuotaExceeded::Messages)
    );
    let bytes = InboxQuota {
        max_messages: 100,
        max_bytes: 100,
    };
    assert_eq!(
        store
            .deposit(&carol, &[0; 101], 1_000, bytes)
            .await
            .unwrap(),
        Deposited::Full(QuotaExceeded::Bytes)
    );
    let page = store
        .pending_deliveries(&carol, 0, 2, 1 << 20)
        .await
        .unwrap();
    assert_eq!(page.iter().map(|d| d.id).collect::<Vec<_>>(), ids[..2]);
    let next = store
        .pending_deliveries(&carol, page[1].id + 1, 2, 1 << 20)
        .await
        .unwrap();
    assert_eq!(next.iter().map(|d| d.id).collect::<Vec<_>>(), ids[2..]);
    assert_eq!(next[0].envelope, vec![2u8; 32]);

    store.acknowledge(&carol, &ids[..2]).await.unwrap();
    let left = store
        .pending_deliveries(&carol, 0, 10, 1 << 20)
        .await
        .unwrap();
    assert_eq!(left.iter().map(|d| d.id).collect::<Vec<_>>(), ids[2..]);
    // Room again, under a new id.
    let Deposited::Stored(id) = store.deposit(&carol, b"again", 1_000, quota).await.unwrap() else {
        panic!("refused after acknowledgement")
    };
    assert!(id > ids[2], "ids are never reused");
    // Acknowledging what is gone, or another inbox's ids, changes nothing.
    store.acknowledge(&carol, &ids[..2]).await.unwrap();
    store.acknowledge(&handle("dave"), &[id]).await.unwrap();
    assert_eq!(
        store
            .pending_deliveries(&carol, 0, 10, 1 << 20)
            .await
            .unwrap()
            .len(),
        2
    );
}

/// An inbox's quota counts exactly what waits in it: parallel deposits stop at the limit,
/// two racing acknowledgements of the same deliveries free their room once, and a sweep
/// frees what it deletes.
pub(super) async fn an_inbox_quota_counts_exactly_what_waits(store: SharedStore) {
    let frank = handle("frank");
    let quota = InboxQuota {
        max_messages: 10,
        max_bytes: 1 << 20,
    };
    let deposits = (0..40u8).map(|i| {
        let store = store.clone();
        let frank = frank.clone();
        tokio::spawn(async move { store.deposit(&frank, &[i; 32], 1_000, quota).await })
    });
    let mut stored = Vec::new();
    for deposit in deposits.collect::<Vec<_>>() {
        if let Deposited::Stored(id) = deposit.await.unwrap().unwrap() {
            stored.push(id);
        }
    }
    assert_eq!(stored.len(), 10, "parallel deposits stop at the quota");

    let acks = (0..2).map(|_| {
        let store = store.clone();
        let frank = frank.clone();
        let ids = stored[..3].to_vec();
        tokio::spawn(async move { store.acknowledge(&frank, &ids).await })
    });
    for ack in acks.collect::<Vec<_>>() {
        ack.await.unwrap().unwrap();
    }
    for _ in 0..3 {
        assert!(matches!(
            store.deposit(&frank, b"room", 2_000, quota).await.unwrap(),
            Deposited::Stored(_)
        ));
    }
    assert_eq!(
        store.deposit(&frank, b"full", 2_000, quota).await.unwrap(),
        Deposited::Full(QuotaExceeded::Messages),
        "an acknowledgement raced twice frees its room once"
    );

    assert_eq!(store.expire_deliveries(1_500).await.unwrap(), 7);
    for _ in 0..7 {
        assert!(matches!(
            store
                .deposit(&frank, b"after the sweep", 3_000, quota)
                .await
                .unwrap(),
            Deposited::Stored(_)
        ));
    }
    assert_eq!(
        store.deposit(&frank, b"full", 3_000, quota).await.unwrap(),
        Deposited::Full(QuotaExceeded::Messages)
    );

    let bytes = InboxQuota {
        max_messages: 100,
        max_bytes: 100,
    };
    let grace = handle("grace");
    let Deposited::Stored(first) = store.deposit(&grace, &[1; 60], 1_000, bytes).await.unwrap()
    else {
        panic!("an empty inbox refused 60 bytes")
    };
    assert_eq!(
        store.deposit(&grace, &[2; 60], 1_000, bytes).await.unwrap(),
        Deposited::Full(QuotaExceeded::Bytes)
    );
    store.acknowledge(&grace, &[first]).await.unwrap();
    assert!(matches!(
        store.deposit(&grace, &[3; 60], 1_000, bytes).await.unwrap(),
        Deposited::Stored(_)
    ));
}

pub(super) async fn sweeps_delete_what_is_past_its_retention_and_nothing_else(store: SharedStore) {
    let erin = handle("erin");
    store.deposit(&erin, b"old", 1_000, ROOMY).await.unwrap();
    store.deposit(&erin, b"new", 5_000, ROOMY).await.unwrap();
    assert_eq!(store.expire_deliveries(2_000).await.unwrap(), 1);
    let left = store
        .pending_deliveries(&erin, 0, 10, 1 << 20)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].envelope, b"new");

    // Group entries: the relay's retention, and a group's own.
    let (kept, short) = ([1u8; 32], [2u8; 32]);
    for group in [&kept, &short] {
        store.create_group(group, &[1; 32]).await.unwrap();
        store
            .append(group, 0, b"at 1 s", None, 1_000)
            .await
            .unwrap();
        store
            .append(group, 0, b"at 100 s", None, 100_000)
            .await
            .unwrap();
    }
    store.set_group_ttl(&short, 0, 60).await.unwrap();
    // At 70 s, without a relay retention: only the short group's first entry has expired.
    assert_eq!(store.expire_entries(70_000, None).await.unwrap(), 1);
    let kept_entries = store
        .read_entries(&kept, 0, 0, 0, 10, 1 << 20)
        .await
        .unwrap();
    assert_eq!(kept_entries.len(), 2);
    let short_entries = store
        .read_entries(&short, 0, 0, 0, 10, 1 << 20)
        .await
        .unwrap();
    assert_eq!(short_entries.len(), 1);
    assert_eq!(short_entries[0].message, b"at 100 s");
    // The relay's retention reaches every group.
    assert_eq!(
        store.expire_entries(101_000, Some(50_000)).await.unwrap(),
        1
    );

    // Blobs: their own retention, and the relay's.
    let meta = |ttl| {
        BlobMeta::new([1; 32], [2; 32], 64 << 10, 1 << 30, 1_000)
            .unwrap()
            .with_ttl(ttl)
    };
    for (id, ttl) in [([1u8; 32], 0), ([2u8; 32], 60)] {
        assert!(matches!(
            store.begin_blob(&id, meta(ttl)).await.unwrap(),
            Begun::Ready(_)
        ));
    }
    assert_eq!(store.expire_blobs(50_000, None).await.unwrap(), 0);
    assert_eq!(store.expire_blobs(62_000, None).await.unwrap(), 1);
    assert!(store.blob(&[2; 32]).await.unwrap().is_none());
    assert!(store.blob(&[1; 32]).await.unwrap().is_some());
    assert_eq!(store.expire_blobs(62_000, Some(10_000)).await.unwrap(), 1);
    assert!(store.blob(&[1; 32]).await.unwrap().is_none());
}

pub(super) async fn a_blob_goes_up_in_order_comes_back_and_is_shortened(store: SharedStore) {
    let id = [5u8; 32];
    let meta = BlobMeta::new([1; 32], [2; 32], 192 << 10, 1 << 30, 1_000).unwrap();
    let Begun::Ready(mut held) = store.begin_blob(&id, meta).await.unwrap() else {
        panic!("taken")
    };
    // Another write capability for the same id: taken.
    let squatter = BlobMeta::new([9; 32], [2; 32], 192 << 10, 1 << 30, 1_000).unwrap();
    assert_eq!(store.begin_blob(&id, squatter).await.unwrap(), Begun::Taken);
    let chunks: Vec<Vec<u8>> = (0..meta.chunks)
        .map(|i| vec![i as u8 + 1; meta.chunk_len(i)])
        .collect();
    let first_two = [chunks[0].clone(), chunks[1].clone()].concat();
    let written = store.put_chunks(&id, &mut held, first_two, 2, true).await;
    assert_eq!(written.unwrap(), BlobWrite::Done);
    // Resuming finds the count where it was.
    let Begun::Ready(resumed) = store.begin_blob(&id, meta).await.unwrap() else {
        panic!("taken")
    };
    assert_eq!(resumed.stored, 2);
    let written = store
        .put_chunks(&id, &mut held, chunks[2].clone(), 1, false)
        .await;
    assert_eq!(written.unwrap(), BlobWrite::Done);
    assert_eq!(
        store.commit_blob(&id, &held).await.unwrap(),
        BlobWrite::Done
    );
    assert!(store.blob(&id).await.unwrap().unwrap().complete());
    for (index, chunk) in chunks.iter().enumerate() {
        let loaded = store.load_chunk(&id, index as u32).await.unwrap();
        assert_eq!(loaded.as_ref(), Some(chunk));
    }
    assert_eq!(store.load_chunk(&id, 3).await.unwrap(), None);
    // Shortened by the read capability's hash only, never lengthened.
    assert_eq!(store.shorten_blob(&id, &[3; 32], 60).await.unwrap(), None);
    let shortened = store.shorten_blob(&id, &[2; 32], 600).await.unwrap();
    assert_eq!(shortened.unwrap().ttl_secs, 600);
    let kept = store.shorten_blob(&id, &[2; 32], 6000).await.unwrap();
    assert_eq!(kept.unwrap().ttl_secs, 600);
}

/// Asserts that `result` failed as a client must see a storage outage: UNAVAILABLE (worth a
/// retry), with nothing of the cause in the message.
fn refused<T: std::fmt::Debug>(what: &str, result: Result<T, StoreError>) {
    let error = result.expect_err(what);
    let status = status::storage(error);
    assert_eq!(status.code(), tonic::Code::Unavailable, "{what}: {status}");
    assert_eq!(status.message(), "storage unavailable, try again later");
}

/// Storage gone under a running store (database down, disk full): every write that adds data
/// fails as UNAVAILABLE and leaves nothing behind; once it is back the same store serves again,
/// holding exactly what it acknowledged.
pub(super) async fn a_store_without_its_storage_refuses_keeps_nothing_and_comes_back(
    store: SharedStore,
    outage: &dyn Outage,
) {
    let (bob, carol) = (handle("bob"), handle("carol"));
    let group = [7u8; 32];
    store.register(&bob, b"bob's record").await.unwrap();
    store.create_group(&group, &[1; 32]).await.unwrap();
    let before = store.deposit(&bob, b"before", 1_000, ROOMY).await.unwrap();
    assert!(matches!(before, Deposited::Stored(_)), "{before:?}");
    store
        .append(&group, 0, b"before", None, 1_000)
        .await
        .unwrap();

    outage.begin().await;
    refused("deposit", store.deposit(&bob, b"lost", 1_000, ROOMY).await);
    refused(
        "group message",
        store.append(&group, 0, b"lost", None, 1_000).await,
    );
    refused("registration", store.register(&carol, b"record").await);
    let packages = [b"kp".to_vec()];
    let upload = Upload {
        key_packages: &packages,
        last_resort: None,
        replace: false,
    };
    refused(
        "KeyPackages",
        store.publish_key_packages(&carol, upload, 10).await,
    );
    refused("new group", store.create_group(&[8; 32], &[1; 32]).await);
    let meta = BlobMeta::new([1; 32], [2; 32], 192 << 10, 1 << 30, 1_000).unwrap();
    refused("new document", store.begin_blob(&[9; 32], meta).await);

    outage.end().await;
    // A pool reconnects on demand; give it the time a client's retries would.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let after = loop {
        match store.deposit(&bob, b"after", 1_000, ROOMY).await {
            Ok(deposited) => break deposited,
            Err(error) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the store never served again: {error}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        }
    };
    assert!(matches!(after, Deposited::Stored(_)), "{after:?}");
    store
        .append(&group, 0, b"after", None, 1_000)
        .await
        .unwrap();

    let waiting: Vec<Vec<u8>> = store
        .pending_deliveries(&bob, 0, 100, 1 << 20)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.envelope)
        .collect();
    assert_eq!(waiting, [b"before".to_vec(), b"after".to_vec()]);
    let logged: Vec<Vec<u8>> = store
        .read_entries(&group, 0, 0, 0, 100, 1 << 20)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.message)
        .collect();
    assert_eq!(logged, [b"before".to_vec(), b"after".to_vec()]);
    assert_eq!(store.lookup(&carol).await.unwrap(), None);
    assert_eq!(store.claim_key_package(&carol).await.unwrap(), None);
    assert!(store.group_meta(&[8; 32]).await.unwrap().is_none());
    assert!(store.blob(&[9; 32]).await.unwrap().is_none());
}

/// Instantiates every test of the suite for one backend: `$open` is an expression (it may
/// `.await`) giving a fresh store and an [`Outage`] for it (which keeps alive whatever must
/// live as long as the store), or `None` when the backend cannot run here (the backend says
/// why, once).
macro_rules! conformance_suite {
    ($open:expr) => {
        conformance_suite!(@tests $open;
            a_handle_raced_for_is_registered_once,
            a_rotation_replaces_only_the_record_it_names,
            a_key_package_is_claimed_at_most_once_by_100_at_once,
            exactly_one_of_racing_commits_moves_the_epoch,
            a_group_log_pages_by_count_and_bytes,
            an_inbox_keeps_its_quota_pages_and_forgets_what_is_acknowledged,
            an_inbox_quota_counts_exactly_what_waits,
            sweeps_delete_what_is_past_its_retention_and_nothing_else,
            a_blob_goes_up_in_order_comes_back_and_is_shortened,
        );
        conformance_suite!(@outages $open;
            a_store_without_its_storage_refuses_keeps_nothing_and_comes_back,
        );
    };
    (@tests $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some((store, _backend)) = $open else {
                    return;
                };
                $crate::store::conformance::$name(store).await;
            }
        )*
    };
    (@outages $open:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some((store, backend)) = $open else {
                    return;
                };
                $crate::store::conformance::$name(store, &backend).await;
            }
        )*
    };
}
pub(super) use conformance_suite;
