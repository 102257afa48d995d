//! The integrator API against a real relay on loopback (TLS, pinned self-signed certificate)
//! and real sled stores in temporary directories.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use parley_client::{
    Client, ClientBuilder, ClientError, ConversationId, ConversationKind, ConversationState, Event,
    Handle, KdfParams, Message, MessageBody, Passphrase,
};
use parley_testkit::TestRelay;
use tempfile::TempDir;

const PASSPHRASE: &str = "test passphrase";

/// A builder for `home` with the test passphrase and cheap KDF parameters.
fn locked(home: &Path, passphrase: &str) -> ClientBuilder {
    Client::builder()
        .home(home)
        .passphrase(Passphrase::new(passphrase.to_owned()))
        .kdf_params(KdfParams::insecure_for_tests())
}

async fn open(relay: &TestRelay, home: &Path) -> Client {
    locked(home, PASSPHRASE)
        .relay(relay.url())
        .relay_fingerprint(relay.fingerprint().unwrap())
        .build()
        .await
        .unwrap()
}

async fn registered(relay: &TestRelay, home: &Path, handle: &str) -> Client {
    let client = open(relay, home).await;
    let me = client.register(&h(handle)).await.unwrap();
    assert_eq!(me.handle, handle);
    client
}

/// A handle from test text.
fn h(text: &str) -> Handle {
    text.parse().unwrap()
}

/// The conversation a name means, by the library's one rule.
async fn to(client: &Client, name: &str) -> ConversationId {
    client.resolve(name).await.unwrap()
}

/// What people wrote (changes of members, also returned, are left out), as (conversation,
/// sender, text).
fn texts(messages: &[Message]) -> Vec<(&str, &str, &str)> {
    messages
        .iter()
        .filter(|m| !m.body.is_membership())
        .map(|m| {
            (
                m.conversation_name.as_str(),
                m.sender.as_str(),
                m.text().unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_conversation_both_ways_with_the_peer_offline_at_send_time() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    // Bob registers and goes offline: his client is closed while Alice writes.
    drop(registered(&relay, homes.1.path(), "bob").await);

    let sent = alice
        .send_text(&to(&alice, "bob").await, "hi bob")
        .await
        .unwrap();
    assert_eq!(sent.conversation_name, "bob");
    assert_eq!(sent.sender, "alice");
    assert_eq!(sent.body, MessageBody::Text("hi bob".into()));
    alice
        .send_text(&to(&alice, "bob").await, "are you there?")
        .await
        .unwrap();

    let bob = open(&relay, homes.1.path()).await;
    let received = bob.sync().await.unwrap().messages;
    assert_eq!(
        texts(&received),
        [
            ("alice", "alice", "hi bob"),
            ("alice", "alice", "are you there?")
        ]
    );
    let conversations = bob.conversations().await.unwrap();
    assert_eq!(conversations.len(), 1);
    assert_eq!(conversations[0].name, "alice");
    assert_eq!(conversations[0].kind, ConversationKind::Direct);
    assert_eq!(conversations[0].members, 2);

    let reply = bob
        .send_text(&to(&bob, "alice").await, "hello alice")
        .await
        .unwrap();
    assert_eq!(reply.conversation_name, "alice");
    let received = alice.sync().await.unwrap().messages;
    assert_eq!(texts(&received), [("bob", "bob", "hello alice")]);
    // Still one conversation each: the reply went into the existing group.
    assert_eq!(alice.conversations().await.unwrap().len(), 1);

    let mut members: Vec<String> = alice
        .members(&to(&alice, "bob").await)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.handle.to_string())
        .collect();
    members.sort();
    assert_eq!(members, ["alice", "bob"]);
    let bob_key = bob.whoami().unwrap().identity_key;
    let listed = alice.members(&to(&alice, "bob").await).await.unwrap();
    assert!(listed
        .iter()
        .any(|m| m.handle == "bob" && m.identity_key == bob_key));

    let number = alice.safety_number(&h("bob")).await.unwrap();
    assert_eq!(number, bob.safety_number(&h("alice")).await.unwrap());
    assert_eq!(number.split(' ').count(), 12);
    assert!(bob
        .alerts()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_of_three_with_add_and_remove() {
    let relay = TestRelay::start();
    let dirs: Vec<TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = registered(&relay, dirs[0].path(), "alice").await;
    let bob = registered(&relay, dirs[1].path(), "bob").await;
    let carol = registered(&relay, dirs[2].path(), "carol").await;

    alice.create_group("team", &[h("bob")]).await.unwrap();
    assert!(matches!(
        alice.create_group("team", &[]).await,
        Err(ClientError::ConversationExists(_))
    ));
    alice
        .add_member(&to(&alice, "team").await, &h("carol"))
        .await
        .unwrap();
    assert!(matches!(
        alice
            .add_member(&to(&alice, "team").await, &h("carol"))
            .await,
        Err(ClientError::AlreadyAMember(_))
    ));
    alice
        .send_text(&to(&alice, "team").await, "welcome both")
        .await
        .unwrap();

    assert!(texts(&bob.sync().await.unwrap().messages).contains(&(
        "alice/team",
        "alice",
        "welcome both"
    )));
    assert_eq!(
        texts(&carol.sync().await.unwrap().messages),
        [("alice/team", "alice", "welcome both")]
    );
    assert_eq!(
        bob.members(&to(&bob, "alice/team").await)
            .await
            .unwrap()
            .len(),
        3
    );
    let info = carol.conversations().await.unwrap();
    assert_eq!(info[0].kind, ConversationKind::Group);
    assert_eq!(info[0].members, 3);
    assert_eq!(info[0].state, ConversationState::Active);
    assert!(info[0].state.can_post());

    carol
        .send_text(&to(&carol, "alice/team").await, "hi from carol")
        .await
        .unwrap();
    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice/team", "carol", "hi from carol")]
    );

    // Removing someone who is not in the group is refused.
    assert!(matches!(
        alice
            .remove_member(&to(&alice, "team").await, &h("dave"))
            .await,
        Err(ClientError::UnknownContact(_) | ClientError::NotAMember(_))
    ));
    alice
        .remove_member(&to(&alice, "team").await, &h("carol"))
        .await
        .unwrap();
    assert!(matches!(
        alice.remove_member(&to(&alice, "team").await, &h("carol")).await,
        Err(ClientError::NotAMember(h)) if h == "carol"
    ));
    alice
        .send_text(&to(&alice, "team").await, "carol is gone")
        .await
        .unwrap();
    bob.send_text(&to(&bob, "alice/team").await, "indeed")
        .await
        .unwrap();

    // Carol learns only that she was removed, and by whom.
    let carol_new = carol.sync().await.unwrap().messages;
    assert!(
        texts(&carol_new).is_empty(),
        "a removed member read {carol_new:?}"
    );
    assert_eq!(carol_new.len(), 1, "{carol_new:?}");
    assert_eq!(carol_new[0].sender, "alice");
    assert_eq!(carol_new[0].conversation_name, "alice/team");
    assert!(
        matches!(
            &carol_new[0].body,
            MessageBody::MembershipChanged { added, removed }
                if added.is_empty() && removed == &[h("carol")]
        ),
        "{carol_new:?}"
    );
    assert!(carol
        .alerts()
        .await
        .unwrap()
        .iter()
        .any(|a| a.to_string().contains("removed from alice/team by alice")));
    assert!(matches!(
        carol
            .send_text(&to(&carol, "alice/team").await, "let me back in")
            .await,
        Err(ClientError::NotAMember(_))
    ));
    // The list says so before any send is tried, so an application can offer no input.
    let info = carol.conversations().await.unwrap();
    assert_eq!(
        (info[0].name.as_str(), info[0].members, info[0].state),
        ("alice/team", 0, ConversationState::Removed)
    );
    assert!(!info[0].state.can_post());
    assert!(carol
        .history(&to(&carol, "alice/team").await, None)
        .await
        .unwrap()
        .iter()
        .all(|m| m.text() != Some("carol is gone")));

    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice/team", "alice", "carol is gone")]
    );
    assert_eq!(
        bob.members(&to(&bob, "alice/team").await)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        texts(&alice.sync().await.unwrap().messages),
        [
            ("team", "carol", "hi from carol"),
            ("team", "bob", "indeed")
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_history_return_each_message_once() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;

    for text in ["one", "two", "three"] {
        alice
            .send_text(&to(&alice, "bob").await, text)
            .await
            .unwrap();
    }
    let first = bob.sync().await.unwrap().messages;
    // Being added to the conversation comes first, as an entry of its own.
    assert!(
        matches!(
            &first[0].body,
            MessageBody::Joined { members, from_stranger: true }
                if members == &[h("alice"), h("bob")]
        ),
        "{first:?}"
    );
    assert_eq!(
        first[1..]
            .iter()
            .map(|m| m.text().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["one", "two", "three"]
    );
    assert!(first[0].body.is_membership());
    assert!(bob.sync().await.unwrap().messages.is_empty());

    let history = bob.history(&to(&bob, "alice").await, None).await.unwrap();
    assert_eq!(history, first);
    let latest = bob
        .history(&to(&bob, "alice").await, Some(2))
        .await
        .unwrap();
    assert_eq!(
        latest
            .iter()
            .map(|m| m.text().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["two", "three"]
    );

    // The sender's history holds its own messages, once, in order.
    let mine = alice.history(&to(&alice, "bob").await, None).await.unwrap();
    assert_eq!(
        mine.iter()
            .map(|m| m.text().unwrap_or_default())
            .collect::<Vec<_>>(),
        ["one", "two", "three"]
    );
    assert!(mine.iter().all(|m| m.sender == "alice"));
    assert!(alice.sync().await.unwrap().messages.is_empty());
    assert_eq!(
        alice
            .history(&to(&alice, "bob").await, None)
            .await
            .unwrap()
            .len(),
        3
    );

    assert!(matches!(
        alice.history(&to(&alice, "nobody").await, None).await,
        Err(ClientError::UnknownConversation(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopened_client_continues_where_it_left_off() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    let alice_id = alice.whoami().unwrap();
    alice
        .send_text(&to(&alice, "bob").await, "before restart")
        .await
        .unwrap();
    assert_eq!(texts(&bob.sync().await.unwrap().messages).len(), 1);
    // Both wrote their MLS state packed only (what the reopening reads back).
    for client in [&alice, &bob] {
        let (packed, json) = client.mls_record_forms_for_tests().unwrap();
        assert!(packed > 0 && json == 0, "{packed} packed, {json} JSON");
    }
    drop(alice);
    drop(bob);

    // Opened without a relay address: the stored one is used.
    let alice = locked(homes.0.path(), PASSPHRASE).build().await.unwrap();
    assert_eq!(alice.whoami().unwrap(), alice_id);
    assert!(matches!(
        alice.register(&h("alice2")).await,
        Err(ClientError::AlreadyInitialized)
    ));
    alice
        .send_text(&to(&alice, "bob").await, "after restart")
        .await
        .unwrap();

    let bob = open(&relay, homes.1.path()).await;
    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice", "alice", "after restart")]
    );
    bob.send_text(&to(&bob, "alice").await, "got both")
        .await
        .unwrap();
    assert_eq!(
        texts(&alice.sync().await.unwrap().messages),
        [("bob", "bob", "got both")]
    );
    assert_eq!(
        texts(&bob.history(&to(&bob, "alice").await, None).await.unwrap()).len(),
        3
    );
    assert_eq!(
        alice
            .history(&to(&alice, "bob").await, None)
            .await
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_handle_is_refused_and_nothing_is_saved() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let _alice = registered(&relay, homes.0.path(), "alice").await;

    let impostor = open(&relay, homes.1.path()).await;
    match impostor.register(&h("alice")).await {
        Err(ClientError::HandleTaken(h)) => assert_eq!(h, "alice"),
        other => panic!("expected HandleTaken, got {other:?}"),
    }
    assert!(matches!(
        impostor.whoami(),
        Err(ClientError::NotInitialized)
    ));
    assert!(matches!(
        impostor.sync().await,
        Err(ClientError::NotInitialized)
    ));
    drop(impostor);
    let reopened = open(&relay, homes.1.path()).await;
    assert!(matches!(
        reopened.whoami(),
        Err(ClientError::NotInitialized)
    ));
    // The same home can still register a free handle.
    reopened.register(&h("mallory")).await.unwrap();
    assert!(matches!(
        reopened.register(&h("someone-else")).await,
        Err(ClientError::AlreadyInitialized)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_errors_are_typed() {
    let relay = TestRelay::start();
    let home = tempfile::tempdir().unwrap();
    let fresh = open(&relay, tempfile::tempdir().unwrap().path()).await;
    // A handle is checked when it is made, before the client sees it.
    assert!("Not A Handle".parse::<Handle>().is_err());
    drop(fresh);
    let alice = registered(&relay, home.path(), "alice").await;
    assert!(matches!(
        alice.send_text(&to(&alice, "bob").await, "   \n").await,
        Err(ClientError::EmptyMessage)
    ));
    let long = "x".repeat(64 * 1024 + 1);
    assert!(matches!(
        alice.send_text(&to(&alice, "bob").await, &long).await,
        Err(ClientError::MessageTooLong)
    ));
    assert!(matches!(
        alice.resolve("no such group!").await,
        Err(ClientError::UnknownConversation(_))
    ));
    let err = alice
        .send_text(&to(&alice, "nobody").await, "hi")
        .await
        .unwrap_err();
    assert!(matches!(err, ClientError::UnknownContact(ref h) if h == "nobody"));
    assert_eq!(
        err.to_string(),
        "the relay does not know anyone called nobody"
    );
    assert!(matches!(
        alice.send_text(&to(&alice, "alice").await, "hi me").await,
        Err(ClientError::CannotMessageSelf)
    ));
    assert!(alice.conversations().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_relay_is_reported_as_such() {
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let home = tempfile::tempdir().unwrap();
    let client = locked(home.path(), PASSPHRASE)
        .relay(format!("https://127.0.0.1:{port}"))
        .relay_fingerprint("00".repeat(32))
        .build()
        .await
        .unwrap();
    let err = client.register(&h("alice")).await.unwrap_err();
    assert!(matches!(err, ClientError::RelayUnreachable(_)), "{err:?}");
    assert!(matches!(client.whoami(), Err(ClientError::NotInitialized)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_stream_pushed_messages() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    let mut events = bob.events();

    alice
        .send_text(&to(&alice, "bob").await, "first")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !seen.contains(&"first".to_owned()) {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("no event in time")
            .expect("stream ended")
            .unwrap();
        match event {
            Event::Message(m) if !m.body.is_membership() => {
                seen.push(m.text().unwrap_or_default().to_owned());
            }
            _ => {}
        }
    }
    // The group subscription (made after joining) delivers later messages too.
    alice
        .send_text(&to(&alice, "bob").await, "second")
        .await
        .unwrap();
    while !seen.contains(&"second".to_owned()) {
        let event = tokio::time::timeout_at(deadline, events.next())
            .await
            .expect("no event in time")
            .expect("stream ended")
            .unwrap();
        match event {
            Event::Message(m) if !m.body.is_membership() => {
                seen.push(m.text().unwrap_or_default().to_owned());
            }
            _ => {}
        }
    }
    assert_eq!(seen, ["first", "second"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_in_the_inbox_raises_an_alert_and_does_not_block_later_deliveries() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;

    // Deposits are anonymous: anyone can drop bytes into bob's inbox.
    let mut inbox = relay.inbox().await;
    inbox
        .deposit(parley_proto::v1::DepositRequest {
            handle: "bob".into(),
            envelope: vec![0x01; 512],
        })
        .await
        .unwrap();
    alice
        .send_text(&to(&alice, "bob").await, "real message")
        .await
        .unwrap();

    let received = bob.sync().await.unwrap().messages;
    assert_eq!(texts(&received), [("alice", "alice", "real message")]);
    let alerts = bob
        .alerts()
        .await
        .unwrap()
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    // Acknowledged and remembered: nothing comes back.
    assert!(bob.sync().await.unwrap().messages.is_empty());
    assert_eq!(
        bob.alerts()
            .await
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .len(),
        1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_relay_serving_a_different_key_for_a_pinned_handle_is_refused() {
    let honest = TestRelay::start();
    let evil = TestRelay::start();
    let dirs: Vec<TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = registered(&honest, dirs[0].path(), "alice").await;
    let _bob = registered(&honest, dirs[1].path(), "bob").await;
    alice
        .send_text(&to(&alice, "bob").await, "pinning you")
        .await
        .unwrap();
    let number = alice.safety_number(&h("bob")).await.unwrap();
    drop(alice);

    // Another "bob" with another key, served by the relay alice now talks to.
    let _fake_bob = registered(&evil, dirs[2].path(), "bob").await;
    let alice = open(&evil, dirs[0].path()).await;
    let err = alice.create_group("trap", &[h("bob")]).await.unwrap_err();
    assert!(
        matches!(err, ClientError::KeyChanged(ref h) if h == "bob"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "bob's identity key has changed since you last verified it; sending is blocked until you re-verify"
    );
    assert!(alice
        .alerts()
        .await
        .unwrap()
        .iter()
        .any(|a| a.to_string().contains("bob's identity key has changed")));
    // The pin was not replaced, and no group was created.
    assert_eq!(alice.safety_number(&h("bob")).await.unwrap(), number);
    assert!(alice
        .conversations()
        .await
        .unwrap()
        .iter()
        .all(|c| c.name != "trap"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_packages_fall_back_to_last_resort_and_are_topped_up_by_sync() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;

    // Claims from several addresses: one source alone gets only its share of bob's claims.
    let mut sources = Vec::new();
    for last in 10..13 {
        let source = std::net::IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, last));
        sources.push(parley_proto::v1::directory_client::DirectoryClient::new(
            relay.channel_from(source).await,
        ));
    }
    let mut turn = 0usize;
    let mut claim = async || {
        turn += 1;
        let count = sources.len();
        sources[turn % count]
            .claim_key_package(parley_proto::v1::ClaimKeyPackageRequest {
                handle: "bob".into(),
            })
            .await
            .unwrap()
            .into_inner()
            .key_package
    };
    let mut claimed = Vec::new();
    for _ in 0..27 {
        claimed.push(claim().await);
    }
    let distinct: std::collections::HashSet<&Vec<u8>> = claimed.iter().collect();
    // 25 one-time packages, then the same last-resort one.
    assert_eq!(distinct.len(), 26);
    assert_eq!(claimed[25], claimed[26]);

    // The last-resort package still lets alice start a conversation.
    alice
        .send_text(&to(&alice, "bob").await, "via last resort")
        .await
        .unwrap();
    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice", "alice", "via last resort")]
    );
    // That sync topped bob up: fresh one-time packages again.
    let mut fresh = std::collections::HashSet::new();
    for _ in 0..5 {
        fresh.insert(claim().await);
    }
    assert_eq!(fresh.len(), 5);
    assert!(!fresh.contains(&claimed[25]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_and_posts_are_retried() {
    let relay = TestRelay::start();
    let dirs: Vec<TempDir> = (0..4).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = registered(&relay, dirs[0].path(), "alice").await;
    let bob = registered(&relay, dirs[1].path(), "bob").await;
    let carol = registered(&relay, dirs[2].path(), "carol").await;
    let dave = registered(&relay, dirs[3].path(), "dave").await;

    alice.create_group("team", &[h("bob")]).await.unwrap();
    // Two admins, so that both may change who is in the room.
    alice
        .promote(&to(&alice, "team").await, &h("bob"))
        .await
        .unwrap();
    bob.sync().await.unwrap();
    // Both commit in the same epoch: one loses the race, syncs and retries.
    let (team_a, team_b) = (to(&alice, "team").await, to(&bob, "alice/team").await);
    let (carol_h, dave_h) = (h("carol"), h("dave"));
    let (a, b, c) = tokio::join!(
        alice.add_member(&team_a, &carol_h),
        bob.add_member(&team_b, &dave_h),
        alice.send_text(&team_a, "racing"),
    );
    a.unwrap();
    b.unwrap();
    c.unwrap();
    bob.send_text(&to(&bob, "alice/team").await, "after the race")
        .await
        .unwrap();

    for (client, name) in [
        (&alice, "team"),
        (&bob, "alice/team"),
        (&carol, "alice/team"),
        // Dave was added by bob: a group is named after whoever added us to it.
        (&dave, "bob/team"),
    ] {
        client.sync().await.unwrap();
        let mut members: Vec<String> = client
            .members(&to(client, name).await)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.handle.to_string())
            .collect();
        members.sort();
        assert_eq!(members, ["alice", "bob", "carol", "dave"]);
    }
    let history = dave
        .history(&to(&dave, "bob/team").await, None)
        .await
        .unwrap();
    assert_eq!(history.last().unwrap().text(), Some("after the race"));
    let bobs = bob
        .history(&to(&bob, "alice/team").await, None)
        .await
        .unwrap();
    assert_eq!(
        bobs.iter().filter(|m| m.text() == Some("racing")).count(),
        1
    );
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<std::path::PathBuf, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                files.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passphrase_is_required() {
    let home = tempfile::tempdir().unwrap();
    for builder in [
        Client::builder().home(home.path()),
        Client::builder()
            .home(home.path())
            .passphrase(Passphrase::new(String::new())),
    ] {
        assert!(matches!(
            builder.build().await,
            Err(ClientError::PassphraseRequired)
        ));
    }
    assert_eq!(std::fs::read_dir(home.path()).unwrap().count(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_passphrase_is_refused_and_changes_nothing() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    alice
        .send_text(&to(&alice, "bob").await, "before the wrong passphrase")
        .await
        .unwrap();
    bob.sync().await.unwrap();
    drop(bob);
    // Reopen once so that sled's own housekeeping at open is done before the comparison.
    drop(open(&relay, homes.1.path()).await);

    let before = snapshot(homes.1.path());
    for attempt in ["wrong", "Test passphrase", "test passphrase "] {
        let result = locked(homes.1.path(), attempt)
            .relay(relay.url())
            .build()
            .await;
        assert!(
            matches!(result, Err(ClientError::WrongPassphrase)),
            "{attempt:?}"
        );
    }
    assert_eq!(
        ClientError::WrongPassphrase.to_string(),
        "the passphrase is wrong"
    );
    assert_eq!(snapshot(homes.1.path()), before, "a file changed");

    // The right one still opens it, and the conversation continues.
    let bob = open(&relay, homes.1.path()).await;
    assert_eq!(
        texts(&bob.history(&to(&bob, "alice").await, None).await.unwrap()).len(),
        1
    );
    alice
        .send_text(&to(&alice, "bob").await, "after")
        .await
        .unwrap();
    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice", "alice", "after")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_passphrase_replaces_the_old_one() {
    let relay = TestRelay::start();
    let homes = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let alice = registered(&relay, homes.0.path(), "alice").await;
    let bob = registered(&relay, homes.1.path(), "bob").await;
    alice
        .send_text(&to(&alice, "bob").await, "one")
        .await
        .unwrap();
    bob.sync().await.unwrap();

    assert!(matches!(
        bob.change_passphrase(Passphrase::new(String::new())).await,
        Err(ClientError::PassphraseRequired)
    ));
    bob.change_passphrase(Passphrase::new("new passphrase".to_owned()))
        .await
        .unwrap();
    // The running client carries on.
    bob.send_text(&to(&bob, "alice").await, "two")
        .await
        .unwrap();
    drop(bob);

    assert!(matches!(
        locked(homes.1.path(), PASSPHRASE).build().await,
        Err(ClientError::WrongPassphrase)
    ));
    let bob = locked(homes.1.path(), "new passphrase")
        .build()
        .await
        .unwrap();
    assert_eq!(bob.whoami().unwrap().handle, "bob");
    assert_eq!(
        texts(&bob.history(&to(&bob, "alice").await, None).await.unwrap()).len(),
        2
    );
    alice
        .send_text(&to(&alice, "bob").await, "three")
        .await
        .unwrap();
    assert_eq!(
        texts(&bob.sync().await.unwrap().messages),
        [("alice", "alice", "three")]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builder_does_not_show_the_passphrase() {
    let builder = locked(Path::new("/nowhere"), "hunter2-secret");
    let shown = format!("{builder:?}");
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("passphrase"), "{shown}");
}

/// A group of two named after its creator is a 1:1 for the invitee; a third person added to
/// it later would hear what was meant for one, so every client refuses the addition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_third_person_is_never_added_to_a_1to1() {
    let relay = TestRelay::start();
    let dirs: Vec<TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let alice = registered(&relay, dirs[0].path(), "alice").await;
    let mallory = registered(&relay, dirs[1].path(), "mallory").await;
    let _dave = registered(&relay, dirs[2].path(), "dave").await;

    mallory
        .create_group("mallory", &[h("alice")])
        .await
        .unwrap();
    alice.sync().await.unwrap();
    let listed = alice.conversations().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].name.as_str(), listed[0].kind),
        ("mallory", ConversationKind::Direct)
    );
    // Our own API refuses to grow a 1:1 outright.
    assert!(matches!(
        alice
            .add_member(&to(&alice, "mallory").await, &h("dave"))
            .await,
        Err(ClientError::NotAGroup(_))
    ));

    // Mallory's side calls it a group and adds dave: alice's client refuses the change.
    mallory
        .add_member(&to(&mallory, "mallory").await, &h("dave"))
        .await
        .unwrap();
    alice.sync().await.unwrap();
    let quarantined = alice.quarantined().await.unwrap();
    assert!(
        quarantined.iter().any(|q| q
            .reason
            .contains("tried to add someone to your private conversation")),
        "{quarantined:?}"
    );
    let members: Vec<String> = alice
        .members(&to(&alice, "mallory").await)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.handle.to_string())
        .collect();
    assert_eq!(members, ["mallory", "alice"]);
    // Whatever alice writes now cannot reach dave: the relay refuses her old epoch.
    assert!(alice
        .send_text(&to(&alice, "mallory").await, "for mallory only")
        .await
        .is_err());
}

/// The TLS configuration integrators get for speaking the wire themselves trusts the pinned
/// relay and no other certificate, as the client's own connections do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pinned_tls_config_trusts_the_pinned_relay_alone() {
    use rustls::pki_types::ServerName;
    use tokio_rustls::TlsConnector;

    let relay = TestRelay::start();
    let right = parley_client::Fingerprint::parse(&relay.fingerprint().unwrap()).unwrap();
    let wrong = parley_client::Fingerprint::parse(&"ab".repeat(32)).unwrap();
    let mut outcomes = Vec::new();
    for pin in [&right, &wrong] {
        let config = parley_client::pinned_tls_config(pin).await.unwrap();
        assert_eq!(config.alpn_protocols, [b"h2".to_vec()]);
        let tcp = tokio::net::TcpStream::connect(relay.addr()).await.unwrap();
        let name = ServerName::IpAddress(relay.addr().ip().into());
        outcomes.push(TlsConnector::from(config).connect(name, tcp).await.is_ok());
    }
    assert_eq!(outcomes, [true, false]);
}
