//! A group notice carries its entry when the entry is small: exactly what a Read with the
//! subscription's key would serve at that position, of the subscribed epoch only (the
//! commit closing it included), and nothing for an entry too large to push.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::groups::{commit, frame, post, read, subscribed, Subscribed};
use parley_crypto::access::AccessKey;
use parley_crypto::padding;
use parley_proto::v1::{Entry, GroupNotice};
use parley_testkit::TestRelay;
use tonic::Streaming;

/// How long a stream gets to deliver a notice.
const PATIENCE: Duration = Duration::from_secs(10);

/// The next notice; fails if none comes within [`PATIENCE`].
async fn next_notice(stream: &mut Streaming<GroupNotice>) -> GroupNotice {
    tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("no notice in time")
        .expect("the stream failed")
        .expect("the stream ended")
}

/// The entry a Read of `epoch` with `key` serves at `seq`.
async fn read_at(
    relay: &TestRelay,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    seq: u64,
) -> Entry {
    let mut groups = relay.groups().await;
    let page = read(&mut groups, group_id, epoch, key, seq).await.unwrap();
    page.entries.into_iter().next().expect("an entry at seq")
}

#[tokio::test]
async fn a_notice_carries_the_entry_a_read_would_serve_and_the_closing_commit() {
    let relay = TestRelay::plaintext();
    let Subscribed {
        mut groups,
        group_id,
        keys,
        mut stream,
    } = subscribed(&relay, 2).await;

    let seq = post(&mut groups, &group_id, 0, &keys[0], &frame("hello"))
        .await
        .unwrap();
    let notice = next_notice(&mut stream).await;
    assert_eq!(notice.seq, seq);
    let pushed = notice.entry.expect("a small entry is pushed");
    assert_eq!(pushed, read_at(&relay, &group_id, 0, &keys[0], seq).await);
    assert_eq!(pushed.message, frame("hello"));

    let closing = commit(
        &mut groups,
        &group_id,
        0,
        &keys[0],
        &frame("to 1"),
        &keys[1],
    )
    .await
    .unwrap();
    // A post of epoch 1 right after: the old key's stream must carry nothing of it.
    post(&mut groups, &group_id, 1, &keys[1], &frame("epoch 1"))
        .await
        .unwrap();
    let notice = next_notice(&mut stream).await;
    assert_eq!(notice.seq, closing);
    let pushed = notice.entry.expect("the closing commit is pushed");
    assert!(pushed.commit);
    assert_eq!(pushed.epoch, 0);
    assert_eq!(
        pushed,
        read_at(&relay, &group_id, 0, &keys[0], closing).await
    );
    let end = tokio::time::timeout(PATIENCE, stream.message())
        .await
        .unwrap();
    assert!(
        matches!(end, Ok(None)),
        "the stream ends after the commit: {end:?}"
    );
}

#[tokio::test]
async fn an_entry_too_large_to_push_is_named_only() {
    let relay = TestRelay::plaintext();
    let Subscribed {
        mut groups,
        group_id,
        keys,
        mut stream,
    } = subscribed(&relay, 1).await;
    let key = &keys[0];

    // The next padding bucket above 64 KiB.
    let large = padding::pad(&vec![b'x'; 70_000], 0).unwrap();
    assert!(large.len() > 65_536);
    let big = post(&mut groups, &group_id, 0, key, &large).await.unwrap();
    let notice = next_notice(&mut stream).await;
    assert_eq!((notice.seq, notice.entry), (big, None));

    // Exactly 64 KiB still travels with its notice.
    let edge = padding::pad(&vec![b'y'; 60_000], 0).unwrap();
    assert_eq!(edge.len(), 65_536);
    let seq = post(&mut groups, &group_id, 0, key, &edge).await.unwrap();
    let notice = next_notice(&mut stream).await;
    assert_eq!(notice.seq, seq);
    assert_eq!(notice.entry.map(|e| e.message), Some(edge));
}
