//! Old keys see nothing new, from a client's side: a member removed from a group keeps the
//! relay access key of the epoch it was removed in (its client stored it), and with it
//! learns nothing of what the group does after the removal, neither by subscribing nor by
//! reading; the members who stay have their subscriptions ended at each new epoch and
//! opened again, without an error and without missing a push.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{h, registered, to};
use futures::{Stream, StreamExt};
use parley_client::{ClientError, Event, MessageBody};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, group_transcript, GroupMethod};
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::{GroupAuth, GroupSubscription, ReadRequest, SubscribeGroupsRequest};
use parley_testkit::{now_ms, TestRelay};
use rand::rngs::OsRng;
use rand::RngCore;
use tempfile::TempDir;
use tonic::transport::Channel;

/// How long a push or the end of a stream may take.
const PATIENCE: Duration = Duration::from_secs(20);

/// A group request's auth, signed now with `key` as the epoch `epoch`'s key.
fn auth(
    key: &AccessKey,
    method: GroupMethod,
    group_id: &[u8; 32],
    epoch: u64,
    digest: [u8; 32],
) -> GroupAuth {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let timestamp_ms = now_ms();
    let transcript = group_transcript(method, group_id, epoch, timestamp_ms, &nonce, &digest);
    GroupAuth {
        timestamp_ms,
        nonce: nonce.to_vec(),
        signature: key.sign(&transcript).to_vec(),
    }
}

async fn read(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    from_seq: u64,
) -> Result<parley_proto::v1::ReadResponse, tonic::Status> {
    groups
        .read(ReadRequest {
            group_id: group_id.to_vec(),
            epoch,
            from_seq,
            limit: 0,
            auth: Some(auth(
                key,
                GroupMethod::Read,
                group_id,
                epoch,
                body::read(from_seq, 0),
            )),
        })
        .await
        .map(|r| r.into_inner())
}

/// The events of `stream` over `window`, or until one satisfies `until` (then included).
async fn events_for<S>(
    stream: &mut S,
    window: Duration,
    until: impl Fn(&Event) -> bool,
) -> Vec<Result<Event, ClientError>>
where
    S: Stream<Item = Result<Event, ClientError>> + Unpin,
{
    let deadline = tokio::time::Instant::now() + window;
    let mut seen = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout_at(deadline, stream.next()).await {
        let done = event.as_ref().is_ok_and(&until);
        seen.push(event);
        if done {
            break;
        }
    }
    seen
}

/// The texts among `events`, failing on any error event.
fn texts(events: &[Result<Event, ClientError>]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Err(error) => panic!("the event stream reported an error: {error}"),
            Ok(Event::Message(m)) => m.text().map(str::to_owned),
            Ok(_) => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_removed_member_learns_nothing_sent_after_the_removal() {
    let relay = TestRelay::start();
    let dirs: Vec<TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = registered(&relay, dirs[0].path(), "alice").await;
    let bob = registered(&relay, dirs[1].path(), "bob").await;
    let carol = registered(&relay, dirs[2].path(), "carol").await;
    registered(&relay, dirs[3].path(), "dave").await;

    alice
        .create_group("team", &[h("bob"), h("carol")])
        .await
        .unwrap();
    let team = to(&alice, "team").await;
    alice.send_text(&team, "before").await.unwrap();
    for member in [&bob, &carol] {
        let seen: Vec<String> = member
            .sync()
            .await
            .unwrap()
            .written()
            .filter_map(|m| m.text().map(str::to_owned))
            .collect();
        assert_eq!(seen, ["before"]);
    }

    // What carol's client holds of the group while she is a member: her epoch's key.
    let carol_team = to(&carol, "alice/team").await;
    let (group_id, epoch, key) = carol.group_access_for_tests(&carol_team).await.unwrap();
    // Both clients listen; their subscriptions are made with the keys of this epoch.
    let mut bob_events = bob.events();
    let mut carol_events = carol.events();

    alice.remove_member(&team, &h("carol")).await.unwrap();
    alice.send_text(&team, "after one").await.unwrap();
    alice.add_member(&team, &h("dave")).await.unwrap();
    alice.send_text(&team, "after two").await.unwrap();

    // Bob's subscription ended with each epoch and was made again: every message is
    // pushed to him, and no error is shown.
    let bob_saw = events_for(
        &mut bob_events,
        PATIENCE,
        |e| matches!(e, Event::Message(m) if m.text() == Some("after two")),
    )
    .await;
    assert_eq!(texts(&bob_saw), ["after one", "after two"], "{bob_saw:?}");

    // Carol's client hears of her removal, of nothing after it, and shows no error.
    let carol_saw = events_for(&mut carol_events, Duration::from_secs(3), |_| false).await;
    assert!(texts(&carol_saw).is_empty(), "{carol_saw:?}");
    assert!(
        carol_saw.iter().any(|e| matches!(
            e,
            Ok(Event::Message(m)) if matches!(
                &m.body,
                MessageBody::MembershipChanged { removed, .. } if removed == &[h("carol")]
            )
        )),
        "{carol_saw:?}"
    );
    assert!(carol.sync().await.unwrap().is_empty());

    // Carol's stored key, used directly at the relay.
    let mut groups = GroupsClient::new(relay.channel().await);
    // Reading: her epoch, ending with the commit that removed her, and no position beyond.
    let page = read(&mut groups, &group_id, epoch, &key, 0).await.unwrap();
    assert!(page.entries.iter().all(|e| e.epoch == epoch));
    let removal = page.entries.last().unwrap();
    assert!(removal.commit);
    assert_eq!(
        (page.current_epoch, page.next_seq),
        (epoch + 1, removal.seq + 1)
    );
    let beyond = read(&mut groups, &group_id, epoch, &key, removal.seq + 1)
        .await
        .unwrap();
    assert!(beyond.entries.is_empty());
    assert_eq!(
        (beyond.current_epoch, beyond.next_seq),
        (epoch + 1, removal.seq + 1)
    );
    // The next epochs are refused exactly as a group that does not exist.
    let mut unknown_id = [0u8; 32];
    OsRng.fill_bytes(&mut unknown_id);
    let unknown = read(&mut groups, &unknown_id, epoch, &key, 0)
        .await
        .unwrap_err();
    for later in [epoch + 1, epoch + 2] {
        let refused = read(&mut groups, &group_id, later, &key, 0)
            .await
            .unwrap_err();
        assert_eq!(
            (refused.code(), refused.message()),
            (unknown.code(), unknown.message())
        );
    }
    // Subscribing: at most the commit that removed her, then the end.
    let mut stream = groups
        .subscribe(SubscribeGroupsRequest {
            groups: vec![GroupSubscription {
                group_id: group_id.to_vec(),
                epoch,
                auth: Some(auth(
                    &key,
                    GroupMethod::Subscribe,
                    &group_id,
                    epoch,
                    body::empty(),
                )),
            }],
        })
        .await
        .unwrap()
        .into_inner();
    let mut heard = Vec::new();
    loop {
        match tokio::time::timeout(PATIENCE, stream.message()).await {
            Err(_) => panic!("the old key's stream did not end; heard {heard:?}"),
            Ok(Ok(Some(notice))) => heard.push(notice.seq),
            Ok(Ok(None)) => break,
            Ok(Err(status)) => panic!("{status:?}"),
        }
    }
    assert!(
        heard.iter().all(|seq| *seq <= removal.seq),
        "{heard:?} after {}",
        removal.seq
    );
}
