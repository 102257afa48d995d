//! Crash safety: the real `parley-relay` binary, under concurrent deposits, is killed with
//! SIGKILL at a random moment and restarted on the same data directory, again and again.
//! After every restart each deposit whose RPC returned OK must be in its inbox, intact.
//!
//! 20 cycles by default; `PARLEY_CRASH_CYCLES=100 cargo test -p parley-relay --test crash`
//! runs more.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::{crash_cycles, RelayProcess};
use common::{drain, User};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::DepositRequest;
use rand::Rng;
use tonic::transport::Channel;
use tonic::Code;

/// Inboxes the load is spread over.
const USERS: usize = 4;
/// Concurrent depositing tasks, each on its own connection.
const WRITERS: usize = 8;
/// Envelope size; the first 16 bytes make each one unique.
const ENVELOPE_LEN: usize = 1024;

/// Deposits of one run, per inbox: attempted ones (whose outcome may be unknown) and those
/// the relay acknowledged with OK.
#[derive(Default)]
struct Ledger {
    attempted: HashMap<String, HashSet<Vec<u8>>>,
    acknowledged: HashMap<String, HashSet<Vec<u8>>>,
    /// Deposits refused with RESOURCE_EXHAUSTED (limits), for the summary.
    refused: u64,
}

/// An envelope no other deposit of this test uses.
fn envelope(cycle: u32, writer: u32, seq: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(ENVELOPE_LEN);
    out.extend_from_slice(&cycle.to_be_bytes());
    out.extend_from_slice(&writer.to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    let mut filler = [0u8; ENVELOPE_LEN - 16];
    rand::thread_rng().fill(&mut filler[..]);
    out.extend_from_slice(&filler);
    out
}

/// Deposits into random inboxes until the relay is killed; records every attempt and every
/// OK.
async fn write_until_killed(
    channel: Channel,
    handles: Arc<Vec<String>>,
    ledger: Arc<Mutex<Ledger>>,
    killed: Arc<AtomicBool>,
    cycle: u32,
    writer: u32,
) {
    let mut inbox = InboxClient::new(channel);
    for seq in 0u64.. {
        let handle = handles[rand::thread_rng().gen_range(0..handles.len())].clone();
        let envelope = envelope(cycle, writer, seq);
        ledger
            .lock()
            .unwrap()
            .attempted
            .entry(handle.clone())
            .or_default()
            .insert(envelope.clone());
        let mut request = tonic::Request::new(DepositRequest {
            handle: handle.clone(),
            envelope: envelope.clone(),
        });
        request.set_timeout(Duration::from_secs(10));
        match inbox.deposit(request).await {
            Ok(_) => {
                ledger
                    .lock()
                    .unwrap()
                    .acknowledged
                    .entry(handle)
                    .or_default()
                    .insert(envelope);
            }
            Err(_) if killed.load(Ordering::SeqCst) => return,
            Err(status) if status.code() == Code::ResourceExhausted => {
                ledger.lock().unwrap().refused += 1;
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(status) => panic!("deposit failed before the kill: {status:?}"),
        }
    }
}

/// Checks that every acknowledged deposit of the last run is back, intact and once, and that
/// nothing appeared that was never sent. Returns how many were acknowledged.
async fn verify(relay: &RelayProcess, users: &[User], ledger: &Ledger, cycle: u32) -> usize {
    let channel = relay.channel().await;
    let mut directory = DirectoryClient::new(channel.clone());
    let mut inbox = InboxClient::new(channel);
    let mut acknowledged = 0;
    for user in users {
        let handle = user.handle.as_str();
        let found = drain(&mut directory, &mut inbox, user).await;
        let found_set: HashSet<&Vec<u8>> = found.iter().collect();
        assert_eq!(
            found_set.len(),
            found.len(),
            "cycle {cycle}: a duplicate in {handle}"
        );
        let empty = HashSet::new();
        let attempted = ledger.attempted.get(handle).unwrap_or(&empty);
        for envelope in &found {
            assert!(
                attempted.contains(envelope),
                "cycle {cycle}: {handle} holds an envelope nobody sent (or a corrupted one)"
            );
        }
        let expected = ledger.acknowledged.get(handle).unwrap_or(&empty);
        let lost = expected.iter().filter(|e| !found_set.contains(e)).count();
        assert_eq!(
            lost,
            0,
            "cycle {cycle}: {lost} of {} acknowledged deposits to {handle} lost in the crash",
            expected.len()
        );
        acknowledged += expected.len();
    }
    acknowledged
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_deposits_survive_sigkill_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("relay.log");
    let users: Vec<User> = (0..USERS)
        .map(|i| User::new(&format!("crash{i}")))
        .collect();
    let handles: Arc<Vec<String>> =
        Arc::new(users.iter().map(|u| u.handle.as_str().to_owned()).collect());

    let relay = RelayProcess::start(&data, &log).await;
    let mut directory = DirectoryClient::new(relay.channel().await);
    for user in &users {
        user.register(&mut directory).await;
    }
    let mut relay = relay;
    let mut total_acknowledged = 0usize;
    let mut total_refused = 0u64;
    let cycles = crash_cycles();
    for cycle in 0..cycles {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let killed = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for writer in 0..WRITERS as u32 {
            writers.push(tokio::spawn(write_until_killed(
                relay.channel().await,
                handles.clone(),
                ledger.clone(),
                killed.clone(),
                cycle,
                writer,
            )));
        }
        relay = relay
            .kill_under_load_and_restart(writers, &killed, &data, &log)
            .await;
        let ledger = std::mem::take(&mut *ledger.lock().unwrap());
        total_refused += ledger.refused;
        let acknowledged = verify(&relay, &users, &ledger, cycle).await;
        total_acknowledged += acknowledged;
    }
    println!(
        "{cycles} SIGKILL cycles, {total_acknowledged} acknowledged deposits, none lost \
         ({total_refused} refused by limits)"
    );
    // A run where no deposit succeeded would prove nothing.
    assert!(
        total_acknowledged >= cycles as usize,
        "only {total_acknowledged} deposits succeeded in {cycles} cycles"
    );
    relay.kill();
}
