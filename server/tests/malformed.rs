//! Malformed input to every RPC (empty, truncated, oversized, bad signature, not protobuf at
//! all) gets a typed error, and the relay keeps serving afterwards.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::raw;
use common::{access_key, group_auth, random, User};
use parley_crypto::access::AccessPublicKey;
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_proto::v1::{
    AckRequest, ClaimKeyPackageRequest, CommitRequest, CreateGroupRequest, DepositRequest,
    FetchRequest, GroupAuth, GroupSubscription, LookupRequest, OwnerAuth, PostRequest,
    PublishKeyPackagesRequest, ReadRequest, RegisterRequest, SubscribeGroupsRequest,
    SubscribeInboxRequest,
};
use parley_testkit::TestRelay;
use prost::Message;
use tonic::{Code, Status};

const MIB: usize = 1 << 20;

fn code<T>(result: Result<T, Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// A 32-byte string that is not an Ed25519 point.
fn invalid_point() -> [u8; 32] {
    (0u8..=255)
        .map(|b| {
            let mut key = [0u8; 32];
            key[0] = b;
            key[1] = 0x42;
            key
        })
        .find(|key| AccessPublicKey::from_bytes(key).is_err())
        .unwrap()
}

fn bad_owner_auth(challenge: [u8; 32]) -> OwnerAuth {
    OwnerAuth {
        challenge: challenge.to_vec(),
        signature: random::<64>().to_vec(),
    }
}

fn short_owner_auth() -> OwnerAuth {
    OwnerAuth {
        challenge: vec![0; 31],
        signature: vec![0; 64],
    }
}

fn bad_group_auth() -> GroupAuth {
    GroupAuth {
        timestamp_ms: common::now_ms(),
        nonce: random::<16>().to_vec(),
        signature: random::<64>().to_vec(),
    }
}

#[tokio::test]
async fn every_rpc_refuses_malformed_input_and_the_relay_keeps_serving() {
    let mut relay = TestRelay::plaintext();
    let mut directory = relay.directory().await;
    let mut inbox = relay.inbox().await;
    let mut groups = relay.groups().await;
    let alice = User::new("alice");
    let record = alice.record().to_bytes();
    directory
        .register(RegisterRequest {
            record: record.clone(),
        })
        .await
        .unwrap();
    let group_id = random::<32>();
    let key0 = access_key();
    let public0 = key0.public_key().to_bytes();
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
    let invalid = Code::InvalidArgument;
    let denied = Code::PermissionDenied;

    // Directory.Register / Lookup / Claim.
    let register = |record: Vec<u8>| RegisterRequest { record };
    assert_eq!(
        code(directory.register(register(Vec::new())).await),
        invalid
    );
    assert_eq!(
        code(directory.register(register(record[..40].to_vec())).await),
        invalid
    );
    assert_eq!(
        code(directory.register(register(vec![1; MIB])).await),
        invalid
    );
    for handle in ["", "ab", "Alice", "-abc", &"a".repeat(33)] {
        let lookup = LookupRequest {
            handle: handle.into(),
        };
        assert_eq!(code(directory.lookup(lookup).await), invalid, "{handle:?}");
        let claim = ClaimKeyPackageRequest {
            handle: handle.into(),
        };
        assert_eq!(
            code(directory.claim_key_package(claim).await),
            invalid,
            "{handle:?}"
        );
    }

    // Directory.PublishKeyPackages.
    let publish = |key_packages: Vec<Vec<u8>>, last_resort: Vec<u8>, auth: Option<OwnerAuth>| {
        PublishKeyPackagesRequest {
            replace: false,
            handle: "alice".into(),
            key_packages,
            last_resort,
            auth,
        }
    };
    let fine = || Some(short_owner_auth());
    assert_eq!(
        code(
            directory
                .publish_key_packages(PublishKeyPackagesRequest::default())
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            directory
                .publish_key_packages(publish(vec![], vec![], None))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            directory
                .publish_key_packages(publish(vec![], vec![], fine()))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            directory
                .publish_key_packages(publish(vec![vec![1; 10]; 101], vec![], fine()))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            directory
                .publish_key_packages(publish(vec![vec![1; 16385]], vec![], fine()))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            directory
                .publish_key_packages(publish(vec![vec![]], vec![], fine()))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            directory
                .publish_key_packages(publish(vec![], vec![1; 16385], fine()))
                .await
        ),
        invalid
    );
    let challenge = common::challenge_for(&mut directory, "alice").await;
    let err = directory
        .publish_key_packages(publish(
            vec![vec![1; 256]],
            vec![],
            Some(bad_owner_auth(challenge)),
        ))
        .await
        .unwrap_err();
    assert_eq!(err.code(), denied);
    assert!(err.message().contains("signature"), "{}", err.message());

    // Inbox.Deposit / Fetch / Ack / Subscribe.
    let deposit = |envelope: Vec<u8>| DepositRequest {
        handle: "alice".into(),
        envelope,
    };
    assert_eq!(
        code(inbox.deposit(DepositRequest::default()).await),
        invalid
    );
    assert_eq!(code(inbox.deposit(deposit(Vec::new())).await), invalid);
    let err = inbox.deposit(deposit(vec![1; MIB + 1])).await.unwrap_err();
    assert_eq!(err.code(), invalid);
    assert!(err.message().starts_with("envelope"), "{}", err.message());
    inbox.deposit(deposit(vec![1; MIB])).await.unwrap();

    let fetch = |limit: u32, auth: Option<OwnerAuth>| FetchRequest {
        handle: "alice".into(),
        limit,
        auth,
    };
    assert_eq!(code(inbox.fetch(FetchRequest::default()).await), invalid);
    assert_eq!(code(inbox.fetch(fetch(0, None)).await), invalid);
    assert_eq!(code(inbox.fetch(fetch(501, fine())).await), invalid);
    assert_eq!(code(inbox.fetch(fetch(0, fine())).await), invalid);
    let challenge = common::challenge_for(&mut directory, "alice").await;
    assert_eq!(
        code(inbox.fetch(fetch(0, Some(bad_owner_auth(challenge)))).await),
        denied
    );

    let ack = |ids: Vec<u64>, auth: Option<OwnerAuth>| AckRequest {
        handle: "alice".into(),
        ids,
        auth,
    };
    assert_eq!(code(inbox.ack(AckRequest::default()).await), invalid);
    assert_eq!(code(inbox.ack(ack(vec![], fine())).await), invalid);
    assert_eq!(
        code(inbox.ack(ack((0..501).collect(), fine())).await),
        invalid
    );
    let challenge = common::challenge_for(&mut directory, "alice").await;
    assert_eq!(
        code(
            inbox
                .ack(ack(vec![1], Some(bad_owner_auth(challenge))))
                .await
        ),
        denied
    );

    assert_eq!(
        code(inbox.subscribe(SubscribeInboxRequest::default()).await),
        invalid
    );
    let sub = |auth| SubscribeInboxRequest {
        handle: "alice".into(),
        auth,
    };
    assert_eq!(code(inbox.subscribe(sub(None)).await), invalid);
    assert_eq!(code(inbox.subscribe(sub(fine())).await), invalid);
    let challenge = common::challenge_for(&mut directory, "alice").await;
    assert_eq!(
        code(inbox.subscribe(sub(Some(bad_owner_auth(challenge)))).await),
        denied
    );

    // Groups.Create.
    let short_nonce = GroupAuth {
        nonce: vec![0; 15],
        ..bad_group_auth()
    };
    let long_sig = GroupAuth {
        signature: vec![0; 65],
        ..bad_group_auth()
    };
    let create =
        |group_id: Vec<u8>, access_key: Vec<u8>, auth: Option<GroupAuth>| CreateGroupRequest {
            group_id,
            access_key,
            auth,
        };
    let fresh = random::<32>().to_vec();
    assert_eq!(
        code(groups.create(CreateGroupRequest::default()).await),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(
                    vec![0; 31],
                    public0.to_vec(),
                    Some(bad_group_auth())
                ))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(
                    fresh.clone(),
                    public0[..31].to_vec(),
                    Some(bad_group_auth())
                ))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(
                    fresh.clone(),
                    invalid_point().to_vec(),
                    Some(bad_group_auth())
                ))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(fresh.clone(), public0.to_vec(), None))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(
                    fresh.clone(),
                    public0.to_vec(),
                    Some(short_nonce.clone())
                ))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(
                    fresh.clone(),
                    public0.to_vec(),
                    Some(long_sig.clone())
                ))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .create(create(fresh, public0.to_vec(), Some(bad_group_auth())))
                .await
        ),
        denied
    );

    // Groups.Post / Commit / Read.
    let post = |message: Vec<u8>, auth: Option<GroupAuth>| PostRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        message,
        auth,
    };
    assert_eq!(code(groups.post(PostRequest::default()).await), invalid);
    assert_eq!(
        code(groups.post(post(Vec::new(), Some(bad_group_auth()))).await),
        invalid
    );
    assert_eq!(
        code(
            groups
                .post(post(vec![1; MIB + 1], Some(bad_group_auth())))
                .await
        ),
        invalid
    );
    assert_eq!(code(groups.post(post(vec![1; 256], None)).await), invalid);
    assert_eq!(
        code(
            groups
                .post(post(vec![1; 256], Some(short_nonce.clone())))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .post(post(vec![1; 256], Some(bad_group_auth())))
                .await
        ),
        denied
    );

    let next = access_key().public_key().to_bytes();
    let commit = |next_access_key: Vec<u8>, auth: Option<GroupAuth>| CommitRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        message: vec![1; 256],
        next_access_key,
        auth,
    };
    assert_eq!(code(groups.commit(CommitRequest::default()).await), invalid);
    assert_eq!(
        code(
            groups
                .commit(commit(next[..31].to_vec(), Some(bad_group_auth())))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(
            groups
                .commit(commit(invalid_point().to_vec(), Some(bad_group_auth())))
                .await
        ),
        invalid
    );
    assert_eq!(
        code(groups.commit(commit(next.to_vec(), Some(long_sig))).await),
        invalid
    );
    assert_eq!(
        code(
            groups
                .commit(commit(next.to_vec(), Some(bad_group_auth())))
                .await
        ),
        denied
    );

    let read = |limit: u32, auth: Option<GroupAuth>| ReadRequest {
        group_id: group_id.to_vec(),
        epoch: 0,
        from_seq: 0,
        limit,
        auth,
    };
    assert_eq!(code(groups.read(ReadRequest::default()).await), invalid);
    assert_eq!(
        code(groups.read(read(501, Some(bad_group_auth()))).await),
        invalid
    );
    assert_eq!(code(groups.read(read(0, None)).await), invalid);
    assert_eq!(
        code(groups.read(read(0, Some(bad_group_auth()))).await),
        denied
    );

    // Groups.Subscribe.
    let good_sub = || GroupSubscription {
        group_id: group_id.to_vec(),
        epoch: 0,
        auth: Some(group_auth(
            &key0,
            GroupMethod::Subscribe,
            &group_id,
            0,
            body::empty(),
        )),
    };
    let subscribe = |groups: Vec<GroupSubscription>| SubscribeGroupsRequest { groups };
    assert_eq!(
        code(groups.subscribe(SubscribeGroupsRequest::default()).await),
        invalid
    );
    assert_eq!(
        code(
            groups
                .subscribe(subscribe((0..257).map(|_| good_sub()).collect()))
                .await
        ),
        invalid
    );
    let short_id = GroupSubscription {
        group_id: vec![0; 5],
        ..good_sub()
    };
    let err = groups
        .subscribe(subscribe(vec![good_sub(), short_id]))
        .await
        .unwrap_err();
    assert_eq!(err.code(), invalid);
    assert!(
        err.message().starts_with("groups[1].group_id"),
        "{}",
        err.message()
    );
    let bad_sig = GroupSubscription {
        auth: Some(bad_group_auth()),
        ..good_sub()
    };
    assert_eq!(
        code(groups.subscribe(subscribe(vec![bad_sig])).await),
        denied
    );

    // Bytes that are not the request message at all, and requests over the decode limit.
    let channel = relay.channel().await;
    let not_protobuf = vec![0xff; 7];
    let mut truncated = RegisterRequest {
        record: record.clone(),
    }
    .encode_to_vec();
    truncated.truncate(truncated.len() - 5);
    for path in [
        "/parley.v1.Directory/Register",
        "/parley.v1.Directory/Lookup",
        "/parley.v1.Directory/PublishKeyPackages",
        "/parley.v1.Directory/ClaimKeyPackage",
        "/parley.v1.Inbox/Deposit",
        "/parley.v1.Inbox/Fetch",
        "/parley.v1.Inbox/Ack",
        "/parley.v1.Groups/Create",
        "/parley.v1.Groups/Post",
        "/parley.v1.Groups/Commit",
        "/parley.v1.Groups/Read",
    ] {
        for body in [not_protobuf.clone(), truncated.clone()] {
            let err = raw::unary(channel.clone(), path, body).await.unwrap_err();
            assert_eq!(err.code(), Code::Internal, "{path}: {err:?}");
        }
        let err = raw::unary(channel.clone(), path, vec![0; 3 * MIB])
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::OutOfRange, "{path}: {err:?}");
    }
    for path in ["/parley.v1.Inbox/Subscribe", "/parley.v1.Groups/Subscribe"] {
        let err = raw::streaming_first(channel.clone(), path, not_protobuf.clone())
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{path}: {err:?}");
    }

    // Still serving, and nothing malformed was stored.
    let found = directory
        .lookup(LookupRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    assert_eq!(found, record);
    let auth = alice
        .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
        .await;
    let deliveries = inbox
        .fetch(fetch(0, Some(auth)))
        .await
        .unwrap()
        .into_inner()
        .deliveries;
    assert_eq!(deliveries.len(), 1, "only the valid 1 MiB deposit");
    assert_eq!(deliveries[0].envelope.len(), MIB);
    let page = groups
        .read(read(
            0,
            Some(group_auth(
                &key0,
                GroupMethod::Read,
                &group_id,
                0,
                body::read(0, 0),
            )),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(page.entries.is_empty());
    assert_eq!((page.current_epoch, page.next_seq), (0, 0));
    relay.stop().await;
}
