//! Acceptance 7: two members commit in the same epoch; one wins, the other syncs and
//! retries; everyone ends with the same roster and can reach everyone.

#[cfg(test)]
mod common;

use common::Named;

use common::converge::{
    add_with_retry, assert_all_reach_all, assert_same_roster, remove_with_retry, settle,
};
use common::{member_handles, TestClient, TestRelay};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_commits_converge() {
    let relay = TestRelay::start();
    let fp = relay.fingerprint();
    let mut clients = Vec::new();
    for handle in ["amy", "bud", "cyd", "dot", "eli", "fay"] {
        clients.push(TestClient::register(&relay.url(), fp.as_deref(), handle).await);
    }
    let [amy, bud, cyd, dot, eli, fay] = &clients[..] else {
        unreachable!()
    };

    amy.create("race", &["bud".to_owned(), "cyd".to_owned()])
        .await
        .unwrap();
    // bud an admin too, so that both may change the room.
    amy.make_admin(&common::local(amy, "race").await, "bud")
        .await
        .unwrap();
    settle(&[bud, cyd]).await;
    assert_eq!(member_handles(bud, "race").await, ["amy", "bud", "cyd"]);

    // Two adds from the same epoch at once.
    let (a, b) = tokio::join!(
        add_with_retry(amy, "race", "dot"),
        add_with_retry(bud, "race", "eli")
    );
    assert!(
        a == 0 || b == 0,
        "one of the two commits wins without retrying"
    );
    settle(&[amy, bud, cyd, dot, eli]).await;
    assert_same_roster(
        &[amy, bud, cyd, dot, eli],
        "race",
        &["amy", "bud", "cyd", "dot", "eli"],
    )
    .await;
    assert_all_reach_all(&[amy, bud, cyd, dot, eli], "race", "round one").await;

    // A remove and an add at once.
    let (a, b) = tokio::join!(
        remove_with_retry(amy, "race", "cyd"),
        add_with_retry(bud, "race", "fay")
    );
    assert!(a == 0 || b == 0);
    settle(&[amy, bud, cyd, dot, eli, fay]).await;
    let members = [amy, bud, dot, eli, fay];
    assert_same_roster(&members, "race", &["amy", "bud", "dot", "eli", "fay"]).await;
    assert_all_reach_all(&members, "race", "round two").await;
    // The removed member received nothing of round two.
    let late = cyd.fetch().await.unwrap();
    assert!(
        late.iter()
            .all(|m| !m.text().unwrap_or_default().starts_with("round two")),
        "{:?}",
        common::texts(&late)
    );
}
