//! A relay that tampers with group logs: bit flips, truncation, duplicates, replays (same
//! epoch, old epoch, another group), reordering within and across epochs, dropped entries,
//! and commits injected by a removed member or a non-member. The client never shows forged
//! or duplicated content, sets bad entries aside with an alert, and goes on once the relay
//! behaves.

#[cfg(test)]
mod common;

use common::Named;

use common::raw::{Raw, RawMember};
use common::tamper::{flipped, on_next_page, substitute, with_seq, TamperProxy};
use common::{
    assert_each_once, assert_messages, member_handles, now_ms, sync_until, texts, TestClient,
    TestRelay,
};
use parley_client::Client;
use parley_crypto::retention::Retention;

/// Alice (behind her own proxy) and bob (behind his: the one that lies) share group "g"
/// with one message read.
#[cfg(test)]
struct Room {
    relay: TestRelay,
    pa: TamperProxy,
    pb: TamperProxy,
    alice: TestClient,
    bob: TestClient,
}

#[cfg(test)]
async fn room() -> Room {
    let relay = TestRelay::start();
    let pa = TamperProxy::start(&relay).await;
    let pb = TamperProxy::start(&relay).await;
    let alice = TestClient::register(&pa.url(), None, "alice").await;
    let bob = TestClient::register(&pb.url(), None, "bob").await;
    alice.create("g", &["bob".to_owned()]).await.unwrap();
    alice
        .say(&common::local(&alice, "g").await, "hello")
        .await
        .unwrap();
    assert_messages(&sync_until(&bob, 1).await, &[("g", "alice", "hello")]);
    Room {
        relay,
        pa,
        pb,
        alice,
        bob,
    }
}

/// Sends `text` and returns the bytes the relay stored for it.
#[cfg(test)]
async fn post(from: &TestClient, proxy: &TamperProxy, to: &str, text: &str) -> Vec<u8> {
    from.say(to, text).await.unwrap();
    proxy.with(|t| t.posted.last().unwrap().clone())
}

#[cfg(test)]
async fn alerts_with(client: &Client, needle: &str) -> usize {
    client
        .alert_texts()
        .await
        .unwrap()
        .iter()
        .filter(|a| a.contains(needle))
        .count()
}

#[cfg(test)]
const SET_ASIDE: &str = "could not be processed and was set aside";
#[cfg(test)]
const FORKED: &str = "may have been forked by the relay";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flipped_and_truncated_entries_are_set_aside() {
    let r = room().await;
    let m1 = post(&r.alice, &r.pa, "g", "m1 flipped").await;
    let m2 = post(&r.alice, &r.pa, "g", "m2 truncated").await;
    let half = m2[..m2.len() / 2].to_vec();
    r.pb.with(|t| {
        t.rewrite_entries = Some(substitute(vec![
            (m1.clone(), flipped(&m1), false),
            (m2.clone(), half, false),
        ]))
    });
    assert!(
        common::said(r.bob.fetch().await.unwrap()).is_empty(),
        "nothing forged shows"
    );
    let quarantined = r.bob.quarantined().await.unwrap();
    assert_eq!(quarantined.len(), 2, "{quarantined:?}");
    assert!(quarantined
        .iter()
        .all(|q| q.conversation.as_deref() == Some("alice/g")));
    assert_eq!(alerts_with(&r.bob, SET_ASIDE).await, 2);
    assert_eq!(
        alerts_with(&r.bob, FORKED).await,
        0,
        "one bad entry is no fork"
    );

    post(&r.alice, &r.pa, "g", "m3 honest").await;
    assert_messages(&sync_until(&r.bob, 1).await, &[("g", "alice", "m3 honest")]);
    assert_eq!(
        texts(
            &r.bob
                .history_of(&common::local(&r.bob, "g").await, None)
                .await
                .unwrap()
        ),
        ["hello", "m3 honest"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_replayed_entries_show_once() {
    let r = room().await;
    let carol =
        TestClient::register(&r.relay.url(), r.relay.fingerprint().as_deref(), "carol").await;
    // Every entry served twice (same seq): the client refuses such a page whole.
    r.pb.with(|t| t.repeat_in_page = true);
    let r1 = post(&r.alice, &r.pa, "g", "r1 once").await;
    assert!(common::said(r.bob.fetch().await.unwrap()).is_empty());
    r.pb.with(|t| t.repeat_in_page = false);
    assert_messages(&sync_until(&r.bob, 1).await, &[("g", "alice", "r1 once")]);

    // The relay serves r1 again in place of a later entry of the same epoch.
    let c1 = post(&r.alice, &r.pa, "g", "carrier 1").await;
    r.pb.with(|t| t.rewrite_entries = Some(substitute(vec![(c1, r1.clone(), false)])));
    assert!(
        common::said(r.bob.fetch().await.unwrap()).is_empty(),
        "a replay is not shown again"
    );
    assert!(
        r.bob.quarantined().await.unwrap().is_empty(),
        "a known entry is just skipped"
    );

    // And again after the epoch moved: an old epoch's entry in the new epoch.
    r.alice
        .add(&common::local(&r.alice, "g").await, "carol")
        .await
        .unwrap();
    let c2 = post(&r.alice, &r.pa, "g", "carrier 2").await;
    r.pb.with(|t| t.rewrite_entries = Some(substitute(vec![(c2, r1, false)])));
    assert!(common::said(r.bob.fetch().await.unwrap()).is_empty());
    assert_eq!(member_handles(&r.bob, "g").await, ["alice", "bob", "carol"]);

    r.pb.with(|t| t.rewrite_entries = None);
    post(&r.alice, &r.pa, "g", "r2 after").await;
    assert_messages(&sync_until(&r.bob, 1).await, &[("g", "alice", "r2 after")]);
    assert_each_once(
        &r.bob
            .history_of(&common::local(&r.bob, "g").await, None)
            .await
            .unwrap(),
        &["hello", "r1 once", "r2 after"],
    );
    let _ = carol;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entry_replayed_into_another_group_is_refused() {
    let r = room().await;
    let _carol =
        TestClient::register(&r.relay.url(), r.relay.fingerprint().as_deref(), "carol").await;
    // A group bob is not in, and one he is.
    r.alice.create("k", &["carol".to_owned()]).await.unwrap();
    let secret = post(&r.alice, &r.pa, "k", "k secret").await;
    r.alice.create("h", &["bob".to_owned()]).await.unwrap();
    r.bob.fetch().await.unwrap();
    let carrier = post(&r.alice, &r.pa, "h", "h carrier").await;
    r.pb.with(|t| t.rewrite_entries = Some(substitute(vec![(carrier, secret, false)])));
    assert!(common::said(r.bob.fetch().await.unwrap()).is_empty());
    let quarantined = r.bob.quarantined().await.unwrap();
    assert_eq!(quarantined.len(), 1, "{quarantined:?}");
    assert_eq!(quarantined[0].conversation.as_deref(), Some("alice/h"));
    assert!(
        quarantined[0].reason.contains("another group"),
        "{quarantined:?}"
    );

    r.pb.with(|t| t.rewrite_entries = None);
    post(&r.alice, &r.pa, "h", "h honest").await;
    assert_messages(&sync_until(&r.bob, 1).await, &[("h", "alice", "h honest")]);
    assert!(r
        .bob
        .conversations()
        .await
        .unwrap()
        .iter()
        .all(|c| c.name != "k"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_entries_within_and_across_epochs() {
    let r = room().await;
    let _carol =
        TestClient::register(&r.relay.url(), r.relay.fingerprint().as_deref(), "carol").await;
    // Within an epoch: two messages served in the opposite order (seqs kept ascending).
    post(&r.alice, &r.pa, "g", "o1").await;
    post(&r.alice, &r.pa, "g", "o2").await;
    r.pb.with(|t| {
        t.rewrite_entries = Some(on_next_page(|entries| {
            let first = entries[0].message.clone();
            entries[0].message = entries[1].message.clone();
            entries[1].message = first;
        }))
    });
    assert_messages(
        &r.bob.fetch().await.unwrap(),
        &[("g", "alice", "o2"), ("g", "alice", "o1")],
    );

    // Across epochs: the commit served ahead of a message of the epoch it closes.
    post(&r.alice, &r.pa, "g", "x1 before the add").await;
    r.alice
        .add(&common::local(&r.alice, "g").await, "carol")
        .await
        .unwrap();
    post(&r.alice, &r.pa, "g", "x2 after the add").await;
    r.pb.with(|t| {
        t.rewrite_entries = Some(on_next_page(|entries| {
            assert!(entries[1].commit, "the page is [x1, commit]");
            let (a, b) = (entries[0].clone(), entries[1].clone());
            entries[0] = with_seq(b, a.seq);
            entries[1] = with_seq(a, entries[1].seq);
        }))
    });
    let got = r.bob.fetch().await.unwrap();
    // x1 is read after the commit that closed its epoch (the keys of the last three epochs
    // are kept for this): shown once, from alice, and so is what follows.
    assert_messages(
        &got,
        &[
            ("g", "alice", "x1 before the add"),
            ("g", "alice", "x2 after the add"),
        ],
    );
    assert!(
        r.bob.quarantined().await.unwrap().is_empty(),
        "nothing was set aside"
    );
    assert_eq!(member_handles(&r.bob, "g").await, ["alice", "bob", "carol"]);
    r.pb.with(|t| t.rewrite_entries = None);
    post(&r.alice, &r.pa, "g", "x3").await;
    assert_messages(&sync_until(&r.bob, 1).await, &[("g", "alice", "x3")]);
    assert_each_once(
        &r.bob
            .history_of(&common::local(&r.bob, "g").await, None)
            .await
            .unwrap(),
        &[
            "hello",
            "o1",
            "o2",
            "x1 before the add",
            "x2 after the add",
            "x3",
        ],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_entries_lose_only_themselves() {
    let r = room().await;
    // Withheld alone, an entry is only delayed: it comes once the relay behaves.
    post(&r.alice, &r.pa, "g", "d1 delayed").await;
    r.pb.with(|t| t.rewrite_entries = Some(on_next_page(|entries| entries.clear())));
    assert!(common::said(r.bob.fetch().await.unwrap()).is_empty());
    assert_messages(
        &sync_until(&r.bob, 1).await,
        &[("g", "alice", "d1 delayed")],
    );
    // Dropped from the middle of the log, it is lost, and only it.
    post(&r.alice, &r.pa, "g", "d2 dropped").await;
    post(&r.alice, &r.pa, "g", "d3 kept").await;
    r.pb.with(|t| {
        t.rewrite_entries = Some(on_next_page(|entries| {
            entries.remove(0);
        }))
    });
    assert_messages(&r.bob.fetch().await.unwrap(), &[("g", "alice", "d3 kept")]);
    post(&r.alice, &r.pa, "g", "d4 kept").await;
    assert_messages(&sync_until(&r.bob, 1).await, &[("g", "alice", "d4 kept")]);
    assert_each_once(
        &r.bob
            .history_of(&common::local(&r.bob, "g").await, None)
            .await
            .unwrap(),
        &["hello", "d1 delayed", "d3 kept", "d4 kept"],
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_injected_by_a_removed_member_or_an_outsider_are_refused() {
    let r = room().await;
    let mut rex = RawMember::register(Raw::new(r.relay.channel().await), "rex").await;
    let mut mallory = RawMember::register(Raw::new(r.relay.channel().await), "mallory").await;
    let mut eve = RawMember::register(Raw::new(r.relay.channel().await), "eve").await;
    r.alice
        .add(&common::local(&r.alice, "g").await, "rex")
        .await
        .unwrap();
    // An admin, so that his software would make the commit below at all.
    r.alice
        .make_admin(&common::local(&r.alice, "g").await, "rex")
        .await
        .unwrap();
    let gid = rex.accept_welcomes().await[0].1;
    rex.catch_up(&gid).await;
    r.bob.fetch().await.unwrap();
    // Rex is removed but keeps his state of the old epoch.
    r.alice
        .remove(&common::local(&r.alice, "g").await, "rex")
        .await
        .unwrap();
    let code_before = r
        .alice
        .code_of(&common::local(&r.alice, "g").await)
        .await
        .unwrap();

    // A commit adding mallory from the removed rex, and one from eve who never was a member
    // (her own group under the same id).
    let kps = mallory
        .mls
        .generate_key_packages(2, false, now_ms())
        .unwrap();
    let by_rex = rex.mls.add_members(&gid, &kps[..1]).unwrap().commit;
    eve.mls.create_group(gid, Retention::Off).unwrap();
    let by_eve = eve.mls.add_members(&gid, &kps[1..]).unwrap().commit;
    let ca = post(&r.alice, &r.pa, "g", "carrier a").await;
    let cb = post(&r.alice, &r.pa, "g", "carrier b").await;
    r.pb.with(|t| {
        t.rewrite_entries = Some(substitute(vec![(ca, by_rex, true), (cb, by_eve, true)]))
    });
    assert!(common::said(r.bob.fetch().await.unwrap()).is_empty());
    assert_eq!(member_handles(&r.bob, "g").await, ["alice", "bob"]);
    assert_eq!(
        r.bob
            .code_of(&common::local(&r.bob, "g").await)
            .await
            .unwrap()
            .digits,
        code_before.digits
    );
    assert_eq!(r.bob.quarantined().await.unwrap().len(), 2);
    assert_eq!(alerts_with(&r.bob, SET_ASIDE).await, 2);
    // Commits for an epoch bob already left: the relay shows him another history.
    assert_eq!(alerts_with(&r.bob, FORKED).await, 1);

    r.pb.with(|t| t.rewrite_entries = None);
    post(&r.alice, &r.pa, "g", "after").await;
    assert_messages(&sync_until(&r.bob, 1).await, &[("g", "alice", "after")]);
    let _ = &mut mallory;
}
