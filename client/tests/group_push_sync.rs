//! A push from a group makes the event stream read that group's log, not sync everything:
//! in a busy room, every message used to make every member fetch its inbox and count its
//! KeyPackages at the relay (two signed challenges and five calls per member per message).

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::{group_of, h, next_texts, reads, to};
use futures::StreamExt;
use parley_client::Event;
use parley_testkit::{TestRelay, Touch};

/// Owner calls (inbox, KeyPackages, challenges) the relay saw for `handle` so far.
fn owner_calls(relay: &TestRelay, handle: &str) -> usize {
    relay
        .connections()
        .iter()
        .flat_map(|c| c.touches.iter())
        .filter(|t| matches!(t, Touch::Owner(owner) if owner == handle))
        .count()
}

/// A page that reaches the end of the log (the relay says which sequence number comes next)
/// ends the sync of that group: the second, empty read each member made for every message
/// was one signed call and one signature check at the relay more, on the way to the screen.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_reads_a_log_once_when_a_page_reaches_its_end() {
    let relay = TestRelay::builder().record_connections().start();
    let people = group_of(&relay, "talks", &["alice", "bob"]).await;
    let [alice, bob] = &people.clients[..] else {
        unreachable!()
    };
    let room = to(alice, "talks").await;

    alice.send_text(&room, "one").await.unwrap();
    relay.recorder().clear();
    assert_eq!(next_texts(bob).await, ["one"]);
    assert_eq!(reads(&relay), 1, "one new message, one read");

    relay.recorder().clear();
    assert!(next_texts(bob).await.is_empty());
    assert_eq!(reads(&relay), 1, "nothing new, one read");

    // Longer than a page (100 entries): the first page does not reach the end, the second
    // does; nothing is left behind.
    for i in 0..150 {
        alice.send_text(&room, &format!("m{i}")).await.unwrap();
    }
    relay.recorder().clear();
    let texts = next_texts(bob).await;
    let expected: Vec<String> = (0..150).map(|i| format!("m{i}")).collect();
    assert_eq!(texts, expected);
    assert_eq!(reads(&relay), 2, "two pages, no empty read after them");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn room_messages_reach_the_event_stream_without_owner_calls() {
    const MESSAGES: usize = 8;
    let relay = TestRelay::builder().record_connections().start();
    let people = group_of(&relay, "talks", &["alice", "bob", "carol"]).await;
    let [alice, bob, carol] = &people.clients[..] else {
        unreachable!()
    };
    let room = to(alice, "talks").await;

    let mut events = Box::pin(bob.events());
    // The stream's first full sync (and its subscriptions) happen before the count starts.
    alice.send_text(&room, "first").await.unwrap();
    let first = next_text(&mut events).await;
    assert_eq!(first, "first");
    let before = owner_calls(&relay, "bob");

    for i in 0..MESSAGES {
        let sender = if i % 2 == 0 { &alice } else { &carol };
        let room = if i % 2 == 0 {
            room.clone()
        } else {
            to(carol, "alice/talks").await
        };
        sender.send_text(&room, &format!("m{i}")).await.unwrap();
        assert_eq!(next_text(&mut events).await, format!("m{i}"));
    }
    let during = owner_calls(&relay, "bob") - before;
    assert_eq!(
        during, 0,
        "bob's event stream made {during} owner calls for {MESSAGES} room messages"
    );

    // The inbox still syncs on its own pushes: a 1:1 from carol (an invitation to bob's
    // inbox) arrives through the stream, with owner calls.
    carol.send_text(&h("bob").into(), "direct").await.unwrap();
    assert_eq!(next_text(&mut events).await, "direct");
    assert!(owner_calls(&relay, "bob") > before);
}

/// A room's message comes with its notice: the members' event streams show it without
/// reading the log (before, every member made one signed read per message, and the relay
/// checked one signature per member and message).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_room_messages_are_shown_without_a_read() {
    const MESSAGES: usize = 6;
    let relay = TestRelay::builder().record_connections().start();
    let people = group_of(&relay, "talks", &["alice", "bob", "carol"]).await;
    let [alice, bob, carol] = &people.clients[..] else {
        unreachable!()
    };
    let room = to(alice, "talks").await;
    let mut bobs = Box::pin(bob.events());
    let mut carols = Box::pin(carol.events());
    alice.send_text(&room, "first").await.unwrap();
    assert_eq!(next_text(&mut bobs).await, "first");
    assert_eq!(next_text(&mut carols).await, "first");

    relay.recorder().clear();
    for i in 0..MESSAGES {
        let text = format!("m{i}");
        alice.send_text(&room, &text).await.unwrap();
        assert_eq!(next_text(&mut bobs).await, text);
        assert_eq!(next_text(&mut carols).await, text);
    }
    // Alice's own group connection (the one that posted) still reads her last entry back
    // before her next post lands after it; the members' connections read nothing.
    let members_reads: usize = relay
        .connections()
        .iter()
        .filter(|c| !c.methods.iter().any(|m| m == "Post"))
        .flat_map(|c| c.methods.iter())
        .filter(|method| *method == "Read")
        .count();
    assert_eq!(members_reads, 0, "messages pushed, none read");
    assert!(
        reads(&relay) <= MESSAGES,
        "alice reads her own back at most"
    );
    // And they are in the histories, in order, once.
    assert_eq!(room_texts(carol).await, first_then(MESSAGES));
}

/// A pushed message is shown without waiting for the disk: what its processing wrote is
/// what the relay still holds, and reaches the disk with sled's own flush or the next write
/// that waits (a crash in between shows it again: tests/tests/crash_client.rs). Waiting was
/// one flush per message received.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_room_messages_are_shown_without_waiting_for_the_disk() {
    const MESSAGES: usize = 6;
    let relay = TestRelay::start();
    let people = group_of(&relay, "talks", &["alice", "bob", "carol"]).await;
    let [alice, bob, _carol] = &people.clients[..] else {
        unreachable!()
    };
    let room = to(alice, "talks").await;
    let mut bobs = Box::pin(bob.events());
    alice.send_text(&room, "first").await.unwrap();
    assert_eq!(next_text(&mut bobs).await, "first");

    let before = bob.store_flushes_for_tests();
    for i in 0..MESSAGES {
        let text = format!("m{i}");
        alice.send_text(&room, &text).await.unwrap();
        assert_eq!(next_text(&mut bobs).await, text);
    }
    let waited = bob.store_flushes_for_tests() - before;
    // One is allowed: the stream's fallback sync, should its timer fall in the loop.
    assert!(
        waited <= 1,
        "{waited} waits for the disk for {MESSAGES} messages"
    );

    // They are kept all the same, in order, once.
    drop(bobs);
    assert_eq!(room_texts(bob).await, first_then(MESSAGES));
}

/// What people wrote in alice's room "talks", from `client`'s stored history, oldest first.
async fn room_texts(client: &parley_client::Client) -> Vec<String> {
    let room = to(client, "alice/talks").await;
    let history = client.history(&room, None).await.unwrap();
    history
        .iter()
        .filter(|m| !m.body.is_membership())
        .filter_map(|m| m.text().map(str::to_owned))
        .collect()
}

/// "first", then "m0" to "m{n-1}".
fn first_then(n: usize) -> Vec<String> {
    let mut texts = vec!["first".to_owned()];
    texts.extend((0..n).map(|i| format!("m{i}")));
    texts
}

/// The text of the next written message from the event stream.
async fn next_text(
    events: &mut (impl futures::Stream<Item = Result<Event, parley_client::ClientError>> + Unpin),
) -> String {
    loop {
        let event = tokio::time::timeout(Duration::from_secs(20), events.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on")
            .unwrap();
        if let Event::Message(message) = event {
            if let Some(text) = message.text() {
                if !message.body.is_membership() {
                    return text.to_owned();
                }
            }
        }
    }
}
