//! Crash safety of group logs: the real `parley-relay` binary, under concurrent posts and
//! commits to several groups, is killed with SIGKILL at a random moment and restarted on the
//! same data directory, again and again. After every restart each group's log must read as
//! one unbroken sequence: every post and commit whose RPC returned OK at its sequence number
//! and epoch, intact; nothing nobody sent; every epoch closed by a commit and the next one
//! starting right after it; and nothing beyond the position the relay reports (a post cut
//! short by the kill must be gone, not readable).
//!
//! 20 cycles by default; `PARLEY_CRASH_CYCLES=100 cargo test -p parley-relay --test
//! crash_groups` runs more.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::groups::{commit, create, frame, post, read};
use common::process::{crash_cycles, RelayProcess};
use common::random;
use parley_crypto::access::AccessKey;
use parley_proto::v1::groups_client::GroupsClient;
use tonic::transport::Channel;
use tonic::Code;

/// Groups the load is spread over.
const GROUPS: usize = 3;
/// Concurrent posting tasks per group, each on its own connection; the first also commits.
const WRITERS_PER_GROUP: usize = 3;
/// The first writer of a group commits every this many of its calls.
const COMMIT_EVERY: u64 = 6;

/// The groups of one test: ids, and the secret every epoch's access key derives from (so
/// every writer, and the verifier, can sign at any epoch).
struct Groups {
    ids: Vec<[u8; 32]>,
    salt: [u8; 32],
}

impl Groups {
    fn key(&self, group: usize, epoch: u64) -> AccessKey {
        let mut secret = self.salt;
        secret[..8].copy_from_slice(&epoch.to_be_bytes());
        secret[8] = u8::try_from(group).unwrap();
        AccessKey::from_exporter_secret(&secret)
    }
}

/// A call the relay answered OK: where it said the entry went.
struct Acknowledged {
    group: usize,
    epoch: u64,
    seq: u64,
    commit: bool,
    message: Vec<u8>,
}

/// Calls of one run: every message attempted (whose outcome may be unknown) and those the
/// relay acknowledged.
#[derive(Default)]
struct Ledger {
    attempted: HashSet<Vec<u8>>,
    acknowledged: Vec<Acknowledged>,
}

/// Posts (and, for writer 0, commits) to `group` until the relay is killed, following the
/// group's epoch as commits move it.
#[allow(clippy::too_many_arguments)]
async fn post_until_killed(
    channel: Channel,
    groups: Arc<Groups>,
    group: usize,
    mut epoch: u64,
    ledger: Arc<Mutex<Ledger>>,
    killed: Arc<AtomicBool>,
    cycle: u32,
    writer: usize,
) {
    let mut client = GroupsClient::new(channel);
    let id = groups.ids[group];
    for n in 0u64.. {
        let message = frame(&format!(
            "cycle {cycle} group {group} writer {writer} call {n}"
        ));
        ledger.lock().unwrap().attempted.insert(message.clone());
        let key = groups.key(group, epoch);
        let is_commit = writer == 0 && n % COMMIT_EVERY == COMMIT_EVERY - 1;
        let result = if is_commit {
            let next = groups.key(group, epoch + 1);
            commit(&mut client, &id, epoch, &key, &message, &next).await
        } else {
            post(&mut client, &id, epoch, &key, &message).await
        };
        match result {
            Ok(seq) => {
                ledger.lock().unwrap().acknowledged.push(Acknowledged {
                    group,
                    epoch,
                    seq,
                    commit: is_commit,
                    message,
                });
                if is_commit {
                    epoch += 1;
                }
            }
            Err(_) if killed.load(Ordering::SeqCst) => return,
            // Another writer's commit moved the group on; epochs move one at a time.
            Err(status) if status.code() == Code::FailedPrecondition => epoch += 1,
            Err(status) if status.code() == Code::ResourceExhausted => {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            Err(status) => panic!("call failed before the kill: {status:?}"),
        }
    }
}

/// One entry as read back.
struct Found {
    epoch: u64,
    commit: bool,
    message: Vec<u8>,
}

/// Reads `group`'s whole log, checking that it is unbroken; returns its entries by sequence
/// number and its current epoch.
async fn read_log(
    client: &mut GroupsClient<Channel>,
    groups: &Groups,
    group: usize,
    cycle: u32,
) -> (HashMap<u64, Found>, u64) {
    let id = groups.ids[group];
    let mut log = HashMap::new();
    let (mut epoch, mut from) = (0u64, 0u64);
    loop {
        let key = groups.key(group, epoch);
        let mut closed_by_commit = false;
        let response = loop {
            let response = read(client, &id, epoch, &key, from).await.unwrap();
            if response.entries.is_empty() {
                break response;
            }
            for entry in response.entries {
                assert_eq!(
                    entry.seq, from,
                    "cycle {cycle}: group {group} epoch {epoch}: a gap or reordering"
                );
                assert!(
                    !closed_by_commit,
                    "cycle {cycle}: group {group} epoch {epoch}: an entry after its commit"
                );
                assert_eq!(entry.epoch, epoch);
                closed_by_commit = entry.commit;
                log.insert(
                    entry.seq,
                    Found {
                        epoch,
                        commit: entry.commit,
                        message: entry.message,
                    },
                );
                from += 1;
            }
        };
        assert_eq!(
            response.next_seq, from,
            "cycle {cycle}: group {group} epoch {epoch}: the position is not right after the \
             last entry readable (a leftover of a post cut short, or a lost entry)"
        );
        if response.current_epoch == epoch {
            assert!(
                !closed_by_commit,
                "cycle {cycle}: a commit that did not move the group"
            );
            return (log, epoch);
        }
        assert_eq!(response.current_epoch, epoch + 1);
        assert!(
            closed_by_commit,
            "cycle {cycle}: group {group} left epoch {epoch} without its commit"
        );
        epoch += 1;
    }
}

/// Checks every group's log against the ledger of the last run and every message ever
/// `attempted`; returns the groups' current epochs.
async fn verify(
    relay: &RelayProcess,
    groups: &Groups,
    ledger: &Ledger,
    attempted: &HashSet<Vec<u8>>,
    cycle: u32,
) -> Vec<u64> {
    let mut client = GroupsClient::new(relay.channel().await);
    let mut epochs = Vec::new();
    let mut logs = Vec::new();
    for group in 0..GROUPS {
        let (log, epoch) = read_log(&mut client, groups, group, cycle).await;
        for found in log.values() {
            assert!(
                attempted.contains(&found.message),
                "cycle {cycle}: group {group} holds an entry nobody sent (or a corrupted one)"
            );
        }
        logs.push(log);
        epochs.push(epoch);
    }
    for acked in &ledger.acknowledged {
        let found = logs[acked.group].get(&acked.seq).unwrap_or_else(|| {
            panic!(
                "cycle {cycle}: group {}: acknowledged entry {} lost in the crash",
                acked.group, acked.seq
            )
        });
        assert!(
            found.message == acked.message && found.epoch == acked.epoch,
            "cycle {cycle}: group {}: entry {} is not what was acknowledged there",
            acked.group,
            acked.seq
        );
        assert_eq!(found.commit, acked.commit);
    }
    epochs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_group_posts_and_commits_survive_sigkill_under_load() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let log = dir.path().join("relay.log");
    let groups = Arc::new(Groups {
        ids: (0..GROUPS).map(|_| random::<32>()).collect(),
        salt: random::<32>(),
    });
    let mut relay = RelayProcess::start(&data, &log).await;
    {
        let mut client = GroupsClient::new(relay.channel().await);
        for (group, id) in groups.ids.iter().enumerate() {
            create(&mut client, id, &groups.key(group, 0)).await;
        }
    }
    let mut epochs = vec![0u64; GROUPS];
    // Every message ever attempted: what a log holds must be among them.
    let mut attempted = HashSet::new();
    let (mut acknowledged, mut commits) = (0usize, 0usize);
    let cycles = crash_cycles();
    for cycle in 0..cycles {
        let ledger = Arc::new(Mutex::new(Ledger::default()));
        let killed = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for (group, epoch) in epochs.iter().enumerate() {
            for writer in 0..WRITERS_PER_GROUP {
                writers.push(tokio::spawn(post_until_killed(
                    relay.channel().await,
                    groups.clone(),
                    group,
                    *epoch,
                    ledger.clone(),
                    killed.clone(),
                    cycle,
                    writer,
                )));
            }
        }
        relay = relay
            .kill_under_load_and_restart(writers, &killed, &data, &log)
            .await;
        let mut ledger = std::mem::take(&mut *ledger.lock().unwrap());
        attempted.extend(std::mem::take(&mut ledger.attempted));
        epochs = verify(&relay, &groups, &ledger, &attempted, cycle).await;
        acknowledged += ledger.acknowledged.len();
        commits += ledger.acknowledged.iter().filter(|a| a.commit).count();
    }
    println!(
        "{cycles} SIGKILL cycles, {acknowledged} acknowledged group entries ({commits} commits), \
         none lost; groups now at epochs {epochs:?}"
    );
    // A run where nothing succeeded would prove nothing.
    assert!(
        acknowledged >= cycles as usize && commits > 0,
        "only {acknowledged} entries ({commits} commits) succeeded in {cycles} cycles"
    );
    relay.kill();
}
