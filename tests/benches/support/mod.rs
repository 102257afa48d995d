//! What the benches share: a real client registered on the bench's relay.

use parley_client::{Client, KdfParams, Passphrase};
use parley_testkit::TestRelay;
use tempfile::TempDir;

/// A client of `relay` with its store in `home`, registered as `handle`.
pub(crate) async fn client(relay: &TestRelay, home: &TempDir, handle: &str) -> Client {
    let client = Client::builder()
        .home(home.path())
        .passphrase(Passphrase::new("bench passphrase".to_owned()))
        .kdf_params(KdfParams::insecure_for_tests())
        .relay(relay.url())
        .relay_fingerprint(relay.fingerprint().unwrap())
        .build()
        .await
        .unwrap();
    client.register(&handle.parse().unwrap()).await.unwrap();
    client
}
