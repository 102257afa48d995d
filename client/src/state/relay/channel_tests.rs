//! The client's connections against a real relay that records them: pooled channels are
//! reused, one-offs are not, idle ones close (and reopen on demand), a held one stays.

use std::time::Duration;

use parley_crypto::access::AccessKey;
use parley_crypto::handle::Handle;
use parley_testkit::{now_ms, TestRelay, TestUser as User};

use super::channels::Channels;
use super::RelayConnection;
use crate::api::error::RelayError;

/// A group read that the relay refuses (no such group: the one answer it gives every
/// request that does not authenticate) but records.
async fn read(conn: &RelayConnection, group: u8) {
    let key = AccessKey::from_exporter_secret(&[7u8; 32]);
    let read = conn.read(&[group; 32], 0, &key, 0, 10, now_ms()).await;
    assert!(
        matches!(read, Err(RelayError::PermissionDenied)),
        "{read:?}"
    );
}

/// How many recorded connections carried owner calls, groups, and anonymous calls.
fn counts(relay: &TestRelay) -> (usize, usize, usize) {
    let connections = relay.connections();
    let owner = connections
        .iter()
        .filter(|c| !c.owners().is_empty())
        .count();
    let group = connections
        .iter()
        .filter(|c| !c.groups().is_empty())
        .count();
    let anonymous = connections
        .iter()
        .filter(|c| !c.anonymous().is_empty())
        .count();
    (owner, group, anonymous)
}

#[tokio::test]
async fn pooled_channels_are_reused_one_offs_are_not_and_idle_ones_close() {
    let relay = TestRelay::builder()
        .plaintext()
        .record_connections()
        .start();
    let idle = Duration::from_millis(300);
    let channels = Channels::new(relay.url().parse().unwrap(), None, None).with_idle_timeout(idle);
    let alice = User::new("alice");

    channels
        .owner()
        .await
        .unwrap()
        .register(&alice.record())
        .await
        .unwrap();
    let again = channels
        .owner()
        .await
        .unwrap()
        .register(&alice.record())
        .await;
    assert!(matches!(again, Err(RelayError::AlreadyExists)));
    for _ in 0..2 {
        let nobody = Handle::parse("nobody").unwrap();
        let lookup = channels.one_off().await.unwrap().lookup(&nobody).await;
        assert!(matches!(lookup, Err(RelayError::NotFound)));
    }
    read(&channels.group(&[1; 32]).await.unwrap(), 1).await;
    read(&channels.group(&[1; 32]).await.unwrap(), 1).await;
    read(&channels.group(&[2; 32]).await.unwrap(), 2).await;
    assert_eq!(counts(&relay), (1, 2, 2));
    assert_eq!(channels.pooled_count(), 3);

    // Held, a connection stays however long it is idle; the others close.
    let held = channels.group(&[1; 32]).await.unwrap();
    tokio::time::sleep(idle * 3).await;
    assert_eq!(channels.pooled_count(), 1);
    drop(held);
    tokio::time::sleep(idle * 3).await;
    assert_eq!(channels.pooled_count(), 0);

    // Needed again, it opens again: a new connection.
    read(&channels.group(&[1; 32]).await.unwrap(), 1).await;
    assert_eq!(counts(&relay), (1, 3, 2));
}
