//! Groups: create, post, read and commit with compare-and-swap, per-epoch access keys,
//! freshness and replay protection, and push notices.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::groups::{commit, create, frame, post, read};
use common::{access_key, group_auth, group_auth_at, random};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, GroupMethod};
use parley_proto::v1::{
    CreateGroupRequest, GroupSubscription, PostRequest, SubscribeGroupsRequest,
};
use parley_testkit::TestRelay;
use tonic::Code;

#[tokio::test]
async fn create_post_commit_read_with_compare_and_swap() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let group_id = random::<32>();
    let key0 = access_key();
    create(&mut groups, &group_id, &key0).await;

    // The same id again.
    let public = key0.public_key().to_bytes();
    let err = groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(group_auth(
                &key0,
                GroupMethod::Create,
                &group_id,
                0,
                body::create(&public),
            )),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::AlreadyExists);

    assert_eq!(
        post(&mut groups, &group_id, 0, &key0, &frame("m0"))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        post(&mut groups, &group_id, 0, &key0, &frame("m1"))
            .await
            .unwrap(),
        1
    );

    // Two members race to commit at epoch 0: exactly the first wins.
    let key1 = access_key();
    let key1_rival = access_key();
    assert_eq!(
        commit(&mut groups, &group_id, 0, &key0, &frame("c0"), &key1)
            .await
            .unwrap(),
        2
    );
    let err = commit(&mut groups, &group_id, 0, &key0, &frame("c0'"), &key1_rival)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);

    // Posting with the old epoch is refused; the new epoch works.
    let err = post(&mut groups, &group_id, 0, &key0, &frame("late"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::FailedPrecondition);
    // The loser's key for epoch 1 was never accepted.
    let err = post(&mut groups, &group_id, 1, &key1_rival, &frame("x"))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    assert_eq!(
        post(&mut groups, &group_id, 1, &key1, &frame("m3"))
            .await
            .unwrap(),
        3
    );

    // Epoch 0 holds the two posts and the commit, nothing of epoch 1.
    let page = read(&mut groups, &group_id, 0, &key0, 0).await.unwrap();
    let seen: Vec<(u64, u64, bool, Vec<u8>)> = page
        .entries
        .iter()
        .map(|e| (e.seq, e.epoch, e.commit, e.message.clone()))
        .collect();
    assert_eq!(
        seen,
        vec![
            (0, 0, false, frame("m0")),
            (1, 0, false, frame("m1")),
            (2, 0, true, frame("c0")),
        ]
    );
    // Where the log stands, as far as the key of epoch 0 may know: epoch 1 follows the
    // commit at 2; nothing of what epoch 1 holds.
    assert_eq!((page.current_epoch, page.next_seq), (1, 3));

    // from_seq skips earlier entries.
    let page = read(&mut groups, &group_id, 0, &key0, 2).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].seq, 2);

    // Epoch 1 with its key.
    let page = read(&mut groups, &group_id, 1, &key1, 0).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!((page.entries[0].seq, page.entries[0].epoch), (3, 1));

    // Reading epoch 1 with epoch 0's key (a removed member) is refused.
    let err = read(&mut groups, &group_id, 1, &key0, 0).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    // An epoch the group has not reached, and an unknown group: refused alike (see
    // old_keys.rs).
    let err = read(&mut groups, &group_id, 2, &key1, 0).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let err = read(&mut groups, &random::<32>(), 0, &key0, 0)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    relay.stop().await;
}

#[tokio::test]
async fn stale_and_replayed_auth_is_refused() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let group_id = random::<32>();
    let key0 = access_key();
    create(&mut groups, &group_id, &key0).await;

    let request = |auth| PostRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        message: frame("hello"),
        auth: Some(auth),
    };
    let auth = group_auth(
        &key0,
        GroupMethod::Post,
        &group_id,
        0,
        body::post(&frame("hello")),
    );
    groups.post(request(auth.clone())).await.unwrap();
    let err = groups.post(request(auth)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied, "replay");

    for skew in [-400_000i64, 400_000] {
        let at = common::now_ms().checked_add_signed(skew).unwrap();
        let auth = group_auth_at(
            &key0,
            GroupMethod::Post,
            &group_id,
            0,
            body::post(&frame("hello")),
            at,
        );
        let err = groups.post(request(auth)).await.unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated, "skew {skew}");
    }

    // Signed for a different message.
    let auth = group_auth(
        &key0,
        GroupMethod::Post,
        &group_id,
        0,
        body::post(&frame("other")),
    );
    let err = groups.post(request(auth)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Signed as a Read, sent as a Post.
    let auth = group_auth(
        &key0,
        GroupMethod::Read,
        &group_id,
        0,
        body::post(&frame("hello")),
    );
    let err = groups.post(request(auth)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // Only the first post was stored.
    let page = read(&mut groups, &group_id, 0, &key0, 0).await.unwrap();
    assert_eq!(page.entries.len(), 1);
    relay.stop().await;
}

#[tokio::test]
async fn subscribe_notifies_new_entries() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let (g1, g2, g3) = (random::<32>(), random::<32>(), random::<32>());
    let (k1, k2, k3) = (access_key(), access_key(), access_key());
    create(&mut groups, &g1, &k1).await;
    create(&mut groups, &g2, &k2).await;
    create(&mut groups, &g3, &k3).await;

    let sub = |group_id: &[u8; 32], key: &AccessKey| GroupSubscription {
        group_id: group_id.to_vec(),
        epoch: 0,
        auth: Some(group_auth(
            key,
            GroupMethod::Subscribe,
            group_id,
            0,
            body::empty(),
        )),
    };

    // A subscription with a key that is not the group's is refused as a whole.
    let err = groups
        .subscribe(SubscribeGroupsRequest {
            groups: vec![sub(&g1, &k1), sub(&g3, &k1)],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    let mut stream = groups
        .subscribe(SubscribeGroupsRequest {
            groups: vec![sub(&g1, &k1), sub(&g2, &k2)],
        })
        .await
        .unwrap()
        .into_inner();

    let mut poster = relay.groups().await;
    post(&mut poster, &g3, 0, &k3, &frame("not subscribed"))
        .await
        .unwrap();
    post(&mut poster, &g2, 0, &k2, &frame("a")).await.unwrap();
    let notice = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((notice.group_id.as_slice(), notice.seq), (&g2[..], 0));

    let next = access_key();
    commit(&mut poster, &g1, 0, &k1, &frame("c"), &next)
        .await
        .unwrap();
    let notice = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!((notice.group_id.as_slice(), notice.seq), (&g1[..], 0));
    // The commit closed the epoch the subscription was made at: the stream ends, for the
    // subscriber to come back with the next epoch's key.
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("stream did not end with its epoch");
    assert!(matches!(end, Ok(None)), "{end:?}");

    let mut stream = groups
        .subscribe(SubscribeGroupsRequest {
            groups: vec![sub(&g2, &k2)],
        })
        .await
        .unwrap()
        .into_inner();
    relay.stop().await;
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("stream did not end at shutdown");
    assert!(!matches!(end, Ok(Some(_))));
}

#[tokio::test]
async fn concurrent_commits_at_one_epoch_have_one_winner() {
    let mut relay = TestRelay::plaintext();
    let mut groups = relay.groups().await;
    let group_id = random::<32>();
    let key0 = std::sync::Arc::new(access_key());
    create(&mut groups, &group_id, &key0).await;

    let mut tasks = Vec::new();
    for i in 0u8..12 {
        let mut client = relay.groups().await;
        let key0 = key0.clone();
        tasks.push(tokio::spawn(async move {
            let next = access_key();
            let result = commit(&mut client, &group_id, 0, &key0, &[i; 256], &next).await;
            (result.map_err(|s| s.code()), next)
        }));
    }
    let mut winners = Vec::new();
    for task in tasks {
        let (result, next) = task.await.unwrap();
        match result {
            Ok(seq) => winners.push((seq, next)),
            Err(code) => assert_eq!(code, Code::FailedPrecondition),
        }
    }
    assert_eq!(winners.len(), 1, "exactly one commit wins epoch 0");
    let (seq, key1) = winners.pop().unwrap();
    assert_eq!(seq, 0);
    // The winner's next key is the one the relay installed for epoch 1.
    let page = read(&mut groups, &group_id, 1, &key1, 0).await.unwrap();
    assert!(page.entries.is_empty());
    assert_eq!((page.current_epoch, page.next_seq), (1, 1));
    relay.stop().await;
}
