//! A client whose subscriptions the relay refuses (its slots taken by others) still receives
//! messages through its event stream, by syncing on its timer: `parley chat` and
//! `read --follow` never go silent because someone else filled the relay's pools.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{registered, to};
use futures::StreamExt;
use parley_client::{Event, MessageBody};
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::SubscribeInboxRequest;
use parley_testkit::{LimitsConfig, TestRelay, TestUser};
use tempfile::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_arrive_while_every_subscription_slot_is_taken() {
    let relay = TestRelay::builder()
        .limits(LimitsConfig {
            max_subscriptions: 1,
            ..LimitsConfig::default()
        })
        .start();
    let homes = (TempDir::new().unwrap(), TempDir::new().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    let to_bob = to(&alice, "bob").await;
    alice.send_text(&to_bob, "first").await.unwrap();
    bob.sync().await.unwrap();

    // Someone takes the relay's only subscription slot and keeps it.
    let squatter = TestUser::new("squatter");
    let mut directory = relay.directory().await;
    squatter.register(&mut directory).await;
    let auth = squatter
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let _held = relay
        .inbox()
        .await
        .subscribe(SubscribeInboxRequest {
            handle: "squatter".into(),
            auth: Some(auth),
        })
        .await
        .unwrap();

    let mut events = bob.events();
    // Bob's subscription is refused, which the stream reports...
    let refused = tokio::time::timeout(Duration::from_secs(20), events.next())
        .await
        .unwrap()
        .unwrap();
    assert!(refused.is_err(), "{refused:?}");
    // ...and a message sent afterwards still reaches him through it.
    alice.send_text(&to_bob, "still there?").await.unwrap();
    let received = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(event) = events.next().await {
            if let Ok(Event::Message(message)) = event {
                if matches!(&message.body, MessageBody::Text(text) if text == "still there?") {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(received, Ok(true), "the message never came");
}
