//! What the library's integration tests share: a client registered on a test relay, handles
//! and conversation names from test text.

// Each test crate uses only some of these.
#![allow(dead_code)]

use std::path::Path;

use parley_client::{Client, ConversationId, Handle, KdfParams, Passphrase};
use parley_testkit::TestRelay;

/// The passphrase of every store these helpers make.
pub(crate) const PASSPHRASE: &str = "test passphrase";

/// A client of `relay` (TLS, its fingerprint pinned) with a store in `home`, registered as
/// `handle`.
pub(crate) async fn registered(relay: &TestRelay, home: &Path, handle: &str) -> Client {
    let client = Client::builder()
        .home(home)
        .passphrase(Passphrase::new(PASSPHRASE.to_owned()))
        .kdf_params(KdfParams::insecure_for_tests())
        .relay(relay.url())
        .relay_fingerprint(relay.fingerprint().unwrap())
        .build()
        .await
        .unwrap();
    client.register(&h(handle)).await.unwrap();
    client
}

/// A handle from test text.
pub(crate) fn h(text: &str) -> Handle {
    text.parse().unwrap()
}

/// The conversation a name means, by the library's one rule.
pub(crate) async fn to(client: &Client, name: &str) -> ConversationId {
    client.resolve(name).await.unwrap()
}
