//! The kit's promises about a relay's life: a restart after a kill keeps the port, the
//! certificate and what was acknowledged; a synchronous test can stop a relay; an async test
//! on a single-threaded runtime can stop a relay its clients are still connected to.

// Test code: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use parley_crypto::directory::DirectoryRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_proto::v1::{ChallengeRequest, LookupRequest, RegisterRequest};
use parley_testkit::{now_ms, TestRelay};
use rand::rngs::OsRng;

/// A directory record for `handle` under a fresh key, as bytes.
fn record(handle: &str) -> Vec<u8> {
    let identity = IdentitySecretKey::generate(&mut OsRng);
    DirectoryRecord {
        handle: Handle::parse(handle).unwrap(),
        identity_key: identity.public_key(),
        inbox_key: InboxSecretKey::generate(&mut OsRng).public_key(),
        record_version: 1,
        created_at_ms: now_ms(),
    }
    .sign(&identity)
    .unwrap()
    .to_bytes()
}

#[tokio::test]
async fn a_killed_relay_restarts_on_its_port_with_its_certificate_and_data() {
    let mut relay = TestRelay::start();
    let (port, fingerprint) = (relay.port(), relay.fingerprint());
    assert_eq!(fingerprint.as_deref().map(str::len), Some(64));
    let alice = record("alice");
    relay
        .directory()
        .await
        .register(RegisterRequest {
            record: alice.clone(),
        })
        .await
        .unwrap();

    relay.kill();
    relay.restart().await;
    assert_eq!(relay.port(), port);
    assert_eq!(relay.fingerprint(), fingerprint);
    let lookup = LookupRequest {
        handle: "alice".into(),
    };
    let found = relay.directory().await.lookup(lookup).await.unwrap();
    assert_eq!(
        found.into_inner().record,
        alice,
        "an acknowledged registration survives the kill"
    );
    relay.stop().await;
}

#[test]
fn a_synchronous_test_stops_a_relay_and_its_port_closes() {
    let mut relay = TestRelay::plaintext();
    assert!(relay.url().starts_with("http://127.0.0.1:"));
    assert_eq!(relay.fingerprint(), None);
    std::net::TcpStream::connect(relay.addr()).unwrap();
    relay.blocking_stop();
    assert!(std::net::TcpStream::connect(relay.addr()).is_err());
}

/// The relay's goodbye to a connection needs an answer from the client, whose connection
/// task runs on the test's one thread: the stop must not block that thread.
#[tokio::test(flavor = "current_thread")]
async fn stop_completes_while_the_tests_own_clients_are_connected() {
    let mut relay = TestRelay::start();
    let mut directory = relay.directory().await;
    directory
        .challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .unwrap();
    relay.stop().await;
    assert!(directory
        .challenge(ChallengeRequest {
            handle: "alice".into(),
        })
        .await
        .is_err());
}

/// `stop` promises the database is closed when it returns: an operator's offline command
/// (here `release_handle`) opens it at once. sled lets its file lock go only when its last
/// background write ends, a moment after the relay is gone, so this failed now and then
/// before `stop` waited for the lock itself.
#[tokio::test]
async fn after_a_stop_the_database_opens_at_once() {
    let mut relay = TestRelay::plaintext();
    for round in 0..20 {
        let mut directory = relay.directory().await;
        for i in 0..8 {
            directory
                .register(RegisterRequest {
                    record: record(&format!("user{round}x{i}")),
                })
                .await
                .unwrap();
        }
        relay.stop().await;
        let released = parley_relay::release_handle(relay.data_dir(), "nobody");
        assert!(
            released.is_ok(),
            "round {round}: the database was still locked after stop: {:?}",
            released.err().map(|e| e.to_string())
        );
        relay.restart().await;
    }
    relay.stop().await;
}
