//! The client's relay connection against a real relay on 127.0.0.1:0: TLS pinning, probing,
//! plaintext to loopback, owner-authenticated inbox calls and access-key-guarded group logs.

use std::time::Duration;

use super::{GroupSubscriptionRequest, RelayConnection};
use crate::api::error::RelayError;
use crate::api::relay_url::RelayUrl;
use futures::StreamExt;
use parley_crypto::access::AccessKey;
use parley_crypto::directory::SignedRecord;
use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::padding;
use parley_testkit::{now_ms, TestRelay, TestUser as User};
use tokio::net::TcpListener;

/// The URLs and pin of a test relay as the client library takes them.
#[allow(async_fn_in_trait)]
trait AsClientSees {
    /// `https://127.0.0.1:PORT`, whatever the relay serves.
    fn https(&self) -> RelayUrl;
    /// `http://127.0.0.1:PORT`, whatever the relay serves.
    fn http(&self) -> RelayUrl;
    /// The certificate's fingerprint.
    fn pin(&self) -> String;
    /// A connection over TLS pinned to the certificate.
    async fn pinned(&self) -> RelayConnection;
}

impl AsClientSees for TestRelay {
    fn https(&self) -> RelayUrl {
        format!("https://127.0.0.1:{}", self.port())
            .parse()
            .unwrap()
    }

    fn http(&self) -> RelayUrl {
        format!("http://127.0.0.1:{}", self.port()).parse().unwrap()
    }

    fn pin(&self) -> String {
        self.fingerprint().unwrap()
    }

    async fn pinned(&self) -> RelayConnection {
        RelayConnection::connect(&self.https(), Some(&self.pin()))
            .await
            .unwrap()
    }
}

/// Registers `user` through the client's own connection.
async fn register(user: &User, relay: &RelayConnection) {
    relay.register(&user.record()).await.unwrap();
}

/// Colon-separated upper-case pairs, as some tools print fingerprints.
fn colon_form(hex: &str) -> String {
    hex.as_bytes()
        .chunks(2)
        .map(|pair| std::str::from_utf8(pair).unwrap().to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join(":")
}

#[tokio::test]
async fn pinned_tls_register_and_lookup() {
    let relay = TestRelay::start();
    assert_eq!(relay.pin().len(), 64);
    let conn = RelayConnection::connect(&relay.https(), Some(&colon_form(&relay.pin())))
        .await
        .unwrap();

    let alice = User::new("alice");
    let record = alice.record();
    conn.register(&record).await.unwrap();
    let fetched = conn.lookup(&alice.handle).await.unwrap();
    assert_eq!(fetched, record.to_bytes());
    let verified = SignedRecord::decode_and_verify(&fetched).unwrap();
    assert_eq!(verified.record().identity_key, alice.identity.public_key());

    // Same handle, different key: taken.
    let impostor = User::new("alice");
    assert!(matches!(
        conn.register(&impostor.record()).await,
        Err(RelayError::AlreadyExists)
    ));
    assert!(matches!(
        conn.lookup(&Handle::parse("nobody").unwrap()).await,
        Err(RelayError::NotFound)
    ));
}

#[tokio::test]
async fn wrong_pin_is_refused() {
    let relay = TestRelay::start();
    let mut wrong = relay.pin().to_owned();
    // Flip one hex digit: a near miss must fail as surely as a different certificate.
    let last = if wrong.ends_with('0') { "1" } else { "0" };
    wrong.replace_range(63..64, last);
    let err = RelayConnection::connect(&relay.https(), Some(&wrong))
        .await
        .unwrap_err();
    assert!(
        matches!(err, RelayError::Tls(_) | RelayError::Unreachable(_)),
        "{err:?}"
    );
    assert!(err.to_string().contains("pinned fingerprint"), "{err}");
}

#[tokio::test]
async fn unpinned_self_signed_relay_is_not_trusted() {
    let relay = TestRelay::start();
    match RelayConnection::connect(&relay.https(), None).await {
        // No system root vouches for a self-signed certificate.
        Err(RelayError::Tls(_)) => {}
        other => panic!("expected a TLS error, got {other:?}"),
    }
}

#[tokio::test]
async fn invalid_pin_is_refused_before_connecting() {
    let relay = TestRelay::start();
    let err = RelayConnection::connect(&relay.https(), Some("abcd"))
        .await
        .unwrap_err();
    assert!(matches!(err, RelayError::InvalidUrl(_)), "{err:?}");
}

#[tokio::test]
async fn probe_reports_the_relay_fingerprint() {
    let relay = TestRelay::start();
    let probed = RelayConnection::probe_fingerprint(&relay.https(), None)
        .await
        .unwrap();
    assert_eq!(probed.to_hex(), relay.pin());
    // The probed value is directly usable as a pin.
    RelayConnection::connect(&relay.https(), Some(&probed.to_hex()))
        .await
        .unwrap();
}

#[tokio::test]
async fn plaintext_to_loopback_relay() {
    let relay = TestRelay::plaintext();
    assert!(relay.fingerprint().is_none());
    let conn = RelayConnection::connect(&relay.http(), None).await.unwrap();
    let bob = User::new("bob");
    let record = bob.record();
    conn.register(&record).await.unwrap();
    assert_eq!(conn.lookup(&bob.handle).await.unwrap(), record.to_bytes());

    // A pin cannot be checked over plaintext, and there is no certificate to probe.
    let pin = "00".repeat(32);
    assert!(matches!(
        RelayConnection::connect(&relay.http(), Some(&pin)).await,
        Err(RelayError::InvalidUrl(_))
    ));
    assert!(matches!(
        RelayConnection::probe_fingerprint(&relay.http(), None).await,
        Err(RelayError::InvalidUrl(_))
    ));
}

#[tokio::test]
async fn remote_plaintext_is_refused() {
    match "http://example.com:1".parse::<RelayUrl>() {
        Err(RelayError::InvalidUrl(message)) => {
            assert!(message.contains("local development relay"), "{message}")
        }
        other => panic!("expected InvalidUrl, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_relay() {
    // Bind then drop, so nothing listens on the port.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    let url: RelayUrl = format!("https://127.0.0.1:{port}").parse().unwrap();
    let pin = "00".repeat(32);
    assert!(matches!(
        RelayConnection::connect(&url, Some(&pin)).await,
        Err(RelayError::Unreachable(_))
    ));
    let url: RelayUrl = format!("http://127.0.0.1:{port}").parse().unwrap();
    assert!(matches!(
        RelayConnection::connect(&url, None).await,
        Err(RelayError::Unreachable(_))
    ));
}

#[tokio::test]
async fn inbox_fetch_and_ack_need_the_owner() {
    let relay = TestRelay::start();
    let conn = relay.pinned().await;
    let alice = User::new("alice");
    let bob = User::new("bob");
    register(&alice, &conn).await;
    register(&bob, &conn).await;

    let first = alice.seal_to(&bob, b"hello bob");
    let second = alice.seal_to(&bob, b"second");
    conn.deposit(&bob.handle, &first).await.unwrap();
    conn.deposit(&bob.handle, &second).await.unwrap();

    // Alice's key does not open Bob's inbox.
    assert!(matches!(
        conn.fetch_inbox(&bob.handle, &alice.identity, 10).await,
        Err(RelayError::PermissionDenied)
    ));

    let deliveries = conn
        .fetch_inbox(&bob.handle, &bob.identity, 0)
        .await
        .unwrap();
    assert_eq!(deliveries.len(), 2);
    assert_eq!(deliveries[0].envelope, first);
    assert_eq!(deliveries[1].envelope, second);
    assert!(deliveries[0].id < deliveries[1].id);
    let opened = envelope::open(&deliveries[0].envelope, &bob.handle, &bob.inbox).unwrap();
    assert_eq!(opened.sender(), &alice.handle);

    let limited = conn
        .fetch_inbox(&bob.handle, &bob.identity, 1)
        .await
        .unwrap();
    assert_eq!(limited.len(), 1);

    assert!(matches!(
        conn.ack_inbox(&bob.handle, &alice.identity, &[deliveries[0].id])
            .await,
        Err(RelayError::PermissionDenied)
    ));
    conn.ack_inbox(&bob.handle, &bob.identity, &[deliveries[0].id])
        .await
        .unwrap();
    let left = conn
        .fetch_inbox(&bob.handle, &bob.identity, 10)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].id, deliveries[1].id);
}

#[tokio::test]
async fn inbox_subscription_delivers_new_envelopes() {
    let relay = TestRelay::start();
    let conn = relay.pinned().await;
    let alice = User::new("alice");
    let bob = User::new("bob");
    register(&alice, &conn).await;
    register(&bob, &conn).await;

    let waiting = alice.seal_to(&bob, b"already there");
    conn.deposit(&bob.handle, &waiting).await.unwrap();
    let mut stream = conn
        .subscribe_inbox(&bob.handle, &bob.identity)
        .await
        .unwrap();
    let first = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.envelope, waiting);

    let fresh = alice.seal_to(&bob, b"just now");
    conn.deposit(&bob.handle, &fresh).await.unwrap();
    let second = tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(second.envelope, fresh);
    assert!(second.id > first.id);
}

#[tokio::test]
async fn key_packages_are_claimed_once_then_last_resort() {
    let relay = TestRelay::start();
    let conn = relay.pinned().await;
    let carol = User::new("carol");
    register(&carol, &conn).await;
    let kps = vec![vec![1u8; 512], vec![2u8; 512]];
    let last_resort = vec![9u8; 512];

    let stranger = User::new("mallory");
    assert!(matches!(
        conn.publish_key_packages(&carol.handle, &stranger.identity, &kps, None)
            .await,
        Err(RelayError::PermissionDenied)
    ));
    let available = conn
        .publish_key_packages(&carol.handle, &carol.identity, &kps, Some(&last_resort))
        .await
        .unwrap();
    assert_eq!(available, 2);

    let mut claimed = vec![
        conn.claim_key_package(&carol.handle).await.unwrap(),
        conn.claim_key_package(&carol.handle).await.unwrap(),
    ];
    claimed.sort();
    assert_eq!(claimed, kps);
    assert_eq!(
        conn.claim_key_package(&carol.handle).await.unwrap(),
        last_resort
    );
}

#[tokio::test]
async fn group_create_post_commit_read_and_subscribe() {
    let relay = TestRelay::start();
    let conn = relay.pinned().await;
    let group_id = [42u8; 32];
    let key0 = AccessKey::from_exporter_secret(&[1u8; 32]);
    let key1 = AccessKey::from_exporter_secret(&[2u8; 32]);
    let outsider = AccessKey::from_exporter_secret(&[3u8; 32]);

    conn.create_group(&group_id, &key0, now_ms()).await.unwrap();
    assert!(matches!(
        conn.create_group(&group_id, &outsider, now_ms()).await,
        Err(RelayError::AlreadyExists)
    ));

    let hello = padding::pad(b"hello group", 0).unwrap();
    let seq0 = conn
        .post(&group_id, 0, &key0, &hello, now_ms())
        .await
        .unwrap();
    assert!(matches!(
        conn.post(&group_id, 0, &outsider, &hello, now_ms()).await,
        Err(RelayError::PermissionDenied)
    ));

    let page = conn
        .read(&group_id, 0, &key0, 0, 0, now_ms())
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].seq, seq0);
    assert_eq!(page.entries[0].message, hello);
    assert!(!page.entries[0].commit);
    assert_eq!(page.current_epoch, 0);

    let mut notices = conn
        .subscribe_groups(
            &[GroupSubscriptionRequest {
                group_id,
                epoch: 0,
                access: &key0,
            }],
            now_ms(),
        )
        .await
        .unwrap();

    let commit = padding::pad(b"commit to epoch 1", 0).unwrap();
    let commit_seq = conn
        .commit(&group_id, 0, &key0, &commit, &key1.public_key(), now_ms())
        .await
        .unwrap();
    assert!(commit_seq > seq0);
    // The losing side of a commit race, and stale posts, see the epoch conflict.
    assert!(matches!(
        conn.commit(&group_id, 0, &key0, &commit, &key1.public_key(), now_ms())
            .await,
        Err(RelayError::EpochConflict)
    ));
    assert!(matches!(
        conn.post(&group_id, 0, &key0, &hello, now_ms()).await,
        Err(RelayError::EpochConflict)
    ));

    let notice = tokio::time::timeout(Duration::from_secs(10), notices.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(notice.group_id, group_id);
    assert_eq!(notice.seq, commit_seq);

    let after = padding::pad(b"in epoch 1", 0).unwrap();
    let seq1 = conn
        .post(&group_id, 1, &key1, &after, now_ms())
        .await
        .unwrap();
    // Epoch 0's key does not read epoch 1.
    assert!(matches!(
        conn.read(&group_id, 1, &key0, 0, 0, now_ms()).await,
        Err(RelayError::PermissionDenied)
    ));
    let page = conn
        .read(&group_id, 1, &key1, 0, 100, now_ms())
        .await
        .unwrap();
    assert_eq!(page.current_epoch, 1);
    assert_eq!(page.entries.len(), 1);
    assert_eq!(page.entries[0].seq, seq1);
    assert_eq!(page.entries[0].epoch, 1);
    assert_eq!(page.entries[0].message, after);
    assert_eq!(page.next_seq, seq1 + 1);

    let old = conn
        .read(&group_id, 0, &key0, 0, 100, now_ms())
        .await
        .unwrap();
    assert_eq!(old.entries.len(), 2);
    assert!(old.entries[1].commit);
    assert_eq!(old.entries[1].message, commit);
}

#[tokio::test]
async fn group_requests_with_a_stale_timestamp_are_refused() {
    let relay = TestRelay::plaintext();
    let conn = RelayConnection::connect(&relay.http(), None).await.unwrap();
    let key0 = AccessKey::from_exporter_secret(&[7u8; 32]);
    let an_hour_ago = now_ms() - 3_600_000;
    assert!(matches!(
        conn.create_group(&[9u8; 32], &key0, an_hour_ago).await,
        Err(RelayError::PermissionDenied | RelayError::InvalidArgument(_))
    ));
}
