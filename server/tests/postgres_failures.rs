//! Failures around a PostgreSQL store: a relay node killed with SIGKILL under load while
//! another keeps serving (every acknowledged deposit is readable through the survivor), and
//! the database refusing connections under a relay (UNAVAILABLE, nothing acknowledged that
//! was not stored, service back once it is). Skipped (in one line) where no PostgreSQL
//! server runs, unless `PARLEY_REQUIRE_POSTGRES=1`.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::process::RelayProcess;
use common::{drain, User};
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::DepositRequest;
use parley_relay::StoreSetting;
use parley_testkit::postgres::scratch_database;
use parley_testkit::TestRelay;
use tonic::transport::Channel;
use tonic::Code;

/// A 256-byte envelope (a padding bucket) that names itself.
fn envelope(writer: u8, n: u32) -> Vec<u8> {
    let mut bytes = vec![0u8; 256];
    bytes[0] = writer;
    bytes[1..5].copy_from_slice(&n.to_be_bytes());
    bytes
}

/// Deposits to bob until told to stop or refused; returns what the relay acknowledged.
async fn keep_depositing(
    mut inbox: InboxClient<Channel>,
    writer: u8,
    stop: Arc<AtomicBool>,
) -> Vec<Vec<u8>> {
    let mut acknowledged = Vec::new();
    for n in 0.. {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let sent = envelope(writer, n);
        let request = DepositRequest {
            handle: "bob".into(),
            envelope: sent.clone(),
        };
        match inbox.deposit(request).await {
            Ok(_) => acknowledged.push(sent),
            // The node died under us: what it did not acknowledge is not promised.
            Err(_) => break,
        }
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_under_load_loses_nothing_it_acknowledged() {
    let Some((url, _database)) = scratch_database().await else {
        return;
    };
    let dirs: Vec<tempfile::TempDir> = (0..2).map(|_| tempfile::tempdir().unwrap()).collect();
    let env = [("PARLEY_RELAY_STORE", url.as_str())];
    let mut nodes = Vec::new();
    for dir in &dirs {
        let log = dir.path().join("relay.log");
        nodes.push(RelayProcess::start_with_env(&dir.path().join("data"), &log, &env).await);
    }
    let bob = User::new("bob");
    bob.register(&mut nodes[1].directory().await).await;

    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for writer in 0..8u8 {
        let inbox = nodes[usize::from(writer % 2)].inbox().await;
        writers.push(tokio::spawn(keep_depositing(inbox, writer, stop.clone())));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed = nodes.remove(0);
    killed.kill();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = BTreeSet::new();
    let mut by_killed = 0;
    for (writer, task) in writers.into_iter().enumerate() {
        let got = task.await.unwrap();
        if writer % 2 == 0 {
            by_killed += got.len();
        }
        acknowledged.extend(got);
    }
    assert!(
        by_killed > 0,
        "the killed node took deposits before it died"
    );

    let survivor = &nodes[0];
    let stored: BTreeSet<Vec<u8>> = drain(
        &mut survivor.directory().await,
        &mut survivor.inbox().await,
        &bob,
    )
    .await
    .into_iter()
    .collect();
    let lost: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged deposits are not readable through the survivor",
        lost.len(),
        acknowledged.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_refuses_connections_gives_unavailable_and_service_comes_back() {
    let Some((url, database)) = scratch_database().await else {
        return;
    };
    let mut relay = TestRelay::builder()
        .plaintext()
        .store(StoreSetting::Postgres(url.clone()))
        .start();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let deposit = |n| DepositRequest {
        handle: "bob".into(),
        envelope: envelope(0, n),
    };
    inbox.deposit(deposit(1)).await.unwrap();

    // The database goes away for this relay: no new connections, the open ones cut.
    database.set_reachable(false).await;
    for n in 2..5 {
        let refused = inbox.deposit(deposit(n)).await;
        assert_eq!(
            refused.unwrap_err().code(),
            Code::Unavailable,
            "deposit {n} while the database is away"
        );
    }

    // Back: the relay serves again without a restart, and holds exactly what it acknowledged.
    database.set_reachable(true).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        match inbox.deposit(deposit(5)).await {
            Ok(_) => break,
            Err(status) if status.code() == Code::Unavailable => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "service never came back"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(status) => panic!("{status}"),
        }
    }
    let stored = drain(&mut directory, &mut inbox, &bob).await;
    assert_eq!(stored, vec![envelope(0, 1), envelope(0, 5)]);
    relay.stop().await;
}
