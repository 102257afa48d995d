//! The gRPC services and the in-memory state they share.

mod challenges;
mod directory;
mod group_auth;
mod groups;
mod inbox;
mod owner_auth;
mod replay;
mod status;

use std::sync::Arc;

use parley_crypto::handle::Handle;

use crate::notify::Notifier;
use crate::shutdown::Shutdown;
use crate::store::Store;

pub(crate) use directory::DirectoryService;
pub(crate) use groups::GroupsService;
pub(crate) use inbox::InboxService;

use challenges::Challenges;
use replay::ReplayCache;

/// State shared by all services of one running relay.
pub(crate) struct RelayState {
    store: Store,
    challenges: Challenges,
    replay: ReplayCache,
    inbox_wakeups: Notifier<Handle>,
    group_wakeups: Notifier<[u8; 32]>,
    shutdown: Shutdown,
}

impl RelayState {
    /// Fresh in-memory state over `store`.
    pub(crate) fn new(store: Store, shutdown: Shutdown) -> Arc<RelayState> {
        Arc::new(RelayState {
            store,
            challenges: Challenges::new(),
            replay: ReplayCache::new(),
            inbox_wakeups: Notifier::new(),
            group_wakeups: Notifier::new(),
            shutdown,
        })
    }
}
