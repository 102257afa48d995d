//! What the library's integration tests share: a client registered on a test relay, handles
//! and conversation names from test text.

// Each test crate uses only some of these.
#![allow(dead_code)]

use std::path::Path;

use parley_client::{Client, ClientBuilder, ConversationId, Handle, KdfParams, Passphrase};
use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, group_transcript, GroupMethod};
use parley_crypto::directory::SignedRecord;
use parley_crypto::identity::InboxPublicKey;
use parley_crypto::padding;
use parley_proto::v1::{CommitRequest, DepositRequest, GroupAuth, LookupRequest};
use parley_testkit::{now_ms, ManualClock, TestRelay};
use rand::rngs::OsRng;
use rand::RngCore;

/// The passphrase of every store these helpers make.
pub(crate) const PASSPHRASE: &str = "test passphrase";

/// How every client here is made: of `relay` (TLS, its fingerprint pinned), its store in
/// `home`.
fn builder(relay: &TestRelay, home: &Path) -> ClientBuilder {
    Client::builder()
        .home(home)
        .passphrase(Passphrase::new(PASSPHRASE.to_owned()))
        .kdf_params(KdfParams::insecure_for_tests())
        .relay(relay.url())
        .relay_fingerprint(relay.fingerprint().unwrap())
}

/// A client of `relay` (TLS, its fingerprint pinned) with its store in `home`.
pub(crate) async fn open(relay: &TestRelay, home: &Path) -> Client {
    builder(relay, home).build().await.unwrap()
}

/// [`open`] with the client's time read from `clock` instead of the system's.
pub(crate) async fn open_on_clock(relay: &TestRelay, home: &Path, clock: &ManualClock) -> Client {
    builder(relay, home)
        .clock(std::sync::Arc::new(clock.clone()))
        .build()
        .await
        .unwrap()
}

/// [`open`], registered as `handle`.
pub(crate) async fn registered(relay: &TestRelay, home: &Path, handle: &str) -> Client {
    let client = open(relay, home).await;
    client.register(&h(handle)).await.unwrap();
    client
}

/// People registered on `relay` (each its own store) in a group `name` the first of them
/// created with all the others, who have read their invitations.
pub(crate) struct People {
    /// The clients, in the order named.
    pub(crate) clients: Vec<Client>,
    /// Their stores' directories (kept as long as the clients).
    _homes: Vec<tempfile::TempDir>,
}

/// See [`People`].
pub(crate) async fn group_of(relay: &TestRelay, name: &str, handles: &[&str]) -> People {
    let homes: Vec<tempfile::TempDir> = handles
        .iter()
        .map(|_| tempfile::TempDir::new().unwrap())
        .collect();
    let mut clients = Vec::new();
    for (handle, home) in handles.iter().zip(&homes) {
        clients.push(registered(relay, home.path(), handle).await);
    }
    let others: Vec<Handle> = handles[1..].iter().map(|o| h(o)).collect();
    clients[0].create_group(name, &others).await.unwrap();
    for other in &clients[1..] {
        other.sync().await.unwrap();
    }
    People {
        clients,
        _homes: homes,
    }
}

/// A handle from test text.
pub(crate) fn h(text: &str) -> Handle {
    text.parse().unwrap()
}

/// The texts `who`'s next sync brings.
pub(crate) async fn next_texts(who: &Client) -> Vec<String> {
    who.sync()
        .await
        .unwrap()
        .messages
        .iter()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect()
}

/// `Groups/Read` calls `relay` saw since its recorder was last cleared (a relay started
/// with `record_connections`).
pub(crate) fn reads(relay: &TestRelay) -> usize {
    relay
        .connections()
        .iter()
        .flat_map(|c| c.methods.iter())
        .filter(|method| *method == "Read")
        .count()
}

/// The conversation a name means, by the library's one rule.
pub(crate) async fn to(client: &Client, name: &str) -> ConversationId {
    client.resolve(name).await.unwrap()
}

/// `handle` and its inbox key, as the directory serves them.
pub(crate) async fn inbox_of(relay: &TestRelay, handle: &str) -> (Handle, InboxPublicKey) {
    let record = relay
        .directory()
        .await
        .lookup(LookupRequest {
            handle: handle.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .record;
    let record = SignedRecord::decode_and_verify(&record)
        .unwrap()
        .into_record();
    (record.handle, record.inbox_key)
}

/// Deposits `envelope` into `handle`'s inbox, as anyone may.
pub(crate) async fn deposit(relay: &TestRelay, handle: &str, envelope: Vec<u8>) {
    relay
        .inbox()
        .await
        .deposit(DepositRequest {
            handle: handle.into(),
            envelope,
        })
        .await
        .unwrap();
}

/// `member` commits garbage to `conversation` (its name for it) with the epoch's access key
/// and a next key of its own: what the relay cannot tell from a real commit, and nobody
/// can process. Returns the group id.
pub(crate) async fn commit_garbage(
    relay: &TestRelay,
    member: &Client,
    conversation: &str,
) -> [u8; 32] {
    let (group_id, epoch, key) = member
        .group_access_for_tests(&to(member, conversation).await)
        .await
        .unwrap();
    let mut junk = vec![0u8; 300];
    OsRng.fill_bytes(&mut junk);
    let message = padding::pad(&junk, 0).unwrap();
    let mut secret = [0u8; 32];
    OsRng.fill_bytes(&mut secret);
    let next = AccessKey::from_exporter_secret(&secret)
        .public_key()
        .to_bytes();
    let timestamp_ms = now_ms();
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let transcript = group_transcript(
        GroupMethod::Commit,
        &group_id,
        epoch,
        timestamp_ms,
        &nonce,
        &body::commit(&message, &next),
    );
    relay
        .groups()
        .await
        .commit(CommitRequest {
            group_id: group_id.to_vec(),
            epoch,
            message,
            next_access_key: next.to_vec(),
            auth: Some(GroupAuth {
                timestamp_ms,
                nonce: nonce.to_vec(),
                signature: key.sign(&transcript).to_vec(),
            }),
        })
        .await
        .expect("the relay cannot tell garbage from a commit");
    group_id
}
