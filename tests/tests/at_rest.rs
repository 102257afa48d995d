//! Encrypted at rest: after a scripted conversation (a 1:1 and a named group), a raw byte scan
//! of every file in each client's home finds no message text, no handle, no conversation
//! name, no passphrase and no private key, in raw bytes or as hex or a JSON byte array.
//!
//! The secret keys are read through the `test-support` feature of parley-client so that the
//! scan knows what to look for.

#[cfg(test)]
mod common;

use common::Named;

use common::{contains, read_tree, sync_until, TestClient, TestRelay, PASSPHRASE};

const ALICE: &str = "zq-alice-77";
const BOB: &str = "zq-bob-4242";
const CAROL: &str = "zq-carol-19";
const GROUP: &str = "zq-summit-geneva";

const TEXTS: [&str; 5] = [
    "zq-text-1: the delegation accepts clause seven if the river survey is shared",
    "zq-text-2: agreed in principle, but not before the ministers meet on Thursday",
    "zq-text-3: summit notice, the side room on the fourth floor is ours at nine",
    "zq-text-4: bring the annotated map and the list of observers, please",
    "zq-text-5: carol confirms the translators for both languages",
];

/// Every form in which `secret` must not appear: raw, hex both cases, a JSON byte array, and
/// each 8-byte quarter (a key stored in pieces).
fn forms(secret: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut out = vec![
        ("raw".to_owned(), secret.to_vec()),
        ("hex".to_owned(), hex(secret).into_bytes()),
        ("HEX".to_owned(), hex(secret).to_uppercase().into_bytes()),
        (
            "json".to_owned(),
            format!(
                "[{}]",
                secret
                    .iter()
                    .map(u8::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )
            .into_bytes(),
        ),
    ];
    for (i, chunk) in secret.chunks(8).enumerate() {
        out.push((format!("raw quarter {i}"), chunk.to_vec()));
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_readable_is_left_on_disk() {
    let relay = TestRelay::start();
    let url = relay.url();
    let fp = relay.fingerprint();
    let mut alice = TestClient::register(&url, fp.as_deref(), ALICE).await;
    let mut bob = TestClient::register(&url, fp.as_deref(), BOB).await;
    let mut carol = TestClient::register(&url, fp.as_deref(), CAROL).await;

    alice.say(BOB, TEXTS[0]).await.unwrap();
    assert_eq!(sync_until(&bob, 1).await.len(), 1);
    bob.say(ALICE, TEXTS[1]).await.unwrap();
    assert_eq!(sync_until(&alice, 1).await.len(), 1);
    alice
        .create(GROUP, &[BOB.to_owned(), CAROL.to_owned()])
        .await
        .unwrap();
    alice
        .say(&common::local(&alice, GROUP).await, TEXTS[2])
        .await
        .unwrap();
    assert_eq!(sync_until(&bob, 1).await.len(), 1);
    assert_eq!(sync_until(&carol, 1).await.len(), 1);
    bob.say(&common::local(&bob, GROUP).await, TEXTS[3])
        .await
        .unwrap();
    carol
        .say(&common::local(&carol, GROUP).await, TEXTS[4])
        .await
        .unwrap();
    assert_eq!(sync_until(&alice, 2).await.len(), 2);
    assert_eq!(sync_until(&bob, 1).await.len(), 1);
    assert_eq!(sync_until(&carol, 1).await.len(), 1);

    let mut needles: Vec<(String, Vec<u8>)> = Vec::new();
    for text in [ALICE, BOB, CAROL, GROUP, PASSPHRASE, url.as_str()]
        .into_iter()
        .chain(TEXTS)
    {
        needles.push((format!("{text:?}"), text.as_bytes().to_vec()));
    }
    for client in [&alice, &bob, &carol] {
        let secrets = client.secret_keys_for_tests().await;
        assert_eq!(secrets.len(), 3, "identity, inbox and store key");
        for (which, secret) in ["identity", "inbox", "store"].iter().zip(&secrets) {
            for (form, bytes) in forms(secret) {
                needles.push((format!("{}'s {which} key ({form})", client.handle), bytes));
            }
        }
        // Public, but on disk they would tell whom this laptop talks to.
        let public = client.whoami().unwrap().identity_key;
        needles.push((
            format!("{}'s identity public key", client.handle),
            public.into_bytes(),
        ));
    }

    // At rest: the clients are closed, so sled has flushed everything it holds.
    alice.offline();
    bob.offline();
    carol.offline();

    for client in [&alice, &bob, &carol] {
        let files = read_tree(client.home.path());
        let total: usize = files.iter().map(|(_, bytes)| bytes.len()).sum();
        assert!(
            files.len() >= 3 && total > 4096,
            "{}: too little on disk to mean anything ({} files, {total} bytes)",
            client.handle,
            files.len()
        );
        for (path, bytes) in &files {
            for (what, needle) in &needles {
                assert!(!contains(bytes, needle), "{what} found in {path}");
            }
        }
    }

    // The scan had something to find: the same data opens with the passphrase.
    alice.online().await;
    bob.online().await;
    assert_eq!(
        common::texts(
            &alice
                .history_of(&common::local(&alice, GROUP).await, None)
                .await
                .unwrap()
        )
        .len(),
        3
    );
    assert_eq!(
        common::texts(&alice.history_of(BOB, None).await.unwrap()).len(),
        2
    );
    let bob_says: Vec<String> = common::texts(
        &bob.history_of(&common::local(&bob, GROUP).await, None)
            .await
            .unwrap(),
    );
    assert_eq!(bob_says, [TEXTS[2], TEXTS[3], TEXTS[4]]);
}

#[test]
fn the_scan_finds_what_it_looks_for() {
    let secret = [0xabu8; 32];
    let mut hay = b"noise ".to_vec();
    hay.extend_from_slice(hex(&secret).as_bytes());
    assert!(forms(&secret).iter().any(|(_, n)| contains(&hay, n)));
    assert!(contains(b"..zq-summit-geneva..", GROUP.as_bytes()));
}
