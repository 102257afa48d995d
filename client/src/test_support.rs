//! Test-only access to secrets, behind the `test-support` feature, so that tests can search
//! the disk for them. Never enabled in a release build of the application.

use crate::client::Client;

impl Client {
    /// The raw secret keys: identity (Ed25519 seed), inbox (X25519), and the store key, in
    /// that order; only the store key when no identity exists yet.
    #[doc(hidden)]
    pub async fn secret_keys_for_tests(&self) -> Vec<[u8; 32]> {
        let state = self.inner.state.lock().await;
        let mut keys = Vec::new();
        if let Some(session) = &state.session {
            keys.push(*session.identity.to_bytes());
            keys.push(*session.inbox.to_bytes());
        }
        keys.push(self.inner.store.store_key_for_tests());
        keys
    }
}
