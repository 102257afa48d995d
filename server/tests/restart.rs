//! Durability: everything a relay acknowledged survives a restart on the same directory.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::groups::frame;
use common::{access_key, group_auth, random, User};
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_proto::v1::{
    ClaimKeyPackageRequest, CreateGroupRequest, DepositRequest, FetchRequest, LookupRequest,
    PostRequest, PublishKeyPackagesRequest, ReadRequest, RegisterRequest,
};
use parley_testkit::TestRelay;
use tonic::Code;

#[tokio::test]
async fn data_survives_a_restart() {
    let alice = User::new("alice");
    let group_id = random::<32>();
    let key0 = access_key();
    let public0 = key0.public_key().to_bytes();
    let record = alice.record().to_bytes();

    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    directory
        .register(RegisterRequest {
            record: record.clone(),
        })
        .await
        .unwrap();
    let kps = vec![vec![1u8; 256], vec![2u8; 256]];
    let auth = alice
        .owner_auth(
            &mut directory,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(&kps, &[]),
        )
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            replace: false,
            handle: "alice".into(),
            key_packages: kps,
            last_resort: Vec::new(),
            auth: Some(auth),
        })
        .await
        .unwrap();
    // One of the two is claimed before the restart and must stay claimed.
    let first = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .key_package;
    let mut inbox = relay.inbox().await;
    inbox
        .deposit(DepositRequest {
            handle: "alice".into(),
            envelope: vec![9; 512],
        })
        .await
        .unwrap();
    let mut groups = relay.groups().await;
    groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public0.to_vec(),
            auth: Some(group_auth(
                &key0,
                GroupMethod::Create,
                &group_id,
                0,
                body::create(&public0),
            )),
        })
        .await
        .unwrap();
    groups
        .post(PostRequest {
            group_id: group_id.to_vec(),
            epoch: 0,
            message: frame("kept"),
            auth: Some(group_auth(
                &key0,
                GroupMethod::Post,
                &group_id,
                0,
                body::post(&frame("kept")),
            )),
        })
        .await
        .unwrap();
    relay.restart().await;
    let mut directory = relay.directory().await;
    let found = directory
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    assert_eq!(found, record);

    let second = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .key_package;
    assert_ne!(first, second);
    let err = directory
        .claim_key_package(ClaimKeyPackageRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::NotFound, "no KeyPackage handed out twice");

    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
        .await;
    let deliveries = relay
        .inbox()
        .await
        .fetch(FetchRequest {
            handle: "alice".into(),
            limit: 0,
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].envelope, vec![9; 512]);

    let page = relay
        .groups()
        .await
        .read(ReadRequest {
            group_id: group_id.to_vec(),
            epoch: 0,
            from_seq: 0,
            limit: 0,
            auth: Some(group_auth(
                &key0,
                GroupMethod::Read,
                &group_id,
                0,
                body::read(0, 0),
            )),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].message, frame("kept"));
    assert_eq!((page.current_epoch, page.next_seq), (0, 1));

    // Inbox ids keep increasing across restarts.
    let mut inbox = relay.inbox().await;
    inbox
        .deposit(DepositRequest {
            handle: "alice".into(),
            envelope: vec![10; 512],
        })
        .await
        .unwrap();
    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
        .await;
    let deliveries = inbox
        .fetch(FetchRequest {
            handle: "alice".into(),
            limit: 0,
            auth: Some(auth),
        })
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(deliveries.len(), 2);
    assert!(deliveries[0].id < deliveries[1].id);
    relay.stop().await;
}
