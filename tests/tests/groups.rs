//! Acceptance 2: a group of four is created and used, gains a fifth member and loses two;
//! removed members can neither decrypt later messages nor read or post to the group log.

#[cfg(test)]
mod common;

use common::Named;

use common::raw::{post_request, Raw, RawMember};
use common::{assert_messages, member_handles, roster, sync_until, TestClient, TestRelay, DENIED};
use parley_crypto::padding;

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn group_create_post_add_remove() {
    let relay = TestRelay::start();
    let fp = relay.fingerprint();
    let ann = TestClient::register(&relay.url(), fp.as_deref(), "ann").await;
    let ben = TestClient::register(&relay.url(), fp.as_deref(), "ben").await;
    let cat = TestClient::register(&relay.url(), fp.as_deref(), "cat").await;
    let eve = TestClient::register(&relay.url(), fp.as_deref(), "eve").await;
    // The fourth member speaks the protocol directly, so the test holds its access keys.
    let mut sid = RawMember::register(Raw::new(relay.channel().await), "sid").await;

    ann.create("crew", &names(&["ben", "cat", "sid"]))
        .await
        .unwrap();
    let four = names(&["ann", "ben", "cat", "sid"]);
    assert_eq!(member_handles(&ann, "crew").await, four);

    ann.say(&common::local(&ann, "crew").await, "m1 hello crew")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&ben, 1).await,
        &[("crew", "ann", "m1 hello crew")],
    );
    assert_messages(
        &sync_until(&cat, 1).await,
        &[("crew", "ann", "m1 hello crew")],
    );
    let joined = sid.accept_welcomes().await;
    assert_eq!(joined.len(), 1);
    let (name, group, inviter) = &joined[0];
    assert_eq!((name.as_str(), inviter.as_str()), ("crew", "ann"));
    let group = *group;
    let seen = sid.catch_up(&group).await;
    assert_eq!(seen.rejected, 0, "every entry is valid MLS for sid");
    assert_eq!(
        seen.texts,
        vec![("ann".to_owned(), "m1 hello crew".to_owned())]
    );
    assert_eq!(member_handles(&ben, "crew").await, four);

    ben.say(&common::local(&ben, "crew").await, "m2 ben here")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&ann, 1).await,
        &[("crew", "ben", "m2 ben here")],
    );
    assert_messages(
        &sync_until(&cat, 1).await,
        &[("crew", "ben", "m2 ben here")],
    );

    // A fifth member joins and sees only what is sent after.
    ann.add(&common::local(&ann, "crew").await, "eve")
        .await
        .unwrap();
    ann.say(&common::local(&ann, "crew").await, "m3 welcome eve")
        .await
        .unwrap();
    assert_messages(
        &sync_until(&eve, 1).await,
        &[("crew", "ann", "m3 welcome eve")],
    );
    assert_messages(
        &sync_until(&ben, 1).await,
        &[("crew", "ann", "m3 welcome eve")],
    );
    assert_messages(
        &sync_until(&cat, 1).await,
        &[("crew", "ann", "m3 welcome eve")],
    );
    let seen = sid.catch_up(&group).await;
    assert_eq!(seen.rejected, 0, "every entry is valid MLS for sid");
    assert_eq!(seen.commits, 1);
    assert_eq!(
        seen.texts,
        vec![
            ("ben".to_owned(), "m2 ben here".to_owned()),
            ("ann".to_owned(), "m3 welcome eve".to_owned())
        ]
    );
    let five = roster(&ann, "crew").await;
    assert_eq!(five.len(), 5);
    for member in [&ben, &cat, &eve] {
        assert_eq!(roster(member, "crew").await, five);
    }

    // sid is removed; it keeps its last access key, which is of the epoch before removal.
    let old_epoch = sid.epoch(&group);
    let old_key = sid.access_key(&group);
    ann.remove(&common::local(&ann, "crew").await, "sid")
        .await
        .unwrap();
    ann.say(&common::local(&ann, "crew").await, "m4 sid is gone")
        .await
        .unwrap();
    let seen = sid.catch_up(&group).await;
    assert_eq!(seen.rejected, 0, "every entry is valid MLS for sid");
    assert!(seen.removed, "sid processed its own removal");
    assert!(seen.texts.is_empty(), "sid read nothing after its removal");

    // The relay refuses sid's old key for the new epoch, for reading and for posting.
    let new_epoch = old_epoch + 1;
    let denied = sid
        .read(&old_key, &group, new_epoch, 0)
        .await
        .expect_err("read at the new epoch with the old key");
    assert_eq!(denied.code(), DENIED, "{denied:?}");
    let frame = padding::pad(b"still here?", 0).unwrap();
    let denied = sid
        .raw
        .groups
        .clone()
        .post(post_request(&old_key, &group, new_epoch, &frame))
        .await
        .expect_err("post at the new epoch with the old key");
    assert_eq!(denied.code(), DENIED, "{denied:?}");
    // The old epoch is closed for posting, and reading it yields only that epoch's entries.
    let refused = sid
        .raw
        .groups
        .clone()
        .post(post_request(&old_key, &group, old_epoch, &frame))
        .await
        .expect_err("post at a past epoch");
    assert_eq!(
        refused.code(),
        tonic::Code::FailedPrecondition,
        "{refused:?}"
    );
    let page = sid.read(&old_key, &group, old_epoch, 0).await.unwrap();
    assert!(page.current_epoch >= new_epoch);
    assert!(page.entries.iter().all(|e| e.epoch == old_epoch));
    assert_eq!(
        page.entries.last().map(|e| e.commit),
        Some(true),
        "the old epoch ends with the removing commit"
    );

    for member in [&ben, &cat, &eve] {
        assert_messages(
            &sync_until(member, 1).await,
            &[("crew", "ann", "m4 sid is gone")],
        );
    }

    // cat, a library client, is removed too: it decrypts nothing later and cannot post.
    ann.remove(&common::local(&ann, "crew").await, "cat")
        .await
        .unwrap();
    ann.say(&common::local(&ann, "crew").await, "m5 after cat")
        .await
        .unwrap();
    ben.say(&common::local(&ben, "crew").await, "m6 ben after cat")
        .await
        .unwrap();
    let after = cat.fetch().await.unwrap();
    assert!(
        after
            .iter()
            .all(|m| !m.text().unwrap_or_default().contains("after cat")
                && m.text().unwrap_or_default() != "m5 after cat"),
        "cat decrypted a message sent after its removal: {:?}",
        common::texts(&after)
    );
    assert!(cat
        .say(&common::local(&cat, "crew").await, "can I still post?")
        .await
        .is_err());
    // The conversation may be gone from cat's list; if it is kept, it has nothing later.
    if let Ok(history) = cat
        .history_of(&common::local(&cat, "crew").await, None)
        .await
    {
        let history = common::texts(&history);
        assert!(
            history.iter().all(|t| !t.contains("after cat")),
            "{history:?}"
        );
    }

    assert_messages(
        &sync_until(&ben, 1).await,
        &[("crew", "ann", "m5 after cat")],
    );
    assert_messages(
        &sync_until(&eve, 2).await,
        &[
            ("crew", "ann", "m5 after cat"),
            ("crew", "ben", "m6 ben after cat"),
        ],
    );
    assert_messages(
        &sync_until(&ann, 1).await,
        &[("crew", "ben", "m6 ben after cat")],
    );
    let three = names(&["ann", "ben", "eve"]);
    for member in [&ann, &ben, &eve] {
        assert_eq!(member_handles(member, "crew").await, three);
    }
}
