//! The error table of docs/PROTOCOL.md section 7, walked row by row: each row's case is
//! played against a real relay (plaintext, on loopback) and the code it answers must be the
//! code the row states. A row without a case here, or a case without a row, fails the test,
//! so the table and the relay cannot drift apart.

// Helpers outside #[test] bodies fail the test by panicking too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;
mod limits_support;

use common::blobs::{download, upload, Doc};
use common::groups::{self, frame};
use common::{access_key, group_auth, group_auth_at, now_ms, random, resigned_rotation, User};
use limits_support::{generous, limited};
use parley_crypto::auth::{body, GroupMethod, OwnerMethod};
use parley_crypto::directory::SignedRecord;
use parley_crypto::document::CHUNK_LEN;
use parley_crypto::rotation::Rotation;
use parley_proto::v1::{
    AckRequest, ClaimKeyPackageRequest, DepositRequest, FetchRequest, LookupRequest, PostRequest,
    PublishKeyPackagesRequest, RegisterRequest, RotateRequest, SubscribeInboxRequest,
};
use parley_relay::LimitsConfig;
use parley_testkit::TestRelay;
use tonic::Code;

/// The rows of section 7: case and the code it states.
fn table() -> Vec<(String, Code)> {
    let protocol = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/PROTOCOL.md"),
    )
    .unwrap();
    let section = protocol
        .split("## 7. Errors and limits")
        .nth(1)
        .unwrap()
        .split("\n## ")
        .next()
        .unwrap();
    section
        .lines()
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let case = cells[1].trim_matches('`').to_owned();
            let code = code_named(cells[3].trim_matches('`'));
            (case, code)
        })
        .collect()
}

fn code_named(name: &str) -> Code {
    match name {
        "OK" => Code::Ok,
        "INVALID_ARGUMENT" => Code::InvalidArgument,
        "OUT_OF_RANGE" => Code::OutOfRange,
        "ALREADY_EXISTS" => Code::AlreadyExists,
        "NOT_FOUND" => Code::NotFound,
        "UNAUTHENTICATED" => Code::Unauthenticated,
        "PERMISSION_DENIED" => Code::PermissionDenied,
        "FAILED_PRECONDITION" => Code::FailedPrecondition,
        "RESOURCE_EXHAUSTED" => Code::ResourceExhausted,
        "UNAVAILABLE" => Code::Unavailable,
        other => panic!("section 7 names a code this test does not know: {other}"),
    }
}

/// The code of a call's answer.
fn code<T>(result: Result<T, tonic::Status>) -> Code {
    match result {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

/// A relay with `limits` and a registered user "alice".
async fn with_alice(limits: LimitsConfig) -> (TestRelay, User) {
    let relay = limited(limits);
    let alice = User::new("alice");
    alice.register(&mut relay.directory().await).await;
    (relay, alice)
}

/// Publishes `count` bucket-sized KeyPackages (and `last_resort`) for `user`.
async fn publish(
    relay: &TestRelay,
    user: &User,
    count: usize,
    last_resort: Vec<u8>,
) -> Result<u32, tonic::Status> {
    let mut directory = relay.directory().await;
    let key_packages: Vec<Vec<u8>> = (0..count).map(|_| random::<256>().to_vec()).collect();
    let digest = body::publish_key_packages(&key_packages, &last_resort);
    let auth = user
        .owner_auth(&mut directory, OwnerMethod::PublishKeyPackages, digest)
        .await;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            handle: user.handle.as_str().into(),
            key_packages,
            last_resort,
            auth: Some(auth),
            replace: false,
        })
        .await
        .map(|r| r.into_inner().available)
}

const TWO_DAYS_MS: u64 = 2 * 24 * 60 * 60 * 1000;

/// A relay where "alice" holds the record returned, of the key `User` returned.
async fn with_alice_record() -> (TestRelay, User, SignedRecord) {
    let relay = limited(generous());
    let alice = User::new("alice");
    let record = alice.record_at(1, now_ms());
    relay
        .directory()
        .await
        .register(RegisterRequest {
            record: record.to_bytes(),
        })
        .await
        .unwrap();
    (relay, alice, record)
}

/// Sends `rotation` to the relay.
async fn rotate(relay: &TestRelay, rotation: &[u8]) -> Result<(), tonic::Status> {
    relay
        .directory()
        .await
        .rotate(RotateRequest {
            rotation: rotation.to_vec(),
        })
        .await
        .map(|_| ())
}

/// Plays one case; returns the code the relay answered.
async fn play(case: &str) -> Code {
    match case {
        "field-too-long" => {
            let relay = limited(generous());
            let long = "a".repeat(64);
            code(
                relay
                    .directory()
                    .await
                    .lookup(LookupRequest { handle: long })
                    .await,
            )
        }
        "not-a-bucket" => {
            let (relay, _alice) = with_alice(generous()).await;
            code(
                relay
                    .inbox()
                    .await
                    .deposit(DepositRequest {
                        handle: "alice".into(),
                        envelope: vec![1; 300],
                    })
                    .await,
            )
        }
        "missing-auth" => {
            let (relay, _alice) = with_alice(generous()).await;
            code(
                relay
                    .inbox()
                    .await
                    .fetch(FetchRequest {
                        handle: "alice".into(),
                        limit: 0,
                        auth: None,
                    })
                    .await,
            )
        }
        "bad-record" => {
            let relay = limited(generous());
            let mut record = User::new("alice").record().to_bytes();
            let last = record.len() - 1;
            record[last] ^= 1;
            code(
                relay
                    .directory()
                    .await
                    .register(RegisterRequest { record })
                    .await,
            )
        }
        "record-ahead" => {
            let relay = limited(generous());
            let record = User::new("alice").record_at(1, now_ms() + TWO_DAYS_MS);
            code(
                relay
                    .directory()
                    .await
                    .register(RegisterRequest {
                        record: record.to_bytes(),
                    })
                    .await,
            )
        }
        "bad-rotation" => {
            let (relay, alice, held) = with_alice_record().await;
            let (next, mallory) = (User::new("alice"), User::new("alice"));
            let garbage = code(rotate(&relay, &[0xff; 200]).await);
            // The held record as old, signed by another key than its own.
            let genuine =
                Rotation::sign(&held, &next.record_at(2, now_ms()), &alice.identity).unwrap();
            let forged = resigned_rotation(genuine.as_bytes(), &mallory);
            let forged = code(rotate(&relay, &forged).await);
            let ahead = Rotation::sign(
                &held,
                &next.record_at(2, now_ms() + TWO_DAYS_MS),
                &alice.identity,
            )
            .unwrap();
            let ahead = code(rotate(&relay, ahead.as_bytes()).await);
            let codes = [garbage, forged, ahead];
            assert!(
                codes.iter().all(|c| *c == codes[0]),
                "one answer for all: {codes:?}"
            );
            codes[0]
        }
        "too-large" => {
            let (relay, _alice) = with_alice(generous()).await;
            code(
                relay
                    .inbox()
                    .await
                    .deposit(DepositRequest {
                        handle: "alice".into(),
                        envelope: vec![0; 3 << 20],
                    })
                    .await,
            )
        }
        "handle-taken" => {
            let (relay, _alice) = with_alice(generous()).await;
            let again = User::new("alice");
            code(
                relay
                    .directory()
                    .await
                    .register(RegisterRequest {
                        record: again.record().to_bytes(),
                    })
                    .await,
            )
        }
        "group-taken" => {
            let relay = limited(generous());
            let mut groups = relay.groups().await;
            let (group_id, key) = (random::<32>(), access_key());
            groups::create(&mut groups, &group_id, &key).await;
            let other = access_key();
            let public = other.public_key().to_bytes();
            code(
                groups
                    .create(parley_proto::v1::CreateGroupRequest {
                        group_id: group_id.to_vec(),
                        access_key: public.to_vec(),
                        auth: Some(group_auth(
                            &other,
                            GroupMethod::Create,
                            &group_id,
                            0,
                            body::create(&public),
                        )),
                    })
                    .await,
            )
        }
        "retention-out-of-range" => {
            let relay = limited(generous());
            let mut groups = relay.groups().await;
            let (group_id, key) = (random::<32>(), access_key());
            groups::create(&mut groups, &group_id, &key).await;
            code(groups::set_retention(&mut groups, &group_id, 0, &key, 59).await)
        }
        "unknown-handle" => {
            let relay = limited(generous());
            let lookup = code(
                relay
                    .directory()
                    .await
                    .lookup(LookupRequest {
                        handle: "nobody".into(),
                    })
                    .await,
            );
            let deposit = code(
                relay
                    .inbox()
                    .await
                    .deposit(DepositRequest {
                        handle: "nobody".into(),
                        envelope: vec![1; 256],
                    })
                    .await,
            );
            assert_eq!(lookup, deposit, "Lookup and Deposit answer alike");
            lookup
        }
        "no-key-package" => {
            let (relay, _alice) = with_alice(generous()).await;
            code(
                relay
                    .directory()
                    .await
                    .claim_key_package(ClaimKeyPackageRequest {
                        handle: "alice".into(),
                    })
                    .await,
            )
        }
        "blob-taken" => {
            let relay = limited(generous());
            let mut blobs = relay.blobs().await;
            let doc = Doc::new(10);
            upload(&mut blobs, doc.messages(0, 1)).await.unwrap();
            let mut squatter = doc.messages(0, 0);
            squatter[0].begin.as_mut().unwrap().write_capability = random::<32>().to_vec();
            code(upload(&mut blobs, squatter).await)
        }
        "blob-bad-chunk" => {
            let relay = limited(generous());
            let mut blobs = relay.blobs().await;
            let mut short = Doc::new(10).messages(0, 1);
            short[1].chunk.pop();
            code(upload(&mut blobs, short).await)
        }
        "blob-too-large" => {
            let relay = limited(generous());
            let mut blobs = relay.blobs().await;
            let mut huge = Doc::new(10).messages(0, 0);
            huge[0].begin.as_mut().unwrap().padded_size = 512 << 20;
            code(upload(&mut blobs, huge).await)
        }
        "blob-not-found" => {
            let relay = limited(generous());
            let mut blobs = relay.blobs().await;
            let doc = Doc::new(2 * CHUNK_LEN);
            upload(&mut blobs, doc.messages(0, 1)).await.unwrap();
            code(download(&mut blobs, doc.download(0)).await)
        }
        "blob-quota" => {
            let relay = limited(LimitsConfig {
                max_blob_bytes: CHUNK_LEN as u64,
                blob_bytes_per_source_per_hour: CHUNK_LEN as u64,
                ..generous()
            });
            let mut blobs = relay.blobs().await;
            upload(&mut blobs, Doc::new(10).messages(0, 1))
                .await
                .unwrap();
            code(upload(&mut blobs, Doc::new(10).messages(0, 1)).await)
        }
        "rotate-unknown" => {
            let relay = limited(generous());
            let bob = User::new("bob");
            let rotation = Rotation::sign(
                &bob.record_at(1, now_ms()),
                &User::new("bob").record_at(2, now_ms()),
                &bob.identity,
            )
            .unwrap();
            code(rotate(&relay, rotation.as_bytes()).await)
        }
        "spent-challenge" => {
            let (relay, alice) = with_alice(generous()).await;
            let mut directory = relay.directory().await;
            let auth = alice
                .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
                .await;
            let fetch = FetchRequest {
                handle: "alice".into(),
                limit: 0,
                auth: Some(auth),
            };
            let mut inbox = relay.inbox().await;
            assert_eq!(code(inbox.fetch(fetch.clone()).await), Code::Ok);
            code(inbox.fetch(fetch).await)
        }
        "stale-timestamp" => {
            let relay = limited(generous());
            let mut groups = relay.groups().await;
            let (group_id, key) = (random::<32>(), access_key());
            groups::create(&mut groups, &group_id, &key).await;
            let message = frame("late");
            code(
                groups
                    .post(PostRequest {
                        group_id: group_id.to_vec(),
                        epoch: 0,
                        message: message.clone(),
                        auth: Some(group_auth_at(
                            &key,
                            GroupMethod::Post,
                            &group_id,
                            0,
                            body::post(&message),
                            now_ms() - 301_000,
                        )),
                    })
                    .await,
            )
        }
        "bad-owner-signature" => {
            let (relay, _alice) = with_alice(generous()).await;
            let mut directory = relay.directory().await;
            // Mallory signs a transcript for alice's handle with her own key.
            let mallory = User::new("alice");
            let auth = mallory
                .owner_auth(&mut directory, OwnerMethod::Fetch, body::fetch(0))
                .await;
            code(
                relay
                    .inbox()
                    .await
                    .fetch(FetchRequest {
                        handle: "alice".into(),
                        limit: 0,
                        auth: Some(auth),
                    })
                    .await,
            )
        }
        "group-not-authenticated" => {
            let relay = limited(generous());
            let mut groups = relay.groups().await;
            let (group_id, key) = (random::<32>(), access_key());
            groups::create(&mut groups, &group_id, &key).await;
            let unknown = groups::read(&mut groups, &random::<32>(), 0, &key, 0).await;
            let wrong_key = groups::read(&mut groups, &group_id, 0, &access_key(), 0).await;
            let future = groups::post(&mut groups, &group_id, 3, &key, &frame("x")).await;
            let subscribed = groups::subscribe(
                &mut groups,
                vec![groups::subscription(&group_id, 0, &access_key())],
            )
            .await;
            let codes = [
                code(unknown),
                code(wrong_key),
                code(future),
                code(subscribed),
            ];
            assert!(
                codes.iter().all(|c| *c == codes[0]),
                "one answer for all: {codes:?}"
            );
            codes[0]
        }
        "replayed" => {
            let relay = limited(generous());
            let mut groups = relay.groups().await;
            let (group_id, key) = (random::<32>(), access_key());
            groups::create(&mut groups, &group_id, &key).await;
            let message = frame("once");
            let post = PostRequest {
                group_id: group_id.to_vec(),
                epoch: 0,
                message: message.clone(),
                auth: Some(group_auth(
                    &key,
                    GroupMethod::Post,
                    &group_id,
                    0,
                    body::post(&message),
                )),
            };
            assert_eq!(code(groups.post(post.clone()).await), Code::Ok);
            code(groups.post(post).await)
        }
        "epoch-moved" => {
            let relay = limited(generous());
            let mut groups = relay.groups().await;
            let (group_id, key, next) = (random::<32>(), access_key(), access_key());
            groups::create(&mut groups, &group_id, &key).await;
            groups::commit(&mut groups, &group_id, 0, &key, &frame("commit"), &next)
                .await
                .unwrap();
            code(groups::post(&mut groups, &group_id, 0, &key, &frame("late")).await)
        }
        "rotation-stale" => {
            let (relay, alice, held) = with_alice_record().await;
            let rotation = Rotation::sign(
                &held,
                &User::new("alice").record_at(2, now_ms()),
                &alice.identity,
            )
            .unwrap();
            assert_eq!(code(rotate(&relay, rotation.as_bytes()).await), Code::Ok);
            code(rotate(&relay, rotation.as_bytes()).await)
        }
        "source-rate" => {
            let relay = limited(LimitsConfig {
                source_requests_per_second: 1,
                source_burst: 2,
                refusal_delay_ms: 0,
                ..generous()
            });
            let mut directory = relay.directory().await;
            let mut last = Code::Ok;
            for _ in 0..5 {
                last = code(
                    directory
                        .lookup(LookupRequest {
                            handle: "nobody".into(),
                        })
                        .await,
                );
            }
            last
        }
        "claims-per-source" => {
            let (relay, alice) = with_alice(LimitsConfig {
                key_package_claims_per_source_per_minute: 1,
                key_package_claim_source_burst: 1,
                ..generous()
            })
            .await;
            publish(&relay, &alice, 5, Vec::new()).await.unwrap();
            let mut directory = relay.directory().await;
            let claim = || ClaimKeyPackageRequest {
                handle: "alice".into(),
            };
            assert_eq!(code(directory.claim_key_package(claim()).await), Code::Ok);
            code(directory.claim_key_package(claim()).await)
        }
        "inbox-full" => {
            let (relay, _alice) = with_alice(LimitsConfig {
                inbox_max_messages: 1,
                ..generous()
            })
            .await;
            let mut inbox = relay.inbox().await;
            let deposit = || DepositRequest {
                handle: "alice".into(),
                envelope: vec![1; 256],
            };
            assert_eq!(code(inbox.deposit(deposit()).await), Code::Ok);
            code(inbox.deposit(deposit()).await)
        }
        "key-packages-held" => {
            let (relay, alice) = with_alice(generous()).await;
            for _ in 0..10 {
                publish(&relay, &alice, 100, Vec::new()).await.unwrap();
            }
            code(publish(&relay, &alice, 1, Vec::new()).await)
        }
        "subscriptions" => {
            let (relay, alice) = with_alice(LimitsConfig {
                max_subscriptions: 1,
                ..generous()
            })
            .await;
            let mut directory = relay.directory().await;
            let mut inbox = relay.inbox().await;
            let mut subscribe = async || {
                let auth = alice
                    .owner_auth(&mut directory, OwnerMethod::SubscribeInbox, body::empty())
                    .await;
                inbox
                    .subscribe(SubscribeInboxRequest {
                        handle: "alice".into(),
                        auth: Some(auth),
                    })
                    .await
            };
            let first = subscribe().await.unwrap().into_inner();
            let second = code(subscribe().await);
            drop(first);
            second
        }
        "storage" => {
            let relay = limited(LimitsConfig {
                min_free_disk_bytes: u64::MAX,
                ..generous()
            });
            code(
                relay
                    .directory()
                    .await
                    .register(RegisterRequest {
                        record: User::new("bob").record().to_bytes(),
                    })
                    .await,
            )
        }
        "ack-unknown" => {
            let (relay, alice) = with_alice(generous()).await;
            let mut directory = relay.directory().await;
            let ids = vec![12_345];
            let auth = alice
                .owner_auth(&mut directory, OwnerMethod::Ack, body::ack(&ids))
                .await;
            code(
                relay
                    .inbox()
                    .await
                    .ack(AckRequest {
                        handle: "alice".into(),
                        ids,
                        auth: Some(auth),
                    })
                    .await,
            )
        }
        "empty-last-resort" => {
            let (relay, alice) = with_alice(generous()).await;
            let last_resort = random::<256>().to_vec();
            publish(&relay, &alice, 0, last_resort.clone())
                .await
                .unwrap();
            let answer = code(publish(&relay, &alice, 0, Vec::new()).await);
            // The one held before is still handed out.
            let claimed = relay
                .directory()
                .await
                .claim_key_package(ClaimKeyPackageRequest {
                    handle: "alice".into(),
                })
                .await
                .unwrap()
                .into_inner();
            assert!(claimed.last_resort);
            assert_eq!(claimed.key_package, last_resort);
            answer
        }
        other => panic!("section 7 has a case this test cannot play: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_row_of_the_error_table_is_what_the_relay_answers() {
    let rows = table();
    assert!(rows.len() >= 20, "the table was not found: {rows:?}");
    let mut wrong = Vec::new();
    for (case, stated) in &rows {
        let answered = play(case).await;
        if answered != *stated {
            wrong.push(format!(
                "{case}: the table says {stated:?}, the relay answers {answered:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}
