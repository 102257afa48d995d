//! Acceptance 8: malformed input to every RPC gets a typed gRPC error, and the relay keeps
//! serving valid requests afterwards.

#[cfg(test)]
mod common;

use common::raw::{
    group_auth, group_auth_at, owner_auth, post_request, read_request, Raw, RawMember,
};
use common::{expect_code, expect_stream_code, now_ms, TestRelay, DENIED};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_crypto::padding;
use parley_proto::v1::{
    AckRequest, ChallengeRequest, ClaimKeyPackageRequest, CommitRequest, CreateGroupRequest,
    DepositRequest, FetchRequest, GroupAuth, GroupSubscription, LookupRequest, OwnerAuth,
    PublishKeyPackagesRequest, RegisterRequest, SubscribeGroupsRequest, SubscribeInboxRequest,
};
use rand::rngs::OsRng;
use rand::RngCore;
use tonic::Code;

/// The status a relay refuses an unknown, expired or reused challenge or timestamp with.
const STALE: Code = Code::Unauthenticated;
const MIB: usize = 1 << 20;

/// An owner-auth by `member` over a fresh challenge.
async fn sign_owner(
    raw: &Raw,
    member: &RawMember,
    method: OwnerMethod,
    digest: [u8; 32],
) -> OwnerAuth {
    owner_auth(raw, &member.identity, &member.handle, method, &digest).await
}

/// A valid request still succeeds.
async fn assert_alive(raw: &Raw, member: &RawMember) {
    let record = member.lookup(&member.handle).await;
    assert_eq!(record.record().handle, member.handle);
    assert_eq!(raw.challenge(&member.handle).await.len(), 32);
}

fn random_group() -> ([u8; 32], AccessKey) {
    let mut id = [0u8; 32];
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut id);
    OsRng.fill_bytes(&mut seed);
    (id, AccessKey::from_exporter_secret(&seed))
}

fn create_request(group_id: &[u8; 32], key: &AccessKey) -> CreateGroupRequest {
    let public = key.public_key().to_bytes();
    CreateGroupRequest {
        group_id: group_id.to_vec(),
        access_key: public.to_vec(),
        auth: Some(group_auth(
            key,
            GroupMethod::Create,
            group_id,
            0,
            &body::create(&public),
        )),
    }
}

fn commit_request(
    key: &AccessKey,
    group_id: &[u8; 32],
    epoch: u64,
    message: &[u8],
    next: &[u8],
) -> CommitRequest {
    let next_fixed: [u8; 32] = next.try_into().unwrap_or([0u8; 32]);
    CommitRequest {
        group_id: group_id.to_vec(),
        epoch,
        message: message.to_vec(),
        next_access_key: next.to_vec(),
        auth: Some(group_auth(
            key,
            GroupMethod::Commit,
            group_id,
            epoch,
            &body::commit(message, &next_fixed),
        )),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn directory_rejects_malformed_input() {
    let relay = TestRelay::start();
    let raw = Raw::new(relay.channel().await);
    let owner = RawMember::register(raw.clone(), "mal-owner").await;
    let mut dir = raw.directory.clone();

    // Register: empty, truncated, oversized, bad signature, taken.
    let other = RawMember::register(raw.clone(), "mal-other").await;
    let valid = common::raw::signed_record(
        &parley_crypto::handle::Handle::parse("mal-new").unwrap(),
        &other.identity,
        &other.inbox_key,
    )
    .to_bytes();
    let register = |record: Vec<u8>| RegisterRequest { record };
    expect_code(
        dir.register(register(Vec::new())).await,
        Code::InvalidArgument,
    );
    expect_code(
        dir.register(register(valid[..valid.len() - 1].to_vec()))
            .await,
        Code::InvalidArgument,
    );
    let mut oversized = valid.clone();
    oversized.resize(1025, 0);
    expect_code(
        dir.register(register(oversized)).await,
        Code::InvalidArgument,
    );
    let mut bad_sig = valid.clone();
    let last = bad_sig.len() - 1;
    bad_sig[last] ^= 0x01;
    expect_code(dir.register(register(bad_sig)).await, Code::InvalidArgument);
    let mut bad_handle = valid.clone();
    bad_handle[2] = b'A';
    expect_code(
        dir.register(register(bad_handle)).await,
        Code::InvalidArgument,
    );
    let taken = common::raw::signed_record(&owner.handle, &other.identity, &other.inbox_key);
    expect_code(
        dir.register(register(taken.to_bytes())).await,
        Code::AlreadyExists,
    );
    assert_alive(&raw, &owner).await;
    // The refused record was not stored; the valid one registers fine afterwards.
    dir.register(register(valid)).await.unwrap();

    // Lookup: empty, oversized, bad syntax, unknown.
    let lookup = |handle: &str| LookupRequest {
        handle: handle.to_owned(),
    };
    expect_code(dir.lookup(lookup("")).await, Code::InvalidArgument);
    expect_code(
        dir.lookup(lookup(&"a".repeat(33))).await,
        Code::InvalidArgument,
    );
    expect_code(
        dir.lookup(lookup(&"a".repeat(4096))).await,
        Code::InvalidArgument,
    );
    expect_code(dir.lookup(lookup("Mal-Owner")).await, Code::InvalidArgument);
    expect_code(dir.lookup(lookup("nobody-here")).await, Code::NotFound);

    // Challenge takes nothing; two are never equal.
    let c1 = dir
        .challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let c2 = dir
        .challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(c1.challenge.len(), 32);
    assert_ne!(c1.challenge, c2.challenge);

    // PublishKeyPackages.
    let kp = vec![0x42u8; 512];
    let publish = |kps: Vec<Vec<u8>>, auth: Option<OwnerAuth>| PublishKeyPackagesRequest {
        replace: false,
        handle: owner.handle.as_str().to_owned(),
        key_packages: kps,
        last_resort: Vec::new(),
        auth,
    };
    let signed = |kps: &[Vec<u8>]| {
        sign_owner(
            &raw,
            &owner,
            OwnerMethod::PublishKeyPackages,
            body::publish_key_packages(kps, &[]),
        )
    };
    expect_code(
        dir.publish_key_packages(publish(vec![kp.clone()], None))
            .await,
        Code::InvalidArgument,
    );
    expect_code(
        dir.publish_key_packages(publish(
            vec![kp.clone()],
            Some(OwnerAuth {
                challenge: vec![1; 31],
                signature: vec![2; 64],
            }),
        ))
        .await,
        Code::InvalidArgument,
    );
    let too_many = vec![kp.clone(); 101];
    let auth = signed(&too_many).await;
    expect_code(
        dir.publish_key_packages(publish(too_many, Some(auth)))
            .await,
        Code::InvalidArgument,
    );
    let huge = vec![vec![0x42u8; 16 * 1024 + 1]];
    let auth = signed(&huge).await;
    expect_code(
        dir.publish_key_packages(publish(huge, Some(auth))).await,
        Code::InvalidArgument,
    );
    let empty_kp = vec![Vec::new()];
    let auth = signed(&empty_kp).await;
    expect_code(
        dir.publish_key_packages(publish(empty_kp, Some(auth)))
            .await,
        Code::InvalidArgument,
    );
    // Signed by someone else's key.
    let digest = body::publish_key_packages(std::slice::from_ref(&kp), &[]);
    let forged = owner_auth(
        &raw,
        &other.identity,
        &owner.handle,
        OwnerMethod::PublishKeyPackages,
        &digest,
    )
    .await;
    expect_code(
        dir.publish_key_packages(publish(vec![kp.clone()], Some(forged)))
            .await,
        DENIED,
    );
    // Signed over other content than sent.
    let auth = signed(&[vec![0x43u8; 512]]).await;
    expect_code(
        dir.publish_key_packages(publish(vec![kp.clone()], Some(auth)))
            .await,
        DENIED,
    );
    // A challenge the relay never issued.
    let mut made_up = [0u8; 32];
    OsRng.fill_bytes(&mut made_up);
    let transcript = parley_crypto::auth::owner_transcript(
        OwnerMethod::PublishKeyPackages,
        &owner.handle,
        &made_up,
        &digest,
    );
    let unissued = OwnerAuth {
        challenge: made_up.to_vec(),
        signature: owner.identity.sign(&transcript).to_vec(),
    };
    expect_code(
        dir.publish_key_packages(publish(vec![kp.clone()], Some(unissued)))
            .await,
        STALE,
    );
    // Replayed challenge: the first use succeeds, the second is refused.
    let auth = signed(std::slice::from_ref(&kp)).await;
    dir.publish_key_packages(publish(vec![kp.clone()], Some(auth.clone())))
        .await
        .unwrap();
    expect_code(
        dir.publish_key_packages(publish(vec![kp.clone()], Some(auth)))
            .await,
        STALE,
    );
    assert_alive(&raw, &owner).await;

    // ClaimKeyPackage: empty, bad syntax, unknown; then a real claim works.
    let claim = |handle: &str| ClaimKeyPackageRequest {
        handle: handle.to_owned(),
    };
    expect_code(
        dir.claim_key_package(claim("")).await,
        Code::InvalidArgument,
    );
    expect_code(
        dir.claim_key_package(claim(&"z".repeat(1000))).await,
        Code::InvalidArgument,
    );
    expect_code(
        dir.claim_key_package(claim("no-such-one")).await,
        Code::NotFound,
    );
    let claimed = dir
        .claim_key_package(claim(owner.handle.as_str()))
        .await
        .unwrap()
        .into_inner();
    assert!(!claimed.key_package.is_empty());
    assert_alive(&raw, &owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inbox_rejects_malformed_input() {
    let relay = TestRelay::start();
    let raw = Raw::new(relay.channel().await);
    let owner = RawMember::register(raw.clone(), "inbox-owner").await;
    let stranger = RawMember::register(raw.clone(), "inbox-stranger").await;
    let mut inbox = raw.inbox.clone();
    let handle = owner.handle.as_str().to_owned();

    // Deposit: empty, oversized, beyond the decoding limit, bad handle, unknown handle.
    let deposit = |handle: &str, envelope: Vec<u8>| DepositRequest {
        handle: handle.to_owned(),
        envelope,
    };
    expect_code(
        inbox.deposit(deposit(&handle, Vec::new())).await,
        Code::InvalidArgument,
    );
    expect_code(
        inbox.deposit(deposit(&handle, vec![7u8; MIB + 1])).await,
        Code::InvalidArgument,
    );
    expect_code(
        inbox.deposit(deposit(&handle, vec![7u8; 3 * MIB])).await,
        Code::OutOfRange,
    );
    expect_code(
        inbox.deposit(deposit("", vec![7u8; 256])).await,
        Code::InvalidArgument,
    );
    expect_code(
        inbox.deposit(deposit("No Such", vec![7u8; 256])).await,
        Code::InvalidArgument,
    );
    expect_code(
        inbox
            .deposit(deposit("not-registered", vec![7u8; 256]))
            .await,
        Code::NotFound,
    );
    inbox
        .deposit(deposit(&handle, vec![7u8; 256]))
        .await
        .unwrap();
    assert_alive(&raw, &owner).await;

    // Fetch: missing auth, truncated signature, limit too high, forged, replayed.
    let fetch = |limit: u32, auth: Option<OwnerAuth>| FetchRequest {
        handle: handle.clone(),
        limit,
        auth,
    };
    let signed_fetch =
        |limit: u32| sign_owner(&raw, &owner, OwnerMethod::Fetch, body::fetch(limit));
    expect_code(inbox.fetch(fetch(10, None)).await, Code::InvalidArgument);
    let mut truncated = signed_fetch(10).await;
    truncated.signature.pop();
    expect_code(
        inbox.fetch(fetch(10, Some(truncated))).await,
        Code::InvalidArgument,
    );
    let auth = signed_fetch(501).await;
    expect_code(
        inbox.fetch(fetch(501, Some(auth))).await,
        Code::InvalidArgument,
    );
    let forged = owner_auth(
        &raw,
        &stranger.identity,
        &owner.handle,
        OwnerMethod::Fetch,
        &body::fetch(10),
    )
    .await;
    expect_code(inbox.fetch(fetch(10, Some(forged))).await, DENIED);
    // Signed for another limit than sent.
    let auth = signed_fetch(11).await;
    expect_code(inbox.fetch(fetch(10, Some(auth))).await, DENIED);
    let auth = signed_fetch(10).await;
    let page = inbox
        .fetch(fetch(10, Some(auth.clone())))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.deliveries.len(), 1, "exactly the one valid deposit");
    expect_code(inbox.fetch(fetch(10, Some(auth))).await, STALE);
    assert_alive(&raw, &owner).await;

    // Ack: no ids, too many ids, forged; then a real ack empties the inbox.
    let ack = |ids: Vec<u64>, auth: Option<OwnerAuth>| AckRequest {
        handle: handle.clone(),
        ids,
        auth,
    };
    let signed_ack = |ids: Vec<u64>| sign_owner(&raw, &owner, OwnerMethod::Ack, body::ack(&ids));
    let auth = signed_ack(Vec::new()).await;
    expect_code(
        inbox.ack(ack(Vec::new(), Some(auth))).await,
        Code::InvalidArgument,
    );
    let many: Vec<u64> = (0..501).collect();
    let auth = signed_ack(many.clone()).await;
    expect_code(
        inbox.ack(ack(many, Some(auth))).await,
        Code::InvalidArgument,
    );
    let id = page.deliveries[0].id;
    let forged = owner_auth(
        &raw,
        &stranger.identity,
        &owner.handle,
        OwnerMethod::Ack,
        &body::ack(&[id]),
    )
    .await;
    expect_code(inbox.ack(ack(vec![id], Some(forged))).await, DENIED);
    let auth = signed_fetch(10).await;
    assert_eq!(
        inbox
            .fetch(fetch(10, Some(auth)))
            .await
            .unwrap()
            .into_inner()
            .deliveries
            .len(),
        1,
        "a refused ack deletes nothing"
    );
    let auth = signed_ack(vec![id]).await;
    inbox.ack(ack(vec![id], Some(auth))).await.unwrap();
    let auth = signed_fetch(10).await;
    assert!(inbox
        .fetch(fetch(10, Some(auth)))
        .await
        .unwrap()
        .into_inner()
        .deliveries
        .is_empty());

    // Subscribe: missing auth, forged.
    let subscribe = |auth: Option<OwnerAuth>| SubscribeInboxRequest {
        handle: handle.clone(),
        auth,
    };
    expect_stream_code(
        inbox.subscribe(subscribe(None)).await,
        Code::InvalidArgument,
    )
    .await;
    let forged = owner_auth(
        &raw,
        &stranger.identity,
        &owner.handle,
        OwnerMethod::SubscribeInbox,
        &body::empty(),
    )
    .await;
    expect_stream_code(inbox.subscribe(subscribe(Some(forged))).await, DENIED).await;
    assert_alive(&raw, &owner).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_reject_malformed_input() {
    let relay = TestRelay::start();
    let raw = Raw::new(relay.channel().await);
    let owner = RawMember::register(raw.clone(), "grp-owner").await;
    let mut groups = raw.groups.clone();
    let (gid, key0) = random_group();
    let (_, stranger_key) = random_group();

    // Create: short id, missing/short key, missing auth, wrong signer, stale; then valid, taken.
    let mut req = create_request(&gid, &key0);
    req.group_id.pop();
    expect_code(groups.create(req).await, Code::InvalidArgument);
    let mut req = create_request(&gid, &key0);
    req.access_key = Vec::new();
    expect_code(groups.create(req).await, Code::InvalidArgument);
    let mut req = create_request(&gid, &key0);
    req.auth = None;
    expect_code(groups.create(req).await, Code::InvalidArgument);
    let mut req = create_request(&gid, &key0);
    let public = key0.public_key().to_bytes();
    req.auth = Some(group_auth(
        &stranger_key,
        GroupMethod::Create,
        &gid,
        0,
        &body::create(&public),
    ));
    expect_code(groups.create(req).await, DENIED);
    let mut req = create_request(&gid, &key0);
    req.auth = Some(group_auth_at(
        &key0,
        GroupMethod::Create,
        &gid,
        0,
        &body::create(&public),
        now_ms() - 301_000,
    ));
    expect_code(groups.create(req).await, STALE);
    groups.create(create_request(&gid, &key0)).await.unwrap();
    expect_code(
        groups.create(create_request(&gid, &key0)).await,
        Code::AlreadyExists,
    );
    assert_alive(&raw, &owner).await;

    // Post: empty, oversized, short nonce, wrong signer, replayed, unknown group.
    let frame = padding::pad(b"a valid post", 0).unwrap();
    expect_code(
        groups.post(post_request(&key0, &gid, 0, &[])).await,
        Code::InvalidArgument,
    );
    expect_code(
        groups
            .post(post_request(&key0, &gid, 0, &vec![0u8; MIB + 1]))
            .await,
        Code::InvalidArgument,
    );
    let mut req = post_request(&key0, &gid, 0, &frame);
    req.auth = Some(GroupAuth {
        nonce: vec![0u8; 15],
        ..req.auth.clone().unwrap()
    });
    expect_code(groups.post(req).await, Code::InvalidArgument);
    expect_code(
        groups
            .post(post_request(&stranger_key, &gid, 0, &frame))
            .await,
        DENIED,
    );
    let mut req = post_request(&key0, &gid, 0, &frame);
    req.message = padding::pad(b"other content", 0).unwrap();
    expect_code(groups.post(req).await, DENIED);
    let valid = post_request(&key0, &gid, 0, &frame);
    let seq0 = groups.post(valid.clone()).await.unwrap().into_inner().seq;
    expect_code(groups.post(valid).await, DENIED);
    // An unknown group is refused as a wrong key is, so nobody learns which groups exist.
    let (unknown, unknown_key) = random_group();
    expect_code(
        groups
            .post(post_request(&unknown_key, &unknown, 0, &frame))
            .await,
        DENIED,
    );
    assert_alive(&raw, &owner).await;

    // Commit: bad next key, wrong signer, then a valid one; a second commit from the same
    // epoch loses (compare-and-swap); the old epoch is closed for posts.
    let (_, key1) = random_group();
    let next1 = key1.public_key().to_bytes();
    let commit_frame = padding::pad(b"a commit", 0).unwrap();
    expect_code(
        groups
            .commit(commit_request(&key0, &gid, 0, &commit_frame, &next1[..31]))
            .await,
        Code::InvalidArgument,
    );
    expect_code(
        groups
            .commit(commit_request(
                &stranger_key,
                &gid,
                0,
                &commit_frame,
                &next1,
            ))
            .await,
        DENIED,
    );
    let seq1 = groups
        .commit(commit_request(&key0, &gid, 0, &commit_frame, &next1))
        .await
        .unwrap()
        .into_inner()
        .seq;
    assert!(seq1 > seq0);
    let (_, key_b) = random_group();
    expect_code(
        groups
            .commit(commit_request(
                &key0,
                &gid,
                0,
                &commit_frame,
                &key_b.public_key().to_bytes(),
            ))
            .await,
        Code::FailedPrecondition,
    );
    expect_code(
        groups.post(post_request(&key0, &gid, 0, &frame)).await,
        Code::FailedPrecondition,
    );
    // An epoch not reached: no key of it exists, so nothing is authenticated.
    expect_code(
        groups.post(post_request(&key1, &gid, 2, &frame)).await,
        DENIED,
    );
    // Key 0 does not open epoch 1.
    expect_code(
        groups.post(post_request(&key0, &gid, 1, &frame)).await,
        DENIED,
    );
    groups
        .post(post_request(&key1, &gid, 1, &frame))
        .await
        .unwrap();

    // Read: limit too high, wrong key, unknown group, valid.
    expect_code(
        groups.read(read_request(&key1, &gid, 1, 0, 501)).await,
        Code::InvalidArgument,
    );
    expect_code(
        groups.read(read_request(&key0, &gid, 1, 0, 10)).await,
        DENIED,
    );
    expect_code(
        groups
            .read(read_request(&unknown_key, &unknown, 0, 0, 10))
            .await,
        DENIED,
    );
    let page0 = groups
        .read(read_request(&key0, &gid, 0, 0, 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        page0
            .entries
            .iter()
            .map(|e| (e.seq, e.commit))
            .collect::<Vec<_>>(),
        vec![(seq0, false), (seq1, true)]
    );
    assert_eq!(page0.current_epoch, 1);
    let page1 = groups
        .read(read_request(&key1, &gid, 1, 0, 0))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page1.entries.len(), 1);
    assert_eq!(page1.entries[0].message, frame);

    // Subscribe: none, too many, wrong key.
    let sub = |key: &AccessKey, epoch: u64| GroupSubscription {
        group_id: gid.to_vec(),
        epoch,
        auth: Some(group_auth(
            key,
            GroupMethod::Subscribe,
            &gid,
            epoch,
            &body::empty(),
        )),
    };
    expect_stream_code(
        groups
            .subscribe(SubscribeGroupsRequest { groups: Vec::new() })
            .await,
        Code::InvalidArgument,
    )
    .await;
    expect_stream_code(
        groups
            .subscribe(SubscribeGroupsRequest {
                groups: (0..257).map(|_| sub(&key1, 1)).collect(),
            })
            .await,
        Code::InvalidArgument,
    )
    .await;
    expect_stream_code(
        groups
            .subscribe(SubscribeGroupsRequest {
                groups: vec![sub(&key0, 1)],
            })
            .await,
        DENIED,
    )
    .await;
    assert_alive(&raw, &owner).await;
    let page = groups
        .read(read_request(&key1, &gid, 1, 0, 10))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.next_seq, seq1 + 2);
}
