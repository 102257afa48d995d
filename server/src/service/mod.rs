//! The gRPC services and the in-memory state they share.

mod blobs;
mod challenges;
mod directory;
mod epoch_notices;
mod gate;
mod group_auth;
mod groups;
mod housekeeping;
mod inbox;
mod owner_auth;
mod replay;
pub(crate) mod status;
mod subscriptions;

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use parley_crypto::clock::Clock;
use parley_crypto::handle::Handle;
use parley_proto::v1::blobs_server::BlobsServer;
use parley_proto::v1::directory_server::DirectoryServer;
use parley_proto::v1::groups_server::GroupsServer;
use parley_proto::v1::inbox_server::InboxServer;

use crate::limits::{KeyedLimiter, LimitsConfig, SourceLimiter};
use crate::metrics::Metrics;
use crate::notify::Notifier;
use crate::shutdown::Shutdown;
use crate::store::{Change, ChangeSink, SharedStore};

pub(crate) use blobs::BlobsService;
pub(crate) use directory::DirectoryService;
pub(crate) use gate::Gated;
pub(crate) use groups::GroupsService;
pub(crate) use inbox::InboxService;

use challenges::Challenges;
use gate::Tarpit;
use group_auth::Decoy;
use replay::ReplayCache;
use subscriptions::Subscriptions;

/// State shared by all services of one running relay.
pub(crate) struct RelayState {
    store: SharedStore,
    challenges: Challenges,
    replay: ReplayCache,
    /// What an unknown group's requests are verified against (see [`group_auth`]).
    decoy: Decoy,
    inbox_wakeups: Notifier<Handle>,
    group_wakeups: Notifier<[u8; 32]>,
    shutdown: Shutdown,
    limits: LimitsConfig,
    sources: SourceLimiter,
    claims: KeyedLimiter<Handle>,
    /// Claims per source address and target handle, checked before `claims`.
    claims_by_source: KeyedLimiter<(IpAddr, Handle)>,
    /// Blob chunks uploaded per source address.
    blob_chunks_by_source: KeyedLimiter<IpAddr>,
    subscriptions: Subscriptions,
    tarpit: Tarpit,
    metrics: Metrics,
    /// The relay clock, which every time-based decision reads.
    clock: Arc<dyn Clock>,
}

impl RelayState {
    /// Fresh in-memory state over `store`, enforcing `limits`, reading time from `clock`.
    pub(crate) fn new(
        store: SharedStore,
        shutdown: Shutdown,
        limits: &LimitsConfig,
        clock: Arc<dyn Clock>,
    ) -> Arc<RelayState> {
        let metrics = store.metrics();
        Arc::new(RelayState {
            store,
            challenges: Challenges::new(
                clock.clone(),
                usize::try_from(limits.challenges_per_source).unwrap_or(usize::MAX),
            ),
            replay: ReplayCache::new(clock.clone()),
            decoy: Decoy::new(),
            inbox_wakeups: Notifier::new(),
            group_wakeups: Notifier::new(),
            shutdown,
            limits: limits.clone(),
            sources: SourceLimiter::new(
                limits.source_requests_per_second,
                limits.source_burst,
                clock.clone(),
            ),
            claims: KeyedLimiter::new(
                limits.key_package_claims_per_minute,
                Duration::from_secs(60),
                limits.key_package_claim_burst,
                clock.clone(),
            ),
            claims_by_source: KeyedLimiter::new(
                limits.key_package_claims_per_source_per_minute,
                Duration::from_secs(60),
                limits.key_package_claim_source_burst,
                clock.clone(),
            ),
            blob_chunks_by_source: {
                let (per_hour, burst) = limits.blob_chunk_quota();
                KeyedLimiter::new(per_hour, Duration::from_secs(3600), burst, clock.clone())
            },
            subscriptions: Subscriptions::new(
                limits.max_subscriptions,
                limits.max_subscriptions_per_source,
                metrics.clone(),
            ),
            tarpit: Tarpit::new(limits.refusal_delay()),
            metrics,
            clock,
        })
    }
}

impl RelayState {
    /// Where the store reports writes made through other relay nodes: their subscribers
    /// here are woken as if the write had been made on this node. Holds the state weakly, so
    /// the reporting ends once the relay has stopped.
    pub(crate) fn change_sink(self: &Arc<Self>) -> ChangeSink {
        let state = Arc::downgrade(self);
        Arc::new(move |change| {
            let Some(state) = state.upgrade() else {
                return false;
            };
            match change {
                Change::Inbox(handle, id) => state.inbox_wakeups.notify(&handle, id),
                Change::Group(group_id, seq) => state.group_wakeups.notify(&group_id, seq),
                Change::Missed => {
                    tokio::spawn(state.look_again());
                }
            }
            true
        })
    }

    /// Wakes every subscriber to read the store again, each group's with the sequence number
    /// of its latest entry: for changes that may have been missed.
    async fn look_again(self: Arc<Self>) {
        for handle in self.inbox_wakeups.keys() {
            self.inbox_wakeups.notify(&handle, 0);
        }
        for group_id in self.group_wakeups.keys() {
            match self.store.group_meta(&group_id).await {
                Ok(Some(meta)) if meta.next_seq > 0 => {
                    self.group_wakeups.notify(&group_id, meta.next_seq - 1);
                }
                Ok(_) => {}
                Err(error) => tracing::warn!(%error, "cannot look a group up again"),
            }
        }
    }
}

/// The Directory service behind the per-source gate, decoding at most the configured size.
pub(crate) fn directory_server(
    state: &Arc<RelayState>,
) -> Gated<DirectoryServer<DirectoryService>> {
    let server = DirectoryServer::new(DirectoryService::new(state.clone()))
        .max_decoding_message_size(state.limits.max_message_bytes);
    Gated::new(server, state.clone())
}

/// The Blobs service behind the per-source gate, decoding at most the configured size.
pub(crate) fn blobs_server(state: &Arc<RelayState>) -> Gated<BlobsServer<BlobsService>> {
    let server = BlobsServer::new(BlobsService::new(state.clone()))
        .max_decoding_message_size(state.limits.max_message_bytes);
    Gated::new(server, state.clone())
}

/// The Inbox service behind the per-source gate, decoding at most the configured size.
pub(crate) fn inbox_server(state: &Arc<RelayState>) -> Gated<InboxServer<InboxService>> {
    let server = InboxServer::new(InboxService::new(state.clone()))
        .max_decoding_message_size(state.limits.max_message_bytes);
    Gated::new(server, state.clone())
}

/// The Groups service behind the per-source gate, decoding at most the configured size.
pub(crate) fn groups_server(state: &Arc<RelayState>) -> Gated<GroupsServer<GroupsService>> {
    let server = GroupsServer::new(GroupsService::new(state.clone()))
        .max_decoding_message_size(state.limits.max_message_bytes);
    Gated::new(server, state.clone())
}
