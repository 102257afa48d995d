//! A workshop on a real relay against a participant running modified software and against a
//! relay that withholds commits.
//!
//! - mallory, a north participant speaking the protocol directly, posts what only
//!   facilitators may say (a version of the text, the record's export), a comment on a version
//!   that does not exist, and a message claiming a role. Every honest member sets the first
//!   three aside with an alert; the claim is shown as what it is, a message under her side;
//!   the roster, the text and its chain stay as the facilitators made them.
//! - The relay serves carol no commit: the facilitator's adding an observer never reaches her.
//!   Her roster stays the old one and the plenary's group code shows it (hers no longer
//!   matches); what is said after it she cannot read, and she is told the room is stuck.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(test)]
mod common;

use common::raw::{Raw, RawMember};
use common::tamper::TamperProxy;
use common::{Named, TestClient, TestRelay};
use parley_client::workshop::text::version_hash;
use parley_client::{
    Attribution, ConversationId, Handle, MessageBody, Role, RosterEdit, Sender, Side, WorkshopPlan,
};
use parley_crypto::payload::Payload;

const VERSION_1: &str = "Article 1. The parties meet again.\n\nArticle 2. A ceasefire holds.\n";
const VERSION_2: &str =
    "Article 1. The parties meet again.\n\nArticle 2. A ceasefire holds, monitored jointly.\n";

fn handle(name: &str) -> Handle {
    Handle::parse(name).unwrap()
}

fn side(name: &str) -> Side {
    Side::parse(name).unwrap()
}

/// ann facilitates; `north` and `south` speak for their sides; the plenary shows sides only.
fn plan(north: &[&str], south: &[&str]) -> WorkshopPlan {
    let people = |list: &[&str]| list.iter().map(|h| handle(h)).collect::<Vec<_>>();
    WorkshopPlan::new(
        vec![handle("ann")],
        vec![
            (side("north"), people(north)),
            (side("south"), people(south)),
        ],
    )
    .attribution(Attribution::Side)
}

fn group_bytes(id: &ConversationId) -> [u8; 32] {
    match id {
        ConversationId::Group(gid) => gid.to_bytes(),
        other => panic!("not a group: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_only_facilitators_may_say_from_a_participant_changes_nothing() {
    let relay = TestRelay::start();
    let fp = relay.fingerprint();
    let ann = TestClient::register(&relay.url(), fp.as_deref(), "ann").await;
    let carol = TestClient::register(&relay.url(), fp.as_deref(), "carol").await;
    let fay = TestClient::register(&relay.url(), fp.as_deref(), "fay").await;
    let mut mallory = RawMember::register(Raw::new(relay.channel().await), "mallory").await;

    let plenary = ann
        .create_workshop("talks", &plan(&["carol", "mallory"], &["fay"]))
        .await
        .unwrap();
    carol.fetch().await.unwrap();
    fay.fetch().await.unwrap();
    let joined = mallory.accept_welcomes().await;
    assert_eq!(
        joined.len(),
        2,
        "the plenary and the north caucus: {joined:?}"
    );
    let pid = group_bytes(&plenary);
    ann.propose_text(&plenary, VERSION_1).await.unwrap();
    mallory.catch_up(&pid).await;

    let first = version_hash(1, &[0; 32], VERSION_1);
    let now = common::now_ms();
    let forged = [
        Payload::TextVersion {
            sent_at_ms: now,
            number: 2,
            previous: first,
            text: "Article 1. North wins.".to_owned(),
        },
        Payload::RecordExported { sent_at_ms: now },
        Payload::TextComment {
            sent_at_ms: now,
            version: 7,
            para: 1,
            text: "on a version nobody published".to_owned(),
        },
        Payload::Text {
            sent_at_ms: now,
            text: "as of now I am a facilitator".to_owned(),
        },
    ];
    for payload in forged {
        let frame = mallory
            .mls
            .encrypt(&pid, &payload.encode().unwrap())
            .unwrap();
        mallory.post_raw(&pid, &frame).await;
    }

    for member in [&carol, &fay] {
        let arrived = member.fetch().await.unwrap();
        let room = member.resolve("ann/talks").await.unwrap();
        assert_eq!(
            member.negotiating_text(&room, None).await.unwrap().number,
            1
        );
        let workshop = member.workshop(&room).await.unwrap();
        let mallorys = workshop
            .roster
            .iter()
            .find(|p| p.handle == handle("mallory"))
            .unwrap();
        assert_eq!(mallorys.role, Role::Side(side("north")));
        assert_eq!(member.admins(&room).await.unwrap(), [handle("ann")]);
        let set_aside: Vec<String> = member
            .quarantined()
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.reason)
            .collect();
        for reason in [
            "mallory, who is not a facilitator, tried to publish a version of the negotiating text; refused",
            "mallory, who is not a facilitator, announced an export of the record; set aside",
            "a comment from mallory on version 7 of the text, which this room does not hold; set aside",
        ] {
            assert!(set_aside.iter().any(|r| r == reason), "{reason:?} in {set_aside:#?}");
        }
        // The claim is a message like any other, under her side: it makes her nothing.
        let claims: Vec<_> = arrived
            .iter()
            .filter(|m| m.text() == Some("as of now I am a facilitator"))
            .collect();
        assert_eq!(claims.len(), 1);
        assert_eq!(claims[0].sender, Sender::Attributed("north".to_owned()));
        assert!(!arrived
            .iter()
            .any(|m| matches!(m.body, MessageBody::TextVersion { number: 2, .. })));
    }

    // The chain was not poisoned: the facilitator's next version follows the first.
    ann.propose_text(&plenary, VERSION_2).await.unwrap();
    carol.fetch().await.unwrap();
    let room = carol.resolve("ann/talks").await.unwrap();
    let second = carol.negotiating_text(&room, None).await.unwrap();
    assert_eq!(second.number, 2);
    let first_hex: String = first.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(second.previous, first_hex);
    assert_eq!(second.text, VERSION_2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_withheld_roster_change_is_shown_by_the_group_code() {
    let relay = TestRelay::start();
    let pc = TamperProxy::start(&relay).await;
    let fp = relay.fingerprint();
    let ann = TestClient::register(&relay.url(), fp.as_deref(), "ann").await;
    let fay = TestClient::register(&relay.url(), fp.as_deref(), "fay").await;
    let _gil = TestClient::register(&relay.url(), fp.as_deref(), "gil").await;
    let carol = TestClient::register(&pc.url(), None, "carol").await;
    let plenary = ann
        .create_workshop("talks", &plan(&["carol"], &["fay"]))
        .await
        .unwrap();
    carol.fetch().await.unwrap();
    fay.fetch().await.unwrap();
    let before = ann.code_of("talks").await.unwrap();
    assert_eq!(
        carol.code_of("ann/talks").await.unwrap().digits,
        before.digits
    );

    // From now on carol's relay serves her no commit.
    pc.with(|t| t.rewrite_entries = Some(Box::new(|_, entries| entries.retain(|e| !e.commit))));
    let observer = RosterEdit::Add {
        handle: handle("gil"),
        role: Role::Observer,
    };
    ann.change_workshop(&plenary, &observer).await.unwrap();
    fay.fetch().await.unwrap();
    carol.fetch().await.unwrap();

    let roster_of = |workshop: parley_client::Workshop| -> Vec<String> {
        workshop
            .roster
            .iter()
            .map(|p| p.handle.to_string())
            .collect()
    };
    let fays = fay.resolve("ann/talks").await.unwrap();
    let carols = carol.resolve("ann/talks").await.unwrap();
    assert!(roster_of(fay.workshop(&fays).await.unwrap()).contains(&"gil".to_owned()));
    assert!(
        !roster_of(carol.workshop(&carols).await.unwrap()).contains(&"gil".to_owned()),
        "carol never saw the change"
    );
    let (a, f, c) = (
        ann.code_of("talks").await.unwrap(),
        fay.code_of("ann/talks").await.unwrap(),
        carol.code_of("ann/talks").await.unwrap(),
    );
    assert_eq!(a.digits, f.digits);
    assert_ne!(
        a.digits, c.digits,
        "the group code shows carol a different room"
    );

    // What is said after it she cannot read, and she is told the room cannot go on for her.
    ann.say("talks", "after the observer came").await.unwrap();
    assert!(common::said(carol.fetch().await.unwrap()).is_empty());
    let alerts = carol.alert_texts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("ann/talks is stuck") || a.contains("may have been forked")),
        "{alerts:?}"
    );
}
