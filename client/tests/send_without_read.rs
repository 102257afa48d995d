//! A send posts first and reads the group's log only when it has to: when the relay refuses
//! the post because the group moved to a new epoch, or when others posted ahead of us (read
//! before ours is recorded, so every history keeps the log's order). What a read brings may
//! forbid the message: the checks run again after it.

// Test helpers outside #[test] functions fail loudly too.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{group_of, h, next_texts, reads, registered, to};
use parley_client::{
    Client, ClientError, ConversationId, Role, RosterEdit, Side, WorkshopError, WorkshopPlan,
};
use parley_testkit::TestRelay;
use tempfile::TempDir;

/// The written texts of a conversation's history, as "sender: text", in its order.
async fn history(who: &Client, conversation: &ConversationId) -> Vec<String> {
    who.history(conversation, None)
        .await
        .unwrap()
        .iter()
        .filter_map(|m| m.text().map(|t| format!("{}: {t}", m.sender)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_with_nothing_new_to_read_makes_no_read() {
    let relay = TestRelay::builder().record_connections().start();
    let people = group_of(&relay, "talks", &["alice", "bob"]).await;
    let [alice, bob] = &people.clients[..] else {
        unreachable!()
    };
    let room = to(alice, "talks").await;

    relay.recorder().clear();
    alice.send_text(&room, "one").await.unwrap();
    assert_eq!(reads(&relay), 0, "nothing new: no read");
    // Our own last entry is read back before the next one is recorded (a relay that put
    // something else in its place would be noticed): one read, nothing reported.
    relay.recorder().clear();
    alice.send_text(&room, "two").await.unwrap();
    assert_eq!(reads(&relay), 1);
    assert!(next_texts(alice).await.is_empty());

    assert_eq!(next_texts(bob).await, ["one", "two"]);
    let bobs_room = to(bob, "alice/talks").await;
    bob.send_text(&bobs_room, "three").await.unwrap();
    // A conversation: the read that brings the answer also brings our own entry back.
    assert_eq!(next_texts(alice).await, ["three"]);
    relay.recorder().clear();
    alice.send_text(&room, "four").await.unwrap();
    assert_eq!(reads(&relay), 0, "everything read already: no read");
    assert_eq!(next_texts(bob).await, ["four"]);

    let expected = ["alice: one", "alice: two", "bob: three", "alice: four"];
    assert_eq!(history(alice, &room).await, expected);
    assert_eq!(history(bob, &bobs_room).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_others_posted_first_is_recorded_before_our_message_and_reported_once() {
    let relay = TestRelay::builder().record_connections().start();
    let people = group_of(&relay, "talks", &["alice", "bob", "carol"]).await;
    let [alice, bob, carol] = &people.clients[..] else {
        unreachable!()
    };
    let room = to(alice, "talks").await;
    let bobs_room = to(bob, "alice/talks").await;
    let carols_room = to(carol, "alice/talks").await;

    bob.send_text(&bobs_room, "b1").await.unwrap();
    carol.send_text(&carols_room, "c1").await.unwrap();
    bob.send_text(&bobs_room, "b2").await.unwrap();
    // Alice has not read any of them.
    relay.recorder().clear();
    alice.send_text(&room, "a1").await.unwrap();
    assert_eq!(reads(&relay), 1, "one read for what came first");

    let expected = ["bob: b1", "carol: c1", "bob: b2", "alice: a1"];
    assert_eq!(history(alice, &room).await, expected);
    // Read during the send, they are still reported to alice, once.
    assert_eq!(next_texts(alice).await, ["b1", "c1", "b2"]);
    assert!(next_texts(alice).await.is_empty());
    assert_eq!(next_texts(bob).await, ["c1", "a1"]);
    assert_eq!(history(bob, &bobs_room).await, expected);
    assert_eq!(history(carol, &carols_room).await, ["bob: b1", "carol: c1"]);
    // b1, read during carol's own send, is reported with what her sync brings.
    assert_eq!(next_texts(carol).await, ["b1", "b2", "a1"]);
    assert_eq!(history(carol, &carols_room).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_into_a_moved_epoch_is_refused_by_the_relay_then_goes_to_the_new_members() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..3).map(|_| TempDir::new().unwrap()).collect();
    let alice = registered(&relay, homes[0].path(), "alice").await;
    let bob = registered(&relay, homes[1].path(), "bob").await;
    let carol = registered(&relay, homes[2].path(), "carol").await;
    alice.create_group("talks", &[h("bob")]).await.unwrap();
    let room = to(&alice, "talks").await;
    alice.promote(&room, &h("bob")).await.unwrap();
    bob.sync().await.unwrap();
    let bobs_room = to(&bob, "alice/talks").await;
    // Bob adds carol; alice has not read that commit when she writes.
    bob.add_member(&bobs_room, &h("carol")).await.unwrap();
    alice.send_text(&room, "for all three").await.unwrap();

    assert_eq!(next_texts(&carol).await, ["for all three"]);
    assert_eq!(next_texts(&bob).await, ["for all three"]);
    let members = alice.members(&room).await.unwrap();
    assert!(members.iter().any(|m| m.handle == "carol"), "{members:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_made_observer_before_writing_is_refused_after_the_read() {
    let relay = TestRelay::start();
    let homes: Vec<TempDir> = (0..3).map(|_| TempDir::new().unwrap()).collect();
    let ann = registered(&relay, homes[0].path(), "ann").await;
    let carol = registered(&relay, homes[1].path(), "carol").await;
    let fay = registered(&relay, homes[2].path(), "fay").await;
    let plan = WorkshopPlan::new(
        vec![h("ann")],
        vec![
            (Side::parse("north").unwrap(), vec![h("carol")]),
            (Side::parse("south").unwrap(), vec![h("fay")]),
        ],
    );
    let plenary = ann.create_workshop("talks", &plan).await.unwrap();
    carol.sync().await.unwrap();
    fay.sync().await.unwrap();
    let carols_plenary = to(&carol, "ann/talks").await;
    carol
        .send_text(&carols_plenary, "while a participant")
        .await
        .unwrap();

    // The facilitator makes carol an observer; carol writes before she has read that.
    ann.change_workshop(
        &plenary,
        &RosterEdit::SetRole {
            handle: h("carol"),
            role: Role::Observer,
        },
    )
    .await
    .unwrap();
    let refused = carol
        .send_text(&carols_plenary, "after the change")
        .await
        .expect_err("an observer does not speak in the plenary");
    assert!(
        matches!(
            refused,
            ClientError::Workshop(WorkshopError::ObserverSilent(_))
        ),
        "{refused:?}"
    );
    assert_eq!(next_texts(&fay).await, ["while a participant"]);
    assert!(next_texts(&fay).await.is_empty());
}
