//! Old keys see nothing new: a request authenticated with the access key of a past epoch
//! learns nothing about the epochs after it (no entries, no notices, no position), a
//! subscription ends when its epoch closes, and a request that does not authenticate gets
//! one answer whether the group exists or not and whatever epoch it is at.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::groups::{
    commit, create, frame, post, read, subscribe, subscribed, subscription, Subscribed,
};
use common::{access_key, group_auth_at, random};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, GroupMethod};
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::{
    CommitRequest, GroupNotice, GroupSubscription, PostRequest, ReadRequest, ReadResponse,
    SubscribeGroupsRequest,
};
use parley_testkit::TestRelay;
use tonic::transport::Channel;
use tonic::{Code, Streaming};

/// How long a stream gets to deliver a notice or to end.
const PATIENCE: Duration = Duration::from_secs(10);

/// The notices a stream delivers until it ends; fails if it neither ends nor delivers within
/// [`PATIENCE`], or ends with an error.
async fn notices_until_end(stream: &mut Streaming<GroupNotice>) -> Vec<(Vec<u8>, u64)> {
    let mut seen = Vec::new();
    loop {
        match tokio::time::timeout(PATIENCE, stream.message()).await {
            Err(_) => panic!("the stream neither ended nor spoke; notices so far: {seen:?}"),
            Ok(Err(status)) => panic!("the stream failed instead of ending: {status:?}"),
            Ok(Ok(None)) => return seen,
            Ok(Ok(Some(notice))) => seen.push((notice.group_id, notice.seq)),
        }
    }
}

/// The next notice's sequence number; fails if none comes within [`PATIENCE`].
async fn next_seq(stream: &mut Streaming<GroupNotice>) -> u64 {
    tokio::time::timeout(PATIENCE, stream.message())
        .await
        .expect("no notice in time")
        .expect("the stream failed")
        .expect("the stream ended")
        .seq
}

/// A group moved through epochs 0, 1 and 2, with an entry in each epoch before its commit.
struct History {
    group_id: [u8; 32],
    keys: Vec<AccessKey>,
    /// Sequence numbers of the commits closing epochs 0 and 1.
    commits: Vec<u64>,
}

/// Creates a group and moves it to epoch 2: a post and a commit in epochs 0 and 1, then a
/// post in epoch 2.
async fn history(groups: &mut GroupsClient<Channel>) -> History {
    let group_id = random::<32>();
    let keys: Vec<AccessKey> = (0..3).map(|_| access_key()).collect();
    create(groups, &group_id, &keys[0]).await;
    let mut commits = Vec::new();
    for epoch in 0..2u64 {
        let i = usize::try_from(epoch).unwrap();
        post(groups, &group_id, epoch, &keys[i], &frame("talk"))
            .await
            .unwrap();
        let seq = commit(
            groups,
            &group_id,
            epoch,
            &keys[i],
            &frame("next epoch"),
            &keys[i + 1],
        )
        .await
        .unwrap();
        commits.push(seq);
    }
    post(groups, &group_id, 2, &keys[2], &frame("epoch 2 talk"))
        .await
        .unwrap();
    History {
        group_id,
        keys,
        commits,
    }
}

#[tokio::test]
async fn an_old_epoch_subscription_hears_nothing_of_later_epochs_and_ends() {
    let mut relay = TestRelay::plaintext();
    // Opened while epoch 0 is current: it hears epoch 0's entries, the commit closing it
    // included, then ends.
    let Subscribed {
        mut groups,
        group_id,
        keys,
        stream: mut old,
    } = subscribed(&relay, 3).await;
    let mut listener = relay.groups().await;
    let first = post(&mut groups, &group_id, 0, &keys[0], &frame("hello"))
        .await
        .unwrap();
    assert_eq!(next_seq(&mut old).await, first);
    let closing = commit(
        &mut groups,
        &group_id,
        0,
        &keys[0],
        &frame("to epoch 1"),
        &keys[1],
    )
    .await
    .unwrap();
    // Later epochs' activity, which the key of epoch 0 must not hear of.
    post(&mut groups, &group_id, 1, &keys[1], &frame("epoch 1"))
        .await
        .unwrap();
    commit(
        &mut groups,
        &group_id,
        1,
        &keys[1],
        &frame("to epoch 2"),
        &keys[2],
    )
    .await
    .unwrap();
    post(&mut groups, &group_id, 2, &keys[2], &frame("epoch 2"))
        .await
        .unwrap();
    assert_eq!(
        notices_until_end(&mut old).await,
        vec![(group_id.to_vec(), closing)],
        "only the commit that closed epoch 0, then the end"
    );

    // Opened with a key whose epoch is already over: at most the commit closing that epoch,
    // then the end.
    for (epoch, key) in keys.iter().enumerate().take(2) {
        let epoch = u64::try_from(epoch).unwrap();
        let mut stale = subscribe(&mut listener, vec![subscription(&group_id, epoch, key)])
            .await
            .unwrap();
        let heard = notices_until_end(&mut stale).await;
        let end_of_epoch = read(&mut groups, &group_id, epoch, key, 0)
            .await
            .unwrap()
            .entries
            .last()
            .unwrap()
            .seq;
        assert!(
            heard.iter().all(|(_, seq)| *seq <= end_of_epoch),
            "epoch {epoch}: {heard:?} goes past {end_of_epoch}"
        );
    }

    // The current epoch's key keeps its stream, alongside another group's, until the epoch
    // closes; then the whole stream ends, to be opened again with the new keys.
    let other = random::<32>();
    let other_key = access_key();
    create(&mut groups, &other, &other_key).await;
    let mut current = subscribe(
        &mut listener,
        vec![
            subscription(&group_id, 2, &keys[2]),
            subscription(&other, 0, &other_key),
        ],
    )
    .await
    .unwrap();
    let seq = post(&mut groups, &other, 0, &other_key, &frame("other"))
        .await
        .unwrap();
    assert_eq!(next_seq(&mut current).await, seq);
    let seq = post(&mut groups, &group_id, 2, &keys[2], &frame("still 2"))
        .await
        .unwrap();
    assert_eq!(next_seq(&mut current).await, seq);
    let closing = commit(
        &mut groups,
        &group_id,
        2,
        &keys[2],
        &frame("to epoch 3"),
        &access_key(),
    )
    .await
    .unwrap();
    assert_eq!(
        notices_until_end(&mut current).await,
        vec![(group_id.to_vec(), closing)]
    );
    relay.stop().await;
}

#[tokio::test]
async fn an_old_epoch_read_returns_nothing_of_later_epochs() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let group_id = random::<32>();
    let keys: Vec<AccessKey> = (0..3).map(|_| access_key()).collect();
    create(&mut groups, &group_id, &keys[0]).await;

    // While epoch 0 is current, its key sees where the log stands.
    let talk = post(&mut groups, &group_id, 0, &keys[0], &frame("talk"))
        .await
        .unwrap();
    let open = read(&mut groups, &group_id, 0, &keys[0], 0).await.unwrap();
    assert_eq!((open.current_epoch, open.next_seq), (0, talk + 1));

    // A lagging member holding key 0 reads epoch 0 up to the commit that closes it, and
    // learns that epoch 1 follows (which that commit says anyway).
    let closing = commit(
        &mut groups,
        &group_id,
        0,
        &keys[0],
        &frame("to epoch 1"),
        &keys[1],
    )
    .await
    .unwrap();
    let closed = read(&mut groups, &group_id, 0, &keys[0], 0).await.unwrap();
    let seqs: Vec<(u64, u64, bool)> = closed
        .entries
        .iter()
        .map(|e| (e.seq, e.epoch, e.commit))
        .collect();
    assert_eq!(seqs, vec![(talk, 0, false), (closing, 0, true)]);
    assert_eq!((closed.current_epoch, closed.next_seq), (1, closing + 1));

    // Whatever happens after, the answer to key 0 does not change by a bit.
    for epoch in 1..3u64 {
        let i = usize::try_from(epoch).unwrap();
        for _ in 0..3 {
            post(&mut groups, &group_id, epoch, &keys[i], &frame("later"))
                .await
                .unwrap();
        }
        if epoch == 1 {
            commit(
                &mut groups,
                &group_id,
                1,
                &keys[1],
                &frame("to epoch 2"),
                &keys[2],
            )
            .await
            .unwrap();
        }
    }
    let later = read(&mut groups, &group_id, 0, &keys[0], 0).await.unwrap();
    assert_eq!(later, closed, "key 0 learnt something of epochs 1 and 2");
    // Asking past the end of its epoch shows nothing either.
    let beyond = read(&mut groups, &group_id, 0, &keys[0], closing + 1)
        .await
        .unwrap();
    assert_eq!(
        beyond,
        ReadResponse {
            entries: Vec::new(),
            ..closed.clone()
        }
    );

    // The key of epoch 1 sees epoch 1, its commit, and that epoch 2 follows; epoch 2's key
    // sees the group as it is.
    let one = read(&mut groups, &group_id, 1, &keys[1], 0).await.unwrap();
    assert_eq!(one.entries.len(), 4);
    assert!(one.entries.iter().all(|e| e.epoch == 1));
    let one_end = one.entries.last().unwrap();
    assert!(one_end.commit);
    assert_eq!((one.current_epoch, one.next_seq), (2, one_end.seq + 1));
    let two = read(&mut groups, &group_id, 2, &keys[2], 0).await.unwrap();
    assert_eq!(two.entries.len(), 3);
    let two_end = two.entries.last().unwrap().seq;
    assert_eq!((two.current_epoch, two.next_seq), (2, two_end + 1));
    relay.stop().await;
}

/// What the relay answers to every group call made with `key` for `epoch` of `group_id`.
async fn answers(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    timestamp_ms: u64,
) -> Vec<(Code, String)> {
    let message = frame("hello?");
    let next = access_key().public_key().to_bytes();
    let auth = |method, digest| {
        Some(group_auth_at(
            key,
            method,
            group_id,
            epoch,
            digest,
            timestamp_ms,
        ))
    };
    let post = groups
        .post(PostRequest {
            group_id: group_id.to_vec(),
            epoch,
            message: message.clone(),
            auth: auth(GroupMethod::Post, body::post(&message)),
        })
        .await
        .map(|_| ());
    let commit = groups
        .commit(CommitRequest {
            group_id: group_id.to_vec(),
            epoch,
            message: message.clone(),
            next_access_key: next.to_vec(),
            auth: auth(GroupMethod::Commit, body::commit(&message, &next)),
        })
        .await
        .map(|_| ());
    let read = groups
        .read(ReadRequest {
            group_id: group_id.to_vec(),
            epoch,
            from_seq: 0,
            limit: 0,
            auth: auth(GroupMethod::Read, body::read(0, 0)),
        })
        .await
        .map(|_| ());
    let subscribe = groups
        .subscribe(SubscribeGroupsRequest {
            groups: vec![GroupSubscription {
                group_id: group_id.to_vec(),
                epoch,
                auth: auth(GroupMethod::Subscribe, body::empty()),
            }],
        })
        .await
        .map(|_| ());
    [post, commit, read, subscribe]
        .into_iter()
        .map(|answer| match answer {
            Ok(()) => (Code::Ok, String::new()),
            Err(status) => (status.code(), status.message().to_owned()),
        })
        .collect()
}

#[tokio::test]
async fn refusals_before_authentication_do_not_tell_whether_a_group_exists() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let known = history(&mut groups).await;
    let young = random::<32>();
    create(&mut groups, &young, &access_key()).await;
    let now = common::now_ms();

    let stranger = access_key();
    let cases: Vec<(&str, [u8; 32], u64, &AccessKey)> = vec![
        ("an unknown group", random::<32>(), 0, &stranger),
        (
            "an unknown group at a later epoch",
            random::<32>(),
            2,
            &stranger,
        ),
        ("a known group, a wrong key", known.group_id, 2, &stranger),
        ("a known group at epoch 0, a wrong key", young, 0, &stranger),
        (
            "a known group, a stale epoch, a wrong key",
            known.group_id,
            0,
            &stranger,
        ),
        (
            "a known group, an epoch not reached",
            known.group_id,
            7,
            &stranger,
        ),
        (
            "a known group, the current epoch signed with a past epoch's key",
            known.group_id,
            2,
            &known.keys[0],
        ),
        (
            "a known group, an epoch not reached signed with the current key",
            known.group_id,
            3,
            &known.keys[2],
        ),
    ];
    let mut seen = Vec::new();
    for (what, group_id, epoch, key) in &cases {
        let got = answers(&mut groups, group_id, *epoch, key, now).await;
        for (code, _) in &got {
            assert_eq!(*code, Code::PermissionDenied, "{what}: {got:?}");
        }
        seen.push((*what, got));
    }
    let (first_case, first) = &seen[0];
    for (what, got) in &seen {
        assert_eq!(got, first, "{what} is told apart from {first_case}");
    }

    // A timestamp out of range is refused before anything is looked up.
    let an_hour_ago = now - 3_600_000;
    let unknown = answers(&mut groups, &random::<32>(), 0, &stranger, an_hour_ago).await;
    let known_stale = answers(&mut groups, &known.group_id, 0, &known.keys[0], an_hour_ago).await;
    assert!(unknown
        .iter()
        .all(|(code, _)| *code == Code::Unauthenticated));
    assert_eq!(unknown, known_stale);

    // The commits of the history are where they were: nothing above was accepted.
    let page = read(&mut groups, &known.group_id, 2, &known.keys[2], 0)
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 1);
    assert!(known.commits[1] < page.entries[0].seq);
    // An authenticated request at a past epoch is another matter: its key may know that
    // the epoch is over.
    let err = post(
        &mut groups,
        &known.group_id,
        0,
        &known.keys[0],
        &frame("late"),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    relay.stop().await;
}
