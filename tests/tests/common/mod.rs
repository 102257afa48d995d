//! Shared harness: clients in temporary homes, raw protocol members and a tampering relay in
//! front of the real one (the real relay on loopback is parley_testkit's TestRelay).

// Each test binary uses a different part of the harness.
#![allow(dead_code)]

pub(crate) mod converge;
pub(crate) mod linking;
pub(crate) mod named;
pub(crate) mod raw;
pub(crate) mod tamper;

use std::collections::HashMap;
use std::fmt::Debug;
use std::ops::Deref;
use std::path::Path;
use std::time::{Duration, Instant};

use parley_client::{Client, ClientBuilder, ClientError, KdfParams, Message, Passphrase};
use tempfile::TempDir;
use tonic::{Code, Response, Status};

pub(crate) use named::Named;
pub(crate) use parley_testkit::{now_ms, TestRelay};

/// The status the relay answers a request whose signature it does not accept.
pub(crate) const DENIED: tonic::Code = tonic::Code::PermissionDenied;

/// How long a test waits for something that should happen promptly.
pub(crate) const PATIENCE: Duration = Duration::from_secs(8);

/// The passphrase of every test client's store.
pub(crate) const PASSPHRASE: &str = "correct horse battery staple";

/// A builder for `home` with the test passphrase and cheap KDF parameters (tests create many
/// stores; the default 64 MiB would make the suite slow without testing anything more).
pub(crate) fn builder(home: &Path) -> ClientBuilder {
    Client::builder()
        .home(home)
        .passphrase(Passphrase::new(PASSPHRASE.to_owned()))
        .kdf_params(KdfParams::insecure_for_tests())
}

/// A client in its own temporary home; it can go offline (dropped) and come back from its home.
pub(crate) struct TestClient {
    pub(crate) home: TempDir,
    pub(crate) handle: String,
    client: Option<Client>,
}

impl TestClient {
    /// Builds a client in a fresh home pointed at `url` (pinned to `fingerprint` if given) and
    /// registers `handle`.
    pub(crate) async fn register(url: &str, fingerprint: Option<&str>, handle: &str) -> TestClient {
        let home = tempfile::tempdir().unwrap();
        let mut builder = builder(home.path()).relay(url);
        if let Some(fp) = fingerprint {
            builder = builder.relay_fingerprint(fp);
        }
        let client = builder.build().await.unwrap();
        let who = client.register_as(handle).await.unwrap();
        assert_eq!(who.handle, handle);
        TestClient {
            home,
            handle: handle.to_owned(),
            client: Some(client),
        }
    }

    /// Drops the client: nothing of it runs until [`TestClient::online`].
    pub(crate) fn offline(&mut self) {
        self.client = None;
    }

    /// Builds the client again from its home (the relay and pin were stored at register()).
    pub(crate) async fn online(&mut self) {
        self.client = None;
        self.client = Some(build_from_home(self.home.path()).await);
    }
}

/// Opens a client from an existing home, retrying while the previous instance's store lock
/// is still being released.
pub(crate) async fn build_from_home(home: &Path) -> Client {
    let deadline = Instant::now() + PATIENCE;
    loop {
        match builder(home).build().await {
            Ok(client) => return client,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("client did not reopen from {}: {e}", home.display()),
        }
    }
}

impl Deref for TestClient {
    type Target = Client;

    fn deref(&self) -> &Client {
        self.client.as_ref().expect("client is offline")
    }
}

/// Syncs until at least `count` new messages arrived (or the patience ran out), then once
/// more so that late duplicates would show; returns everything sync returned.
pub(crate) async fn sync_until(client: &Client, count: usize) -> Vec<Message> {
    let deadline = Instant::now() + PATIENCE;
    let mut all = Vec::new();
    while all.len() < count && Instant::now() < deadline {
        all.extend(said(client.fetch().await.unwrap()));
        if all.len() < count {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    all.extend(said(client.fetch().await.unwrap()));
    all
}

/// What people wrote: the messages without the changes of members (joined, added, removed)
/// that sync also returns.
pub(crate) fn said(messages: Vec<Message>) -> Vec<Message> {
    messages
        .into_iter()
        .filter(|m| !m.body.is_membership())
        .collect()
}

/// The texts of what people wrote, in order (changes of members left out).
pub(crate) fn texts(messages: &[Message]) -> Vec<String> {
    messages
        .iter()
        .filter(|m| !m.body.is_membership())
        .map(|m| m.text().unwrap_or_default().to_owned())
        .collect()
}

/// Asserts that `messages` are exactly `expected` as (conversation, sender, text), each once
/// and in order.
/// A group someone else added us to is named `inviter/title`; the expectations name it by
/// its title, the same for every member.
pub(crate) fn assert_messages(messages: &[Message], expected: &[(&str, &str, &str)]) {
    let got: Vec<(String, String, String)> = messages
        .iter()
        .filter(|m| !m.body.is_membership())
        .map(|m| {
            (
                title_of(&m.conversation_name),
                m.sender.to_string(),
                m.text().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, String, String)> = expected
        .iter()
        .map(|(c, s, t)| ((*c).to_owned(), (*s).to_owned(), (*t).to_owned()))
        .collect();
    assert_eq!(got, want);
}

/// Asserts that every text occurs exactly once in `messages`, and nothing else does (changes
/// of members aside).
pub(crate) fn assert_each_once(messages: &[Message], expected: &[&str]) {
    let messages = said(messages.to_vec());
    let messages = messages.as_slice();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for m in messages {
        *counts.entry(m.text().unwrap_or_default()).or_default() += 1;
    }
    for text in expected {
        assert_eq!(
            counts.get(text).copied(),
            Some(1),
            "{text:?} should occur exactly once in {:?}",
            texts(messages)
        );
    }
    assert_eq!(
        messages.len(),
        expected.len(),
        "unexpected extra messages: {:?}",
        texts(messages)
    );
}

/// The title of a conversation name: a group we were added to is `inviter/title`.
pub(crate) fn title_of(name: &str) -> String {
    name.split_once('/')
        .map_or(name, |(_, title)| title)
        .to_owned()
}

/// What `client` calls the conversation titled `title`: the title itself (our own group, a
/// 1:1), or `inviter/title` for the one group someone added us to under that title.
pub(crate) async fn local(client: &Client, title: &str) -> String {
    let names: Vec<String> = client
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.name)
        .collect();
    if names.iter().any(|n| n == title) {
        return title.to_owned();
    }
    let invited: Vec<&String> = names
        .iter()
        .filter(|n| n.split_once('/').is_some_and(|(_, t)| t == title))
        .collect();
    match invited.as_slice() {
        [one] => (*one).clone(),
        _ => title.to_owned(),
    }
}

/// The handles of a conversation's members as one client sees them, with identity keys,
/// sorted.
pub(crate) async fn roster(client: &Client, conversation: &str) -> Vec<(String, String)> {
    let conversation = local(client, conversation).await;
    let mut members: Vec<(String, String)> = client
        .members_of(&conversation)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.handle.to_string(), m.identity_key))
        .collect();
    members.sort();
    members
}

/// The handles only of [`roster`].
pub(crate) async fn member_handles(client: &Client, conversation: &str) -> Vec<String> {
    roster(client, conversation)
        .await
        .into_iter()
        .map(|(h, _)| h)
        .collect()
}

/// True for the errors a client reports when a peer's key does not match the pinned one.
pub(crate) fn is_key_refusal(e: &ClientError) -> bool {
    matches!(
        e,
        ClientError::KeyChanged(_) | ClientError::UntrustedMember(_)
    )
}

/// Every file under `dir`, recursively, with its bytes.
pub(crate) fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(path) = stack.pop() {
        for entry in std::fs::read_dir(&path).unwrap() {
            let entry = entry.unwrap();
            let p = entry.path();
            if entry.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out
}

/// Offsets of every occurrence of `needle` in `hay`.
pub(crate) fn find_all(hay: &[u8], needle: &[u8]) -> Vec<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return Vec::new();
    }
    hay.windows(needle.len())
        .enumerate()
        .filter(|(_, w)| *w == needle)
        .map(|(i, _)| i)
        .collect()
}

/// True if `needle` occurs in `hay`.
pub(crate) fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

/// Asserts that a unary call failed with exactly `code`.
#[track_caller]
pub(crate) fn expect_code<T: Debug>(result: Result<Response<T>, Status>, code: Code) {
    match result {
        Ok(response) => panic!("expected {code:?}, got {:?}", response.into_inner()),
        Err(status) => assert_eq!(status.code(), code, "{status:?}"),
    }
}

/// A server stream refused either before its first message or as its first message.
pub(crate) async fn expect_stream_code<T: Debug>(
    result: Result<Response<tonic::Streaming<T>>, Status>,
    code: Code,
) {
    match result {
        Err(status) => assert_eq!(status.code(), code, "{status:?}"),
        Ok(response) => {
            let mut stream = response.into_inner();
            match stream.message().await {
                Err(status) => assert_eq!(status.code(), code, "{status:?}"),
                Ok(item) => panic!("expected {code:?}, got {item:?}"),
            }
        }
    }
}
