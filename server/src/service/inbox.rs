//! Inbox service: anonymous deposits, owner-only fetch, acknowledgement and push.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use parley_crypto::auth::{body, OwnerMethod};
use parley_crypto::handle::Handle;
use parley_proto::v1::inbox_server::Inbox;
use parley_proto::v1::{
    AckRequest, AckResponse, Delivery, DepositRequest, DepositResponse, FetchRequest,
    FetchResponse, SubscribeInboxRequest,
};
use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::owner_auth::OwnerProof;
use super::{status, RelayState};
use crate::limits::{
    self, QuotaExceeded, DEFAULT_BATCH, MAX_BATCH, MAX_MESSAGE_LEN, MAX_RESPONSE_PAYLOAD,
};
use crate::metrics::{Kind, Metrics, Rejection};
use crate::store::{Deposited, SharedStore, StoredDelivery};

/// Implements `parley.v1.Inbox`.
pub(crate) struct InboxService {
    state: Arc<RelayState>,
}

impl InboxService {
    pub(crate) fn new(state: Arc<RelayState>) -> Self {
        InboxService { state }
    }
}

/// Stream of deliveries for one subscriber.
type DeliveryStream = Pin<Box<dyn Stream<Item = Result<Delivery, Status>> + Send + 'static>>;

fn to_wire(delivery: StoredDelivery) -> Delivery {
    Delivery {
        id: delivery.id,
        envelope: delivery.envelope,
        received_at_ms: delivery.received_at_ms,
    }
}

#[tonic::async_trait]
impl Inbox for InboxService {
    async fn deposit(
        &self,
        request: Request<DepositRequest>,
    ) -> Result<Response<DepositResponse>, Status> {
        let request = request.into_inner();
        let handle = limits::handle("handle", &request.handle)?;
        limits::padded("envelope", &request.envelope, MAX_MESSAGE_LEN)?;
        let store = &self.state.store;
        if store
            .lookup(&handle)
            .await
            .map_err(status::storage)?
            .is_none()
        {
            return Err(Status::not_found("handle is not registered"));
        }
        let quota = self.state.limits.inbox_quota();
        let deposited = store
            .deposit(&handle, &request.envelope, self.state.clock.now_ms(), quota)
            .await
            .map_err(status::storage)?;
        let metrics = &self.state.metrics;
        match deposited {
            Deposited::Stored(id) => {
                metrics.accepted(Kind::Inbox, request.envelope.len());
                self.state.inbox_wakeups.notify(&handle, id);
                Ok(Response::new(DepositResponse {}))
            }
            Deposited::Full(QuotaExceeded::Messages) => {
                metrics.rejected(Rejection::InboxMessages);
                Err(Status::resource_exhausted(format!(
                    "inbox is full ({} pending deliveries)",
                    quota.max_messages
                )))
            }
            Deposited::Full(QuotaExceeded::Bytes) => {
                metrics.rejected(Rejection::InboxBytes);
                Err(Status::resource_exhausted(format!(
                    "inbox is full ({} bytes pending)",
                    quota.max_bytes
                )))
            }
        }
    }

    async fn fetch(
        &self,
        request: Request<FetchRequest>,
    ) -> Result<Response<FetchResponse>, Status> {
        let request = request.into_inner();
        let handle = limits::handle("handle", &request.handle)?;
        let limit = limits::batch_limit("limit", request.limit)?;
        let proof = OwnerProof::parse(request.auth.as_ref())?;
        self.state
            .verify_owner(
                OwnerMethod::Fetch,
                &handle,
                &proof,
                &body::fetch(request.limit),
            )
            .await?;
        let deliveries = self
            .state
            .store
            .pending_deliveries(&handle, 0, limit, MAX_RESPONSE_PAYLOAD)
            .await
            .map_err(status::storage)?;
        self.state.metrics.delivered(Kind::Inbox, deliveries.len());
        Ok(Response::new(FetchResponse {
            deliveries: deliveries.into_iter().map(to_wire).collect(),
        }))
    }

    async fn ack(&self, request: Request<AckRequest>) -> Result<Response<AckResponse>, Status> {
        let request = request.into_inner();
        let handle = limits::handle("handle", &request.handle)?;
        limits::count("ids", request.ids.len(), 1, MAX_BATCH)?;
        let proof = OwnerProof::parse(request.auth.as_ref())?;
        self.state
            .verify_owner(OwnerMethod::Ack, &handle, &proof, &body::ack(&request.ids))
            .await?;
        self.state
            .store
            .acknowledge(&handle, &request.ids)
            .await
            .map_err(status::storage)?;
        Ok(Response::new(AckResponse {}))
    }

    type SubscribeStream = DeliveryStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeInboxRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        let handle = limits::handle("handle", &request.handle)?;
        let proof = OwnerProof::parse(request.auth.as_ref())?;
        self.state
            .verify_owner(OwnerMethod::SubscribeInbox, &handle, &proof, &body::empty())
            .await?;
        let slot = self.state.subscriptions.open(Kind::Inbox, source)?;
        // Subscribe before the first read, so a deposit landing in between still wakes us.
        let wake = self.state.inbox_wakeups.subscribe(&handle);
        let cursor = Cursor {
            store: self.state.store.clone(),
            metrics: self.state.metrics.clone(),
            handle,
            next_id: 0,
            buffer: VecDeque::new(),
            wake,
        };
        let stream =
            futures::stream::unfold(Some(cursor), |cursor| async move { cursor?.next().await })
                // The slot lives as long as the stream.
                .map(move |item| {
                    let _open = &slot;
                    item
                });
        Ok(Response::new(Box::pin(self.state.shutdown.guard(stream))))
    }
}

/// Position of one subscriber in its inbox.
struct Cursor {
    store: SharedStore,
    metrics: Metrics,
    handle: Handle,
    /// Smallest id not yet sent.
    next_id: u64,
    buffer: VecDeque<StoredDelivery>,
    wake: watch::Receiver<u64>,
}

impl Cursor {
    /// The next delivery (and the cursor to continue with; `None` after an error), or `None`
    /// when the stream ends.
    async fn next(mut self) -> Option<(Result<Delivery, Status>, Option<Cursor>)> {
        loop {
            if let Some(delivery) = self.buffer.pop_front() {
                self.metrics.delivered(Kind::Inbox, 1);
                return Some((Ok(to_wire(delivery)), Some(self)));
            }
            // Mark the current wake-up as seen before reading, so any deposit after the read
            // wakes us again.
            self.wake.borrow_and_update();
            let batch = self
                .store
                .pending_deliveries(
                    &self.handle,
                    self.next_id,
                    DEFAULT_BATCH,
                    MAX_RESPONSE_PAYLOAD,
                )
                .await;
            match batch {
                Err(error) => return Some((Err(status::storage(error)), None)),
                Ok(batch) => {
                    if let Some(last) = batch.last() {
                        self.next_id = last.id.saturating_add(1);
                        self.buffer.extend(batch);
                        continue;
                    }
                }
            }
            if self.wake.changed().await.is_err() {
                return None;
            }
        }
    }
}
