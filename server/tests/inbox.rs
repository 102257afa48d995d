//! Inbox: anonymous deposits, owner-only fetch/ack/subscribe.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::User;
use parley_crypto::auth::{body, OwnerMethod};
use parley_proto::v1::{AckRequest, Delivery, DepositRequest, FetchRequest, SubscribeInboxRequest};
use parley_testkit::TestRelay;
use tonic::Code;

#[tokio::test]
async fn deposit_fetch_ack_round_trip() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;

    for i in 1u8..=3 {
        inbox
            .deposit(DepositRequest {
                handle: "bob".into(),
                envelope: vec![i; 256],
            })
            .await
            .unwrap();
    }

    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
        .await;
    let deliveries = inbox
        .fetch(FetchRequest {
            handle: "bob".into(),
            limit: 0,
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(deliveries.len(), 3);
    let envelopes: Vec<u8> = deliveries.iter().map(|d| d.envelope[0]).collect();
    assert_eq!(envelopes, vec![1, 2, 3], "arrival order");
    assert!(deliveries.windows(2).all(|w| w[0].id < w[1].id));
    let now = common::now_ms();
    assert!(deliveries
        .iter()
        .all(|d| d.received_at_ms <= now && d.received_at_ms + 60_000 > now));

    // Acknowledge the first two; only the third remains.
    let ids = vec![deliveries[0].id, deliveries[1].id];
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::Ack, body::ack(&ids))
        .await;
    inbox
        .ack(AckRequest {
            handle: "bob".into(),
            ids,
            auth: Some(auth),
        })
        .await
        .unwrap();

    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(10))
        .await;
    let remaining = inbox
        .fetch(FetchRequest {
            handle: "bob".into(),
            limit: 10,
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(remaining.len(), 1);
    assert_eq!(remaining[0].id, deliveries[2].id);
    assert_eq!(remaining[0].envelope, vec![3; 256]);
    relay.stop().await;
}

#[tokio::test]
async fn fetch_needs_the_owner_and_an_unused_challenge() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let eve = User::new("eve");
    eve.register(&mut directory).await;
    inbox
        .deposit(DepositRequest {
            handle: "bob".into(),
            envelope: vec![1; 256],
        })
        .await
        .unwrap();

    let fetch = |auth| FetchRequest {
        handle: "bob".into(),
        limit: 5,
        auth: Some(auth),
    };

    // Eve signs a Fetch of bob's inbox with her own key: refused, and the challenge is spent.
    let challenge = common::challenge_for(&mut directory, "bob").await;
    let forged = eve.sign_owner(OwnerMethod::Fetch, challenge, body::fetch(5));
    let err = inbox.fetch(fetch(forged)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);
    let retry = bob.sign_owner(OwnerMethod::Fetch, challenge, body::fetch(5));
    let err = inbox.fetch(fetch(retry)).await.unwrap_err();
    assert_eq!(
        err.code(),
        Code::Unauthenticated,
        "challenge consumed by the failure"
    );

    // A valid auth for another method does not open Fetch.
    let wrong_method = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::fetch(5))
        .await;
    let err = inbox.fetch(fetch(wrong_method)).await.unwrap_err();
    assert_eq!(err.code(), Code::PermissionDenied);

    // A good auth works once; replaying it is refused.
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(5))
        .await;
    let got = inbox.fetch(fetch(auth.clone())).await.unwrap().into_inner();
    assert_eq!(got.deliveries.len(), 1);
    let err = inbox.fetch(fetch(auth)).await.unwrap_err();
    assert_eq!(err.code(), Code::Unauthenticated);

    // Deposits for unknown handles are refused.
    let err = inbox
        .deposit(DepositRequest {
            handle: "nobody".into(),
            envelope: vec![1; 256],
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound);
    relay.stop().await;
}

async fn next(stream: &mut tonic::Streaming<Delivery>) -> Delivery {
    tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("no delivery within 10 s")
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn subscribe_streams_pending_then_new_deliveries() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let deposit = |byte: u8| DepositRequest {
        handle: "bob".into(),
        envelope: vec![byte; 256],
    };
    inbox.deposit(deposit(1)).await.unwrap();
    inbox.deposit(deposit(2)).await.unwrap();

    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let mut stream = inbox
        .subscribe(SubscribeInboxRequest {
            handle: "bob".into(),
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner();
    let first = next(&mut stream).await;
    let second = next(&mut stream).await;
    assert_eq!((first.envelope[0], second.envelope[0]), (1, 2));

    // New deposits arrive on the open stream, in order.
    let mut depositor = relay.inbox().await;
    for byte in 3u8..=5 {
        depositor.deposit(deposit(byte)).await.unwrap();
    }
    for byte in 3u8..=5 {
        let delivery = next(&mut stream).await;
        assert_eq!(delivery.envelope[0], byte);
    }

    // Shutdown ends the stream instead of hanging the relay.
    relay.stop().await;
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("stream did not end at shutdown");
    assert!(!matches!(end, Ok(Some(_))));
}

#[tokio::test]
async fn concurrent_deposits_all_reach_a_subscriber_in_id_order() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let bob = User::new("bob");
    bob.register(&mut directory).await;
    let auth = bob
        .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
        .await;
    let mut stream = inbox
        .subscribe(SubscribeInboxRequest {
            handle: "bob".into(),
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner();

    let mut tasks = Vec::new();
    for i in 0u8..20 {
        let mut client = relay.inbox().await;
        tasks.push(tokio::spawn(async move {
            client
                .deposit(DepositRequest {
                    handle: "bob".into(),
                    envelope: vec![i; 256],
                })
                .await
                .unwrap();
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let mut ids = Vec::new();
    let mut bytes = std::collections::HashSet::new();
    for _ in 0..20 {
        let delivery = next(&mut stream).await;
        ids.push(delivery.id);
        bytes.insert(delivery.envelope[0]);
    }
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(bytes.len(), 20);
    relay.stop().await;
}
