//! A relay pushes a room's small entries with their notices, so that members need not read
//! them. A pushed entry is taken only where it continues the member's log, in its epoch,
//! and goes through every check a read one does: a relay lying through pushes (an earlier
//! message again, garbage, an entry of another epoch or place) gets nothing shown twice,
//! nothing false, and the honest log is still read.

// Test helpers outside #[test] functions: a failed step should stop the test loudly.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(test)]
mod common;

use std::collections::HashMap;

use common::tamper::{flipped, TamperProxy};
use common::{local, Named, TestClient, TestRelay, PATIENCE};
use futures::stream::BoxStream;
use futures::StreamExt;
use parley_client::{ClientError, Event};
use parley_proto::v1::GroupNotice;

type Events = BoxStream<'static, Result<Event, ClientError>>;
/// A change made to a notice on its way (false drops it).
type Rewrite = fn(&mut GroupNotice) -> bool;

/// Alice on the relay, bob behind a tampering proxy, in a group "g" alice made; bob's event
/// stream running and caught up.
async fn bob_behind_a_proxy() -> (TestRelay, TamperProxy, TestClient, TestClient, Events) {
    let relay = TestRelay::start();
    let proxy = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&relay.url(), relay.fingerprint().as_deref(), "alice").await;
    let bob = TestClient::register(&proxy.url(), None, "bob").await;
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    bob.fetch().await.unwrap();
    let mut events: Events = bob.events().boxed();
    // The stream is subscribed once a message reaches it.
    alice.say("g", "warm-up").await.unwrap();
    assert_eq!(texts_until(&mut events, "warm-up").await, ["warm-up"]);
    (relay, proxy, alice, bob, events)
}

/// The texts `events` shows until `last` (included); fails if `last` does not come within
/// [`PATIENCE`].
async fn texts_until(events: &mut Events, last: &str) -> Vec<String> {
    let mut seen = Vec::new();
    let wait = async {
        while let Some(event) = events.next().await {
            if let Ok(Event::Message(m)) = event {
                if m.body.is_membership() {
                    continue;
                }
                let text = m.text().unwrap_or_default().to_owned();
                seen.push(text.clone());
                if text == last {
                    return;
                }
            }
        }
        panic!("the event stream ended");
    };
    tokio::time::timeout(PATIENCE, wait)
        .await
        .unwrap_or_else(|_| panic!("{last:?} did not arrive within {PATIENCE:?}"));
    seen
}

/// Applies `rewrite` to the next notice that carries an entry (false drops it), then lets
/// the rest through.
fn on_next_pushed(
    proxy: &TamperProxy,
    mut rewrite: impl FnMut(&mut GroupNotice) -> bool + Send + 'static,
) {
    let mut done = false;
    proxy.with(|t| {
        t.rewrite_notices = Some(Box::new(move |notice| {
            if done || notice.entry.is_none() {
                return true;
            }
            done = true;
            rewrite(notice)
        }));
    });
}

/// The message of the entry the relay pushed with the notice of `text`'s position (the
/// last pushed so far).
fn last_pushed(proxy: &TamperProxy) -> Vec<u8> {
    proxy.with(|t| t.pushed.last().unwrap().entry.clone().unwrap().message)
}

/// Counts of each text in `texts`.
fn counts(texts: &[String]) -> HashMap<&str, usize> {
    let mut counts = HashMap::new();
    for text in texts {
        *counts.entry(text.as_str()).or_default() += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_entry_pushed_again_is_not_shown_twice() {
    let (_relay, proxy, alice, bob, mut events) = bob_behind_a_proxy().await;
    alice.say("g", "one").await.unwrap();
    assert_eq!(texts_until(&mut events, "one").await, ["one"]);
    let one = last_pushed(&proxy);

    // The next notice carries "one" again, at "two"'s position.
    on_next_pushed(&proxy, move |notice| {
        if let Some(entry) = notice.entry.as_mut() {
            entry.message = one.clone();
        }
        true
    });
    alice.say("g", "two").await.unwrap();
    alice.say("g", "three").await.unwrap();
    let shown = texts_until(&mut events, "three").await;
    assert!(!shown.contains(&"one".to_owned()), "shown again: {shown:?}");
    assert!(counts(&shown).values().all(|n| *n == 1), "{shown:?}");
    let history = bob.history_of(&local(&bob, "g").await, None).await.unwrap();
    let history: Vec<String> = common::texts(&history);
    assert!(counts(&history).values().all(|n| *n == 1), "{history:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_garbled_pushed_entry_shows_nothing_false() {
    let (_relay, proxy, alice, bob, mut events) = bob_behind_a_proxy().await;
    on_next_pushed(&proxy, |notice| {
        if let Some(entry) = notice.entry.as_mut() {
            entry.message = flipped(&entry.message);
        }
        true
    });
    alice.say("g", "garbled on the way").await.unwrap();
    alice.say("g", "after it").await.unwrap();
    let shown = texts_until(&mut events, "after it").await;
    // Nothing but what alice wrote, each at most once.
    for text in &shown {
        assert!(
            ["garbled on the way", "after it"].contains(&text.as_str()),
            "{shown:?}"
        );
    }
    assert!(counts(&shown).values().all(|n| *n == 1), "{shown:?}");
    drop(bob);
}

/// An entry claimed for another epoch (an old key must learn nothing newer) or another
/// position than its notice names is a relay breaking the protocol: the stream is dropped,
/// and the message arrives by the read that follows the new subscription.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_of_another_epoch_or_place_is_refused_and_the_message_read() {
    let another_epoch = |notice: &mut GroupNotice| {
        if let Some(entry) = notice.entry.as_mut() {
            entry.epoch += 1;
        }
        true
    };
    let another_place = |notice: &mut GroupNotice| {
        if let Some(entry) = notice.entry.as_mut() {
            entry.seq += 1;
        }
        true
    };
    let rewrites: [(&str, Rewrite); 2] = [("epoch", another_epoch), ("place", another_place)];
    for (what, rewrite) in rewrites {
        let (_relay, proxy, alice, _bob, mut events) = bob_behind_a_proxy().await;
        on_next_pushed(&proxy, rewrite);
        let read_before = proxy.with(|t| t.served_entries.len());
        alice.say("g", "refused push").await.unwrap();
        let shown = texts_until(&mut events, "refused push").await;
        assert_eq!(shown, ["refused push"], "{what}");
        let read = proxy.with(|t| t.served_entries.len()) - read_before;
        assert!(read >= 1, "{what}: the message came by a read");
    }
}

/// A notice the relay did not send (or coalesced with the next) leaves a gap before the
/// next pushed entry: the member reads the gap, and the pushed entry is not taken out of
/// order (it would have moved the member past the message it skipped, for good).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gap_before_a_pushed_entry_is_read_in_order() {
    let (_relay, proxy, alice, bob, mut events) = bob_behind_a_proxy().await;
    on_next_pushed(&proxy, |_| false);
    let pushed = proxy.with(|t| t.pushed.len());
    alice.say("g", "first").await.unwrap();
    // Its notice reached the proxy (and went no further) before the next message is sent.
    let deadline = std::time::Instant::now() + PATIENCE;
    while proxy.with(|t| t.pushed.len()) == pushed {
        assert!(
            std::time::Instant::now() < deadline,
            "no notice of the first message"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    alice.say("g", "second").await.unwrap();
    let shown = texts_until(&mut events, "second").await;
    assert_eq!(shown, ["first", "second"]);
    let history = bob.history_of(&local(&bob, "g").await, None).await.unwrap();
    assert_eq!(
        common::texts(&history),
        ["warm-up", "first", "second"],
        "the log's order"
    );
}
