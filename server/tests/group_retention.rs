//! A group's agreed retention at the relay: set by a request signed with the group's
//! current access key (the relay learns a duration, not who set it), enforced by the
//! sweeper even when the relay keeps everything else, refused from an epoch a removed
//! member could still hold, and leaving no trace in the database once swept and compacted.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod limits_support;

use std::time::{Duration, Instant};

use common::groups::{commit, create, frame, post, read, set_retention};
use common::{access_key, random};
use limits_support::{generous, CALM};
use parley_proto::v1::groups_client::GroupsClient;
use parley_relay::LimitsConfig;
use parley_testkit::{ManualClock, TestRelay};
use tonic::Code;

fn code<T>(result: Result<T, tonic::Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// A relay that keeps everything of its own accord and sweeps every second.
fn relay_keeping_all(clock: &ManualClock, dir: Option<&std::path::Path>) -> TestRelay {
    let builder = TestRelay::builder()
        .plaintext()
        .clock(clock.clone())
        .limits(LimitsConfig {
            retention_secs: 0,
            sweep_interval_secs: 1,
            ..generous()
        });
    match dir {
        Some(dir) => builder.data_dir(dir).start(),
        None => builder.start(),
    }
}

#[tokio::test]
async fn a_group_retention_deletes_its_old_entries_and_nothing_else() {
    let clock = ManualClock::new();
    let dir = tempfile::tempdir().unwrap();
    let mut relay = relay_keeping_all(&clock, Some(dir.path()));
    let mut groups = GroupsClient::new(relay.channel_from(CALM).await);
    let (short, long) = (random::<32>(), random::<32>());
    let (short_key, long_key) = (access_key(), access_key());
    create(&mut groups, &short, &short_key).await;
    create(&mut groups, &long, &long_key).await;
    let expired = frame("an entry past the group's retention");
    post(&mut groups, &short, 0, &short_key, &expired)
        .await
        .unwrap();
    post(
        &mut groups,
        &long,
        0,
        &long_key,
        &frame("a group without retention"),
    )
    .await
    .unwrap();
    set_retention(&mut groups, &short, 0, &short_key, 60)
        .await
        .unwrap();

    clock.advance(Duration::from_secs(61));
    let kept = frame("posted after the clock moved");
    post(&mut groups, &short, 0, &short_key, &kept)
        .await
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let entries = read(&mut groups, &short, 0, &short_key, 0)
            .await
            .unwrap()
            .entries;
        if entries.len() == 1 {
            assert_eq!(entries[0].message, kept);
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the group's old entry was never swept"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(
        read(&mut groups, &long, 0, &long_key, 0)
            .await
            .unwrap()
            .entries
            .len(),
        1,
        "another group keeps its entries"
    );
    relay.stop().await;

    // Swept and compacted, the ciphertext is nowhere in the relay's files.
    parley_relay::compact(dir.path()).unwrap();
    let mut found = Vec::new();
    for file in walk(dir.path()) {
        let bytes = std::fs::read(&file).unwrap();
        if bytes.windows(expired.len()).any(|w| w == expired) {
            found.push(file);
        }
    }
    assert!(found.is_empty(), "expired entry still in {found:?}");
}

#[tokio::test]
async fn only_the_current_epochs_key_sets_a_retention_in_range() {
    let clock = ManualClock::new();
    let mut relay = relay_keeping_all(&clock, None);
    let mut groups = GroupsClient::new(relay.channel_from(CALM).await);
    let group = random::<32>();
    let (epoch0, epoch1) = (access_key(), access_key());
    create(&mut groups, &group, &epoch0).await;
    for bad in [1, 59, 316_224_001, u64::MAX] {
        assert_eq!(
            code(set_retention(&mut groups, &group, 0, &epoch0, bad).await),
            Code::InvalidArgument,
            "{bad}"
        );
    }
    assert_eq!(
        code(set_retention(&mut groups, &group, 0, &access_key(), 3600).await),
        Code::PermissionDenied
    );
    assert_eq!(
        code(set_retention(&mut groups, &random::<32>(), 0, &epoch0, 3600).await),
        Code::PermissionDenied,
        "an unknown group answers like a wrong key"
    );
    commit(&mut groups, &group, 0, &epoch0, &frame("commit"), &epoch1)
        .await
        .unwrap();
    // A member removed by that commit still holds the key of epoch 0.
    assert_eq!(
        code(set_retention(&mut groups, &group, 0, &epoch0, 60).await),
        Code::FailedPrecondition
    );
    set_retention(&mut groups, &group, 1, &epoch1, 60)
        .await
        .unwrap();
    set_retention(&mut groups, &group, 1, &epoch1, 0)
        .await
        .unwrap();
    relay.stop().await;
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
