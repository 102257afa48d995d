//! Acceptance 3: after 1:1 and group traffic, the relay's data directory holds no plaintext,
//! and no stored deposit carries its sender's handle.

#[cfg(test)]
mod common;

use common::Named;

use common::tamper::TamperProxy;
use common::{contains, find_all, read_tree, sync_until, TestClient, TestRelay};

const SENDER: &str = "zq-sender-7";
const IDLE: &str = "zq-idle-9";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_stores_no_plaintext_and_no_sender() {
    let mut relay = TestRelay::start();
    // The proxy only watches here: it records every deposit and log entry the relay handles.
    let proxy = TamperProxy::start(&relay).await;
    let url = proxy.url();
    let sender = TestClient::register(&url, None, SENDER).await;
    let r3 = TestClient::register(&url, None, "zq-rcpt-3").await;
    let r4 = TestClient::register(&url, None, "zq-rcpt-4").await;
    let r5 = TestClient::register(&url, None, "zq-rcpt-5").await;
    let r6 = TestClient::register(&url, None, "zq-rcpt-6").await;
    let _idle = TestClient::register(&url, None, IDLE).await;
    let handles = [
        SENDER,
        "zq-rcpt-3",
        "zq-rcpt-4",
        "zq-rcpt-5",
        "zq-rcpt-6",
        IDLE,
    ];
    let plaintexts = [
        "zq-plain-1: the heron flies at dawn over the quiet harbour",
        "zq-plain-2: reply about the copper kettle and seven lanterns",
        "zq-plain-3: group notice, the orchard gate code is 4471",
        "zq-plain-4: member answer concerning the violet umbrella",
        "zq-plain-5: after the change, meet by the granite fountain",
        "zq-plain-6: for the idle one, never fetched, still stored",
    ];

    // 1:1 both ways.
    sender.say("zq-rcpt-3", plaintexts[0]).await.unwrap();
    assert_eq!(common::texts(&sync_until(&r3, 1).await), [plaintexts[0]]);
    r3.say(SENDER, plaintexts[1]).await.unwrap();
    assert_eq!(
        common::texts(&sync_until(&sender, 1).await),
        [plaintexts[1]]
    );

    // A group: create, post, answer, add, remove, post.
    let members = ["zq-rcpt-3", "zq-rcpt-4", "zq-rcpt-5"].map(String::from);
    sender.create("zq-grp", &members).await.unwrap();
    sender
        .say(&common::local(&sender, "zq-grp").await, plaintexts[2])
        .await
        .unwrap();
    assert_eq!(common::texts(&sync_until(&r4, 1).await), [plaintexts[2]]);
    r4.say(&common::local(&r4, "zq-grp").await, plaintexts[3])
        .await
        .unwrap();
    sender
        .add(&common::local(&sender, "zq-grp").await, "zq-rcpt-6")
        .await
        .unwrap();
    sender
        .remove(&common::local(&sender, "zq-grp").await, "zq-rcpt-5")
        .await
        .unwrap();
    sender
        .say(&common::local(&sender, "zq-grp").await, plaintexts[4])
        .await
        .unwrap();
    assert_eq!(common::texts(&sync_until(&r6, 1).await), [plaintexts[4]]);
    for client in [&sender, &r3, &r4, &r5] {
        client.fetch().await.unwrap();
    }

    // A Welcome that is never fetched stays stored as a deposit.
    sender.say(IDLE, plaintexts[5]).await.unwrap();

    // Closed relay: everything it wrote is on disk.
    relay.stop().await;
    let files = read_tree(relay.data_dir());
    assert!(!files.is_empty());

    // The scan does see the relay's data: the directory legitimately stores every handle.
    for handle in handles {
        assert!(
            files
                .iter()
                .any(|(_, bytes)| contains(bytes, handle.as_bytes())),
            "the scan should find the directory entry of {handle}"
        );
    }

    // No plaintext anywhere in the data directory.
    for (path, bytes) in &files {
        for text in plaintexts {
            assert!(
                !contains(bytes, text.as_bytes()),
                "{path} contains the plaintext {text:?}"
            );
        }
    }

    let (deposits, served, entries) = proxy.with(|t| {
        (
            t.deposits.clone(),
            t.served_envelopes.clone(),
            [t.served_entries.clone(), t.posted.clone()].concat(),
        )
    });
    // Welcomes: 1:1 with r3, the group of three, r6, the idle one.
    assert!(deposits.len() >= 6, "only {} deposits", deposits.len());
    assert!(!served.is_empty());
    assert!(!entries.is_empty());
    for (_, envelope) in &deposits {
        assert_opaque(envelope, &handles, &plaintexts, "deposited envelope");
    }
    // What the relay hands out is exactly what was deposited: it added nothing.
    for envelope in &served {
        assert!(deposits.iter().any(|(_, d)| d == envelope));
    }
    for entry in &entries {
        assert_opaque(entry, &handles, &plaintexts, "group log entry");
    }

    // The stored deposit, where the relay keeps it: the sender's handle is neither in it nor
    // next to it.
    let idle_deposits: Vec<&Vec<u8>> = deposits
        .iter()
        .filter(|(h, _)| h == IDLE)
        .map(|(_, e)| e)
        .collect();
    assert_eq!(idle_deposits.len(), 1);
    let stored = idle_deposits[0];
    let mut occurrences = 0;
    for (path, bytes) in &files {
        for at in find_all(bytes, stored) {
            occurrences += 1;
            let lo = at.saturating_sub(64);
            let hi = (at + stored.len() + 64).min(bytes.len());
            assert!(
                !contains(&bytes[lo..hi], SENDER.as_bytes()),
                "{path}: the sender's handle is stored with the deposit at {at}"
            );
        }
    }
    assert!(
        occurrences > 0,
        "the unfetched deposit should be stored verbatim in the data directory"
    );
}

fn assert_opaque(bytes: &[u8], handles: &[&str], plaintexts: &[&str], what: &str) {
    for handle in handles {
        assert!(
            !contains(bytes, handle.as_bytes()),
            "a {what} contains the handle {handle}"
        );
    }
    for text in plaintexts {
        assert!(
            !contains(bytes, text.as_bytes()),
            "a {what} contains a plaintext"
        );
    }
}
