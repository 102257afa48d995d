//! Bounded inbox damage: anyone may deposit into an inbox, so a flood of garbage must cost
//! its owner little store space and one alert per cause, ask the directory nothing, pin
//! nobody, and let a real invitation among it through. Real relay on loopback (TLS, its
//! per-source rate limit off, as many depositors would share it), real stores.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;

use common::{h, inbox_of, open, registered};
use futures::stream::{self, StreamExt};
use parley_client::Alert;
use parley_proto::v1::DepositRequest;
use parley_testkit::{LimitsConfig, TestRelay, TestUser};
use rand::RngCore;
use tempfile::TempDir;

/// Random deposits of a bucket's length: unreadable.
const GARBAGE: usize = 9_800;
/// Deposits sealed properly by made-up people with their own records, carrying no valid
/// message: readable, authentic, and refused.
const FORGED: usize = 200;
/// Deposits in flight at once.
const PARALLEL: usize = 16;

/// Deposits every envelope into `handle`'s inbox, `PARALLEL` at a time.
async fn deposit_all(relay: &TestRelay, handle: &str, envelopes: Vec<Vec<u8>>) {
    let inbox = relay.inbox().await;
    stream::iter(envelopes)
        .for_each_concurrent(PARALLEL, |envelope| {
            let mut inbox = inbox.clone();
            async move {
                inbox
                    .deposit(DepositRequest {
                        handle: handle.into(),
                        envelope,
                    })
                    .await
                    .unwrap();
            }
        })
        .await;
}

fn garbage(count: usize) -> Vec<Vec<u8>> {
    (0..count)
        .map(|_| {
            let mut bytes = vec![0u8; 256];
            rand::thread_rng().fill_bytes(&mut bytes);
            bytes
        })
        .collect()
}

/// Records and live bytes (keys and sealed values) of the store in `home`, read with the
/// client closed.
fn store_size(home: &Path) -> (usize, usize) {
    let db = sled::open(home.join("store")).unwrap();
    let tree = db.open_tree(b"parley").unwrap();
    tree.iter().fold((0, 0), |(records, bytes), item| {
        let (key, value) = item.unwrap();
        (records + 1, bytes + key.len() + value.len())
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_garbage_deposits_cost_one_alert_per_cause_and_an_invitation_gets_through() {
    let relay = TestRelay::builder()
        .limits(LimitsConfig {
            source_requests_per_second: 0,
            inbox_max_messages: 20_000,
            ..LimitsConfig::default()
        })
        .start();
    let homes = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    bob.sync().await.unwrap();
    drop(bob);
    let before = store_size(homes.1.path());

    let (bob_handle, bob_inbox) = inbox_of(&relay, "bob").await;
    let forged: Vec<Vec<u8>> = (0..FORGED)
        .map(|i| {
            let ghost = TestUser::new(&format!("ghost-{i}"));
            ghost.seal_with_record(
                &ghost.record().to_bytes(),
                &bob_handle,
                &bob_inbox,
                b"not an invitation",
            )
        })
        .collect();
    deposit_all(&relay, "bob", garbage(GARBAGE / 2)).await;
    deposit_all(&relay, "bob", forged).await;
    // The real invitation, in the middle of the flood.
    alice.create_group("talks", &[h("bob")]).await.unwrap();
    deposit_all(&relay, "bob", garbage(GARBAGE - GARBAGE / 2)).await;

    let bob = open(&relay, homes.1.path()).await;
    bob.sync().await.unwrap();
    let to_group = alice.resolve("talks").await.unwrap();
    alice.send_text(&to_group, "shall we start?").await.unwrap();
    let received = bob.sync().await.unwrap().messages;
    assert!(
        received.iter().any(|m| m.text() == Some("shall we start?")),
        "{received:?}"
    );

    // One alert per cause: the unreadable ones and the forged ones.
    let alerts = bob.alerts().await.unwrap();
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(
        alerts
            .iter()
            .all(|a| matches!(a, Alert::InboxRefused { .. })),
        "{alerts:?}"
    );
    // Every refusal counted, by cause.
    let set_aside = bob.quarantined().await.unwrap();
    let counted: u64 = set_aside.iter().map(|item| item.count).sum();
    assert_eq!(
        counted,
        u64::try_from(GARBAGE + FORGED).unwrap(),
        "{set_aside:?}"
    );
    assert_eq!(set_aside.len(), 2, "{set_aside:?}");
    // None of the made-up people was pinned (nor looked up: they are not registered, and a
    // lookup would have failed the delivery as UnknownContact rather than malformed).
    let contacts: Vec<String> = bob
        .contacts()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.handle.to_string())
        .collect();
    assert_eq!(contacts, ["alice"]);

    drop(bob);
    let after = store_size(homes.1.path());
    eprintln!(
        "store of the flooded inbox: {} records, {} bytes before; {} records, {} bytes after \
         {} deposits (the joined group included)",
        before.0,
        before.1,
        after.0,
        after.1,
        GARBAGE + FORGED
    );
    // The joined group (MLS state, conversation, history) and the tally, not the flood.
    assert!(after.0 - before.0 < 100, "{before:?} -> {after:?}");
    assert!(after.1 - before.1 < 256 * 1024, "{before:?} -> {after:?}");
}
