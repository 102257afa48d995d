//! Inbox RPCs: anonymous deposits, and owner-only fetch, acknowledge and subscribe.

use futures::stream::{BoxStream, StreamExt};
use parley_crypto::auth::{body, OwnerMethod};
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_proto::v1 as proto;

use super::types::Delivery;
use super::RelayConnection;
use crate::api::error::RelayError;

impl RelayConnection {
    /// Deposits a sealed envelope into a handle's inbox. Anonymous: nothing identifies the
    /// sender to the relay.
    pub(crate) async fn deposit(&self, handle: &Handle, envelope: &[u8]) -> Result<(), RelayError> {
        self.inbox()
            .deposit(proto::DepositRequest {
                handle: handle.as_str().to_owned(),
                envelope: envelope.to_vec(),
            })
            .await?;
        Ok(())
    }

    /// Fetches up to `limit` pending deliveries (0 lets the relay choose), oldest first.
    pub(crate) async fn fetch_inbox(
        &self,
        handle: &Handle,
        identity: &IdentitySecretKey,
        limit: u32,
    ) -> Result<Vec<Delivery>, RelayError> {
        let auth = self
            .owner_auth(OwnerMethod::Fetch, handle, identity, &body::fetch(limit))
            .await?;
        let response = self
            .inbox()
            .fetch(proto::FetchRequest {
                handle: handle.as_str().to_owned(),
                limit,
                auth: Some(auth),
            })
            .await?
            .into_inner();
        let deliveries = response
            .deliveries
            .into_iter()
            .map(Delivery::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        if deliveries.windows(2).any(|w| w[0].id >= w[1].id) {
            return Err(RelayError::Protocol(
                "inbox deliveries are not in increasing id order".to_owned(),
            ));
        }
        Ok(deliveries)
    }

    /// Deletes the given deliveries from the inbox; call only after they are safely processed.
    pub(crate) async fn ack_inbox(
        &self,
        handle: &Handle,
        identity: &IdentitySecretKey,
        ids: &[u64],
    ) -> Result<(), RelayError> {
        let auth = self
            .owner_auth(OwnerMethod::Ack, handle, identity, &body::ack(ids))
            .await?;
        self.inbox()
            .ack(proto::AckRequest {
                handle: handle.as_str().to_owned(),
                ids: ids.to_vec(),
                auth: Some(auth),
            })
            .await?;
        Ok(())
    }

    /// Streams pending deliveries, then each new one as it arrives. The stream ends when the
    /// connection does; an error item is the reason.
    pub(crate) async fn subscribe_inbox(
        &self,
        handle: &Handle,
        identity: &IdentitySecretKey,
    ) -> Result<BoxStream<'static, Result<Delivery, RelayError>>, RelayError> {
        let auth = self
            .owner_auth(
                OwnerMethod::SubscribeInbox,
                handle,
                identity,
                &body::empty(),
            )
            .await?;
        let stream = self
            .inbox()
            .subscribe(proto::SubscribeInboxRequest {
                handle: handle.as_str().to_owned(),
                auth: Some(auth),
            })
            .await?
            .into_inner();
        // The stream keeps the connection in use (and so open) for as long as it lives.
        let held = self.clone();
        Ok(stream
            .map(move |item| {
                let _in_use = &held;
                item.map_err(RelayError::from).and_then(Delivery::try_from)
            })
            .boxed())
    }
}
