//! Test-only access to secrets, behind the `test-support` feature, so that tests can search
//! the disk for them or use them as a removed member would. Never enabled in a release
//! build of the application.

use parley_crypto::access::AccessKey;

use crate::api::conversation::ConversationId;
use crate::api::error::ClientError;
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

    /// The group id, our epoch and that epoch's relay access key of a conversation, from
    /// our stored MLS state: what a member who is removed later still holds, so that tests
    /// can ask the relay what such a key opens.
    #[doc(hidden)]
    pub async fn group_access_for_tests(
        &self,
        conversation: &ConversationId,
    ) -> Result<([u8; 32], u64, std::sync::Arc<AccessKey>), ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store, &self.inner.clock)?;
        let conv = ctx.require_conversation(conversation)?;
        let epoch = ctx.session.mls.epoch(&conv.group_id)?;
        let key = ctx.session.mls.access_key(&conv.group_id)?;
        Ok((conv.group_id, epoch, key))
    }

    /// The sealed bytes of a conversation's history records as they lie on disk (each a
    /// record sealed under the store key), so that tests can search the disk for them after
    /// the conversation's retention deleted them.
    #[doc(hidden)]
    pub async fn sealed_history_for_tests(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<Vec<u8>>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store, &self.inner.clock)?;
        let conv = ctx.require_conversation(conversation)?;
        Ok(self.inner.store.sealed_history_for_tests(&conv.group_id)?)
    }

    /// How many times this client's store has waited for its writes to reach the disk, so
    /// that tests can see which paths wait.
    #[doc(hidden)]
    pub fn store_flushes_for_tests(&self) -> u64 {
        self.inner.store.flushes_for_tests()
    }

    /// How many records of MLS state the store holds packed, and how many as OpenMLS's
    /// JSON (as versions before packing wrote them), so that tests can see
    /// which form the client writes.
    #[doc(hidden)]
    pub fn mls_record_forms_for_tests(&self) -> Result<(usize, usize), ClientError> {
        Ok(self.inner.store.mls_record_forms_for_tests()?)
    }
}
