//! Helpers for concurrent membership changes: retry on epoch conflicts, and checks that all
//! members converge.

use parley_client::RelayError;
use parley_client::{Client, ClientError};

use super::{local, roster, sync_until, Named, TestClient};

/// An epoch conflict that the caller is expected to resolve by syncing and retrying.
pub(crate) fn is_conflict(e: &ClientError) -> bool {
    matches!(e, ClientError::Relay(RelayError::EpochConflict))
}

pub(crate) async fn add_with_retry(client: &Client, group: &str, handle: &str) -> usize {
    let group = local(client, group).await;
    for attempt in 0..5 {
        match client.add(&group, handle).await {
            Ok(()) => return attempt,
            Err(e) if is_conflict(&e) => {
                client.fetch().await.unwrap();
            }
            Err(e) => panic!("adding {handle}: {e:?}"),
        }
    }
    panic!("adding {handle} kept conflicting");
}

pub(crate) async fn remove_with_retry(client: &Client, group: &str, handle: &str) -> usize {
    let group = local(client, group).await;
    for attempt in 0..5 {
        match client.remove(&group, handle).await {
            Ok(()) => return attempt,
            Err(e) if is_conflict(&e) => {
                client.fetch().await.unwrap();
            }
            Err(e) => panic!("removing {handle}: {e:?}"),
        }
    }
    panic!("removing {handle} kept conflicting");
}

pub(crate) async fn settle(clients: &[&TestClient]) {
    for _ in 0..2 {
        for c in clients {
            c.fetch().await.unwrap();
        }
    }
}

pub(crate) async fn assert_same_roster(clients: &[&TestClient], group: &str, expected: &[&str]) {
    let reference = roster(clients[0], group).await;
    let handles: Vec<&str> = reference.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(handles, expected);
    for c in &clients[1..] {
        assert_eq!(
            roster(c, group).await,
            reference,
            "{} sees another roster",
            c.handle
        );
    }
    let epoch = epoch_of(clients[0], group).await;
    for c in &clients[1..] {
        assert_eq!(
            epoch_of(c, group).await,
            epoch,
            "{} is in another epoch",
            c.handle
        );
    }
}

/// The MLS epoch a client's state of a conversation is in.
async fn epoch_of(client: &TestClient, group: &str) -> u64 {
    let group = local(client, group).await;
    client
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .find(|c| c.name == *group)
        .unwrap_or_else(|| panic!("{} has no conversation {group}", client.handle))
        .epoch
}

/// Every client posts; every other client receives exactly those posts.
pub(crate) async fn assert_all_reach_all(clients: &[&TestClient], group: &str, tag: &str) {
    for c in clients {
        c.say(&local(c, group).await, &format!("{tag} from {}", c.handle))
            .await
            .unwrap();
    }
    for c in clients {
        let mut want: Vec<String> = clients
            .iter()
            .filter(|o| o.handle != c.handle)
            .map(|o| format!("{tag} from {}", o.handle))
            .collect();
        want.sort();
        let mut got = super::texts(&sync_until(c, want.len()).await);
        got.sort();
        assert_eq!(got, want, "what {} received", c.handle);
    }
}
