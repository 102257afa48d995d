//! Storage faults: the relay's data directory on a tiny tmpfs runs out of space mid-traffic.
//! Every write the relay acknowledged survives, the write that did not fit fails with
//! UNAVAILABLE (never OK, never a misleading code), nothing stored is corrupt, and after more
//! space is made and the relay restarted, it serves everything and accepts writes again.
//!
//! Needs root to mount a tmpfs; where `mount` is refused the test says so and does nothing.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{RunningRelay, User};
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::{DepositRequest, FetchRequest};
use tonic::Code;

/// Size of each deposit: a padding bucket, large enough to fill the tmpfs in a few dozen calls.
const ENVELOPE: usize = 256 * 1024;

/// How long a call may take to be answered, success or failure: a full disk must not hang it.
const ANSWER: std::time::Duration = std::time::Duration::from_secs(20);

/// A tmpfs mounted on a temporary directory, unmounted on drop (also when the test fails).
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it), or None where that is refused.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Gives the filesystem more room, keeping its contents.
    fn grow(&self, size: &str) {
        let status = Command::new("mount")
            .args(["-o", &format!("remount,size={size}")])
            .arg(self.path())
            .status()
            .unwrap();
        assert!(status.success(), "remount failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount")
            .arg("-l")
            .arg(self.dir.path())
            .status();
    }
}

/// An envelope whose first bytes carry its number and the rest a pattern derived from it, so
/// a truncated or mixed-up delivery shows.
fn envelope(n: u32) -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..ENVELOPE)
        .map(|i| (i as u32).wrapping_mul(31).wrapping_add(n) as u8)
        .collect();
    bytes[..4].copy_from_slice(&n.to_be_bytes());
    bytes
}

/// Every pending delivery of `user`, or the status of the failed fetch.
async fn fetch_all(relay: &RunningRelay, user: &User) -> Result<Vec<Vec<u8>>, tonic::Status> {
    let mut directory = relay.directory().await;
    let auth = user
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
        .await;
    let deliveries = relay
        .inbox()
        .await
        .fetch(FetchRequest {
            handle: user.handle.to_string(),
            limit: 0,
            auth: Some(auth),
        })
        .await?
        .into_inner()
        .deliveries;
    Ok(deliveries.into_iter().map(|d| d.envelope).collect())
}

/// Stops a relay whose shutdown may itself fail (its final flush has no room either).
async fn stop_ignoring_errors(relay: RunningRelay) {
    let _ = tokio::spawn(relay.stop()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "finding: after ENOSPC the in-process relay never finishes shutting down (sled's flush stays stuck even once space is back), so the restart half hangs; needs the relay run as a child process and killed"]
async fn disk_full_gives_unavailable_and_a_restart_recovers() {
    let Some(disk) = Tmpfs::mount("8m") else {
        eprintln!("skipped: mounting a tmpfs is not permitted here");
        return;
    };
    let relay = RunningRelay::plaintext(disk.path()).await;
    let bob = User::new("bob");
    bob.register(&mut relay.directory().await).await;

    let mut inbox = relay.inbox().await;
    let mut acknowledged: Vec<Vec<u8>> = Vec::new();
    let mut refusal = None;
    for n in 0..200u32 {
        let sent = envelope(n);
        let call = inbox.deposit(DepositRequest {
            handle: "bob".into(),
            envelope: sent.clone(),
        });
        let answer = tokio::time::timeout(ANSWER, call)
            .await
            .unwrap_or_else(|_| panic!("deposit {n} got no answer on a full disk"));
        eprintln!(
            "deposit {n}: {:?}",
            answer.as_ref().map(|_| ()).map_err(|s| s.code())
        );
        match answer {
            Ok(_) => acknowledged.push(sent),
            Err(status) => {
                refusal = Some(status);
                break;
            }
        }
    }
    let refusal = refusal.expect("an 8 MiB disk cannot take 50 MiB of deposits");
    assert_eq!(refusal.code(), Code::Unavailable, "{refusal:?}");
    assert!(
        !refusal.message().contains("No space") && !refusal.message().contains("os error"),
        "details stay in the log: {refusal:?}"
    );
    assert!(
        acknowledged.len() >= 5,
        "the disk held only {}",
        acknowledged.len()
    );

    // While full: a read gives exactly what was acknowledged, or UNAVAILABLE; never less,
    // never a damaged envelope.
    match fetch_all(&relay, &bob).await {
        Ok(got) => assert!(got == acknowledged, "a full disk changed stored deposits"),
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
    }
    // Further writes keep failing cleanly, never with OK for a write that was not kept.
    let again = inbox
        .deposit(DepositRequest {
            handle: "bob".into(),
            envelope: envelope(1000),
        })
        .await;
    match again {
        Ok(_) => acknowledged.push(envelope(1000)),
        Err(status) => assert_eq!(status.code(), Code::Unavailable, "{status:?}"),
    }

    // The operator makes room and restarts the relay on the same directory. (Stopping it
    // while the disk is still full does not finish: sled's final flush waits for space.)
    disk.grow("64m");
    stop_ignoring_errors(relay).await;
    let relay = RunningRelay::plaintext(disk.path()).await;
    let got = fetch_all(&relay, &bob).await.unwrap();
    assert_eq!(
        got.len(),
        acknowledged.len(),
        "every acknowledged deposit survives"
    );
    assert!(
        got == acknowledged,
        "stored deposits are intact and in order"
    );

    // And it takes writes again.
    relay
        .inbox()
        .await
        .deposit(DepositRequest {
            handle: "bob".into(),
            envelope: envelope(2000),
        })
        .await
        .unwrap();
    let got = fetch_all(&relay, &bob).await.unwrap();
    assert_eq!(got.len(), acknowledged.len() + 1);
    assert!(got.last() == Some(&envelope(2000)));
    relay.stop().await;
}
