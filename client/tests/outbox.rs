//! The outbox against a real relay that goes away and comes back: what is written while it
//! is down waits in the store and is sent, in the order written, once it is back; what can
//! never be sent is refused at once or kept with its reason, never silently dropped.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{h, registered};
use parley_client::{Client, ClientError, ConversationId, SendOutcome};
use parley_testkit::TestRelay;
use tempfile::TempDir;

fn homes<const N: usize>() -> [TempDir; N] {
    std::array::from_fn(|_| tempfile::tempdir().unwrap())
}

/// The texts `client` has received, in the order its sync returned them.
async fn received(client: &Client) -> Vec<String> {
    client
        .sync()
        .await
        .unwrap()
        .written()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect()
}

fn queued(outcome: SendOutcome) -> parley_client::QueuedMessage {
    match outcome {
        SendOutcome::Queued(queued) => queued,
        other => panic!("expected the message to be queued, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_while_the_relay_is_down_are_sent_in_order_when_it_is_back() {
    let mut relay = TestRelay::start();
    let [a, b, c] = homes();
    let alice = registered(&relay, a.path(), "alice").await;
    let bob = registered(&relay, b.path(), "bob").await;
    let carol = registered(&relay, c.path(), "carol").await;
    let to_bob = alice.resolve("bob").await.unwrap();
    alice.send_text(&to_bob, "before").await.unwrap();
    let team = alice.create_group("team", &[h("bob")]).await.unwrap();
    assert_eq!(received(&bob).await, ["before"]);

    relay.stop().await;
    // An existing 1:1, a group, and a person with no 1:1 yet: all kept.
    let first = queued(alice.send_or_queue(&to_bob, "one").await.unwrap());
    queued(alice.send_or_queue(&team, "to the team").await.unwrap());
    queued(alice.send_or_queue(&to_bob, "two").await.unwrap());
    let to_carol = ConversationId::Direct(h("carol"));
    queued(alice.send_or_queue(&to_carol, "hello carol").await.unwrap());
    assert_eq!(first.conversation_name, "bob");
    assert!(first.failed.is_none());
    let waiting = alice.outbox().await.unwrap();
    assert_eq!(
        waiting.iter().map(|q| q.text.as_str()).collect::<Vec<_>>(),
        ["one", "to the team", "two", "hello carol"]
    );
    assert_eq!(waiting[1].conversation_name, "team");
    // A flush while the relay is still down sends nothing and loses nothing.
    let report = alice.flush_outbox().await.unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(report.waiting, 4);

    relay.restart().await;
    // A new message goes behind the waiting ones, never ahead of them.
    match alice.send_or_queue(&to_bob, "three").await.unwrap() {
        SendOutcome::Sent(message) => assert_eq!(message.text(), Some("three")),
        other => panic!("the relay is back, yet {other:?}"),
    }
    assert!(alice.outbox().await.unwrap().is_empty());
    // In the order written: per conversation as received, and across them by send time.
    let report = bob.sync().await.unwrap();
    let got: Vec<(&str, &str, u64)> = report
        .written()
        .map(|m| {
            (
                m.conversation_name.as_str(),
                m.text().unwrap(),
                m.sent_at_ms,
            )
        })
        .collect();
    let in_conversation = |name: &str| -> Vec<&str> {
        got.iter()
            .filter(|(c, _, _)| *c == name)
            .map(|(_, t, _)| *t)
            .collect()
    };
    assert_eq!(in_conversation("alice"), ["one", "two", "three"]);
    assert_eq!(in_conversation("alice/team"), ["to the team"]);
    let at = |text: &str| got.iter().find(|(_, t, _)| *t == text).unwrap().2;
    assert!(at("one") <= at("to the team") && at("to the team") <= at("two"));
    assert_eq!(received(&carol).await, ["hello carol"]);
    // Each was sent once.
    assert!(received(&bob).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_could_never_be_sent_is_refused_before_it_is_kept() {
    let mut relay = TestRelay::start();
    let [a, b] = homes();
    let alice = registered(&relay, a.path(), "alice").await;
    let _bob = registered(&relay, b.path(), "bob").await;
    relay.stop().await;

    let me = ConversationId::Direct(h("alice"));
    assert!(matches!(
        alice.send_or_queue(&me, "to myself").await,
        Err(ClientError::CannotMessageSelf)
    ));
    assert!(matches!(
        alice
            .send_or_queue(&ConversationId::Direct(h("bob")), "   ")
            .await,
        Err(ClientError::EmptyMessage)
    ));
    let too_long = "x".repeat(64 * 1024 + 1);
    assert!(matches!(
        alice
            .send_or_queue(&ConversationId::Direct(h("bob")), &too_long)
            .await,
        Err(ClientError::MessageTooLong)
    ));
    assert!(alice.outbox().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_that_fails_for_another_reason_is_kept_with_it_and_can_be_cancelled() {
    let mut relay = TestRelay::start();
    let [a, b, c] = homes();
    let alice = registered(&relay, a.path(), "alice").await;
    let bob = registered(&relay, b.path(), "bob").await;
    let _carol = registered(&relay, c.path(), "carol").await;
    alice
        .create_group("team", &[h("bob"), h("carol")])
        .await
        .unwrap();
    bob.sync().await.unwrap();
    let team = bob.resolve("alice/team").await.unwrap();

    // Bob writes to the team while his relay link is down; meanwhile Alice removes him.
    relay.stop().await;
    let kept = queued(bob.send_or_queue(&team, "my last word").await.unwrap());
    relay.restart().await;
    alice
        .remove_member(&alice.resolve("team").await.unwrap(), &h("bob"))
        .await
        .unwrap();

    let report = bob.flush_outbox().await.unwrap();
    assert!(report.sent.is_empty());
    assert_eq!(report.failed.len(), 1);
    let reason = report.failed[0].failed.clone().unwrap();
    assert!(reason.contains("not a member"), "{reason}");
    // Kept, with its reason, and not retried by later flushes.
    let listed = bob.outbox().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].text, "my last word");
    assert_eq!(listed[0].failed.as_deref(), Some(reason.as_str()));
    let again = bob.flush_outbox().await.unwrap();
    assert!(again.sent.is_empty() && again.failed.is_empty() && again.waiting == 0);

    assert!(bob.cancel_queued(kept.id).await.unwrap());
    assert!(!bob.cancel_queued(kept.id).await.unwrap());
    assert!(bob.outbox().await.unwrap().is_empty());
    // Nobody in the team ever read it.
    let texts: Vec<String> = alice
        .sync()
        .await
        .unwrap()
        .written()
        .filter_map(|m| m.text().map(str::to_owned))
        .collect();
    assert!(!texts.contains(&"my last word".to_owned()), "{texts:?}");
}
