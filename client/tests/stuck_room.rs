//! A member who sends a commit nobody can process (garbage under a valid access key, which
//! the relay cannot tell from a real commit) moves the group to an epoch the others cannot
//! follow. They are told, once, with an alert, instead of a line in a log, and a member
//! starts the room again without the culprit, who then reads nothing of it.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{h, registered, to};
use parley_client::{Alert, Client};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, group_transcript, GroupMethod};
use parley_crypto::padding;
use parley_proto::v1::{CommitRequest, GroupAuth};
use parley_testkit::{now_ms, TestRelay};
use rand::rngs::OsRng;
use rand::RngCore;
use tempfile::TempDir;

/// The texts `who`'s next sync brings.
async fn texts(who: &Client) -> Vec<String> {
    who.sync()
        .await
        .unwrap()
        .messages
        .iter()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect()
}

/// `who`'s alerts that say a conversation is stuck.
async fn stuck_alerts(who: &Client) -> Vec<String> {
    who.alerts()
        .await
        .unwrap()
        .into_iter()
        .filter_map(|alert| match alert {
            Alert::RoomStuck { conversation } => Some(conversation),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbage_commit_is_reported_once_as_a_stuck_room() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..3).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    let mallory = registered(&relay, homes[2].path(), "mallory").await;
    alice
        .create_group("summit", &[h("bob"), h("mallory")])
        .await
        .unwrap();
    alice
        .send_text(&to(&alice, "summit").await, "hello")
        .await
        .unwrap();
    bob.sync().await.unwrap();
    mallory.sync().await.unwrap();

    // Mallory commits garbage with the epoch's access key and a next key of her own.
    let (group_id, epoch, key) = mallory
        .group_access_for_tests(&to(&mallory, "alice/summit").await)
        .await
        .unwrap();
    let mut junk = vec![0u8; 300];
    OsRng.fill_bytes(&mut junk);
    let message = padding::pad(&junk, 0).unwrap();
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let next = AccessKey::from_exporter_secret(&secret)
        .public_key()
        .to_bytes();
    let digest = body::commit(&message, &next);
    let timestamp_ms = now_ms();
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let transcript = group_transcript(
        GroupMethod::Commit,
        &group_id,
        epoch,
        timestamp_ms,
        &nonce,
        &digest,
    );
    relay
        .groups()
        .await
        .commit(CommitRequest {
            group_id: group_id.to_vec(),
            epoch,
            message,
            next_access_key: next.to_vec(),
            auth: Some(GroupAuth {
                timestamp_ms,
                nonce: nonce.to_vec(),
                signature: key.sign(&transcript).to_vec(),
            }),
        })
        .await
        .expect("the relay cannot tell garbage from a commit");

    // Each of the others is told once, however often they sync.
    for _ in 0..3 {
        alice.sync().await.unwrap();
        bob.sync().await.unwrap();
    }
    assert_eq!(stuck_alerts(&alice).await, ["summit"]);
    assert_eq!(stuck_alerts(&bob).await, ["alice/summit"]);
    // And sending there fails rather than vanishing.
    assert!(alice
        .send_text(&to(&alice, "summit").await, "anyone?")
        .await
        .is_err());

    // Removing her is no way out: the room cannot take another change...
    assert!(alice
        .remove_member(&to(&alice, "summit").await, &h("mallory"))
        .await
        .is_err());
    // ...starting it again without her is.
    let fresh = alice
        .recreate_group(&to(&alice, "summit").await, &[h("mallory")])
        .await
        .unwrap();
    assert_eq!(
        to(&alice, "summit").await,
        fresh,
        "the name now means the new room"
    );
    let names: Vec<String> = alice
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    assert!(names.contains(&"summit (old)".to_owned()), "{names:?}");
    alice
        .send_text(&fresh, "resuming without her")
        .await
        .unwrap();
    assert_eq!(
        texts(&bob).await,
        [
            "alice started this group again to replace \"summit\", which could not go on, \
             without mallory.",
            "resuming without her"
        ]
    );
    let members: Vec<String> = bob
        .members(&to(&bob, "alice/summit (2)").await)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.handle.to_string())
        .collect();
    assert_eq!(members, ["alice", "bob"]);
    let heard = texts(&mallory).await;
    assert!(heard.is_empty(), "{heard:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_recreated_only_without_its_members_and_never_from_a_1to1() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..2).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let _bob = registered(&relay, homes[1].path(), "bob").await;
    alice.create_group("summit", &[h("bob")]).await.unwrap();
    let err = alice
        .recreate_group(&to(&alice, "summit").await, &[h("carol")])
        .await
        .unwrap_err();
    assert!(
        matches!(err, parley_client::ClientError::NotAMember(ref who) if who == "carol"),
        "{err:?}"
    );
    alice
        .send_text(&to(&alice, "bob").await, "hi")
        .await
        .unwrap();
    let err = alice
        .recreate_group(&to(&alice, "bob").await, &[])
        .await
        .unwrap_err();
    assert!(
        matches!(err, parley_client::ClientError::NotAGroup(_)),
        "{err:?}"
    );
}
