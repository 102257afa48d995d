//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`): not a stable API.
//!
//! The store's record decoders and the gRPC handlers are private; these wrappers reach them
//! with outside bytes the way a corrupt disk or a hostile client would.

use std::path::Path;
use std::sync::Arc;

use parley_crypto::handle::Handle;
use parley_proto::v1::blobs_server::Blobs;
use parley_proto::v1::directory_server::Directory;
use parley_proto::v1::groups_server::Groups;
use parley_proto::v1::inbox_server::Inbox;
use parley_proto::v1::{
    AckRequest, ChallengeRequest, ClaimKeyPackageRequest, CommitRequest, CreateGroupRequest,
    DepositRequest, DownloadRequest, FetchRequest, LookupRequest, PostRequest,
    PublishKeyPackagesRequest, ReadRequest, RegisterRequest, RotateRequest, SetRetentionRequest,
    ShortenRequest,
};
use prost::Message;
use tonic::Request;

use crate::clock::SystemClock;
use crate::error::RelayError;
use crate::limits::LimitsConfig;
use crate::service::{BlobsService, DirectoryService, GroupsService, InboxService, RelayState};
use crate::shutdown::{self, ShutdownTrigger};
use crate::store::SledStore;

/// Opens the database in `dir` (as the relay does at start, which decodes every inbox and
/// group counter) and reads back every record the given handles and groups name: directory
/// records and their rotations, pending deliveries, group positions, epoch keys and log
/// entries, blobs (by the group ids) and their first chunks; then runs the retention sweeps. Returns how many records decoded; a malformed record must be an error,
/// never a panic.
pub fn read_store(
    dir: &Path,
    handles: &[Vec<u8>],
    groups: &[[u8; 32]],
) -> Result<usize, RelayError> {
    let store = SledStore::open_unflushed(dir)?;
    let mut decoded = 0usize;
    for raw in handles {
        let Ok(handle) = Handle::from_bytes(raw) else {
            continue;
        };
        if store.lookup(&handle)?.is_some() {
            decoded += 1;
        }
        decoded += store.rotations(&handle).map(|r| r.len()).unwrap_or(0);
        decoded += store
            .pending_deliveries(&handle, 0, 64, 1 << 20)
            .map(|d| d.len())
            .unwrap_or(0);
    }
    for id in groups {
        // The same ids name blobs: their records and first chunks.
        if let Ok(Some(blob)) = store.blob(id) {
            decoded += 1;
            decoded += (0..blob.stored.min(4))
                .filter(|&i| matches!(store.blob_chunk(id, i), Ok(Some(_))))
                .count();
        }
    }
    for group in groups {
        let Ok(Some(meta)) = store.group_meta(group) else {
            continue;
        };
        decoded += 1;
        for epoch in meta.epoch.saturating_sub(2)..=meta.epoch {
            if let Ok(Some(key)) = store.epoch_key(group, epoch) {
                decoded += 1;
                decoded += store
                    .read_entries(group, epoch, key.first_seq, 0, 64, 1 << 20)
                    .map(|e| e.len())
                    .unwrap_or(0);
            }
        }
    }
    // Sweeping everything decodes every timed record and rewrites the counters.
    let _ = store.expire_entries(u64::MAX, Some(0));
    let _ = store.expire_deliveries(u64::MAX);
    let _ = store.expire_blobs(u64::MAX, Some(0));
    Ok(decoded)
}

/// The relay's three services over one database, called in-process without the network.
pub struct Handlers {
    directory: DirectoryService,
    inbox: InboxService,
    groups: GroupsService,
    blobs: BlobsService,
    // Dropping the trigger would read as a shutdown to the services.
    _shutdown: ShutdownTrigger,
}

impl Handlers {
    /// Opens (or creates) a database in `dir` with the default limits; writes are not
    /// flushed to disk.
    pub fn open(dir: &Path) -> Result<Handlers, RelayError> {
        let store = SledStore::open_unflushed(dir)?;
        let (trigger, signal) = shutdown::channel();
        let state: Arc<RelayState> = RelayState::new(
            Arc::new(store),
            signal,
            &LimitsConfig::default(),
            Arc::new(SystemClock),
        );
        Ok(Handlers {
            directory: DirectoryService::new(state.clone()),
            inbox: InboxService::new(state.clone()),
            groups: GroupsService::new(state.clone()),
            blobs: BlobsService::new(state),
            _shutdown: trigger,
        })
    }

    /// Number of unary methods [`Handlers::call`] dispatches to.
    pub const METHODS: u8 = 16;

    /// Decodes `body` as the request of unary method `method % METHODS` and calls its handler.
    /// Returns `None` if the bytes are not that request, else whether the handler accepted it.
    pub async fn call(&self, method: u8, body: &[u8]) -> Option<bool> {
        fn req<T: Message + Default>(body: &[u8]) -> Option<Request<T>> {
            T::decode(body).ok().map(Request::new)
        }
        let ok = match method % Self::METHODS {
            0 => self
                .directory
                .register(req::<RegisterRequest>(body)?)
                .await
                .is_ok(),
            1 => self
                .directory
                .lookup(req::<LookupRequest>(body)?)
                .await
                .is_ok(),
            2 => self
                .directory
                .challenge(req::<ChallengeRequest>(body)?)
                .await
                .is_ok(),
            3 => self
                .directory
                .publish_key_packages(req::<PublishKeyPackagesRequest>(body)?)
                .await
                .is_ok(),
            4 => self
                .directory
                .claim_key_package(req::<ClaimKeyPackageRequest>(body)?)
                .await
                .is_ok(),
            5 => self
                .inbox
                .deposit(req::<DepositRequest>(body)?)
                .await
                .is_ok(),
            6 => self.inbox.fetch(req::<FetchRequest>(body)?).await.is_ok(),
            7 => self.inbox.ack(req::<AckRequest>(body)?).await.is_ok(),
            8 => self
                .groups
                .create(req::<CreateGroupRequest>(body)?)
                .await
                .is_ok(),
            9 => self.groups.post(req::<PostRequest>(body)?).await.is_ok(),
            10 => self
                .groups
                .commit(req::<CommitRequest>(body)?)
                .await
                .is_ok(),
            11 => self.groups.read(req::<ReadRequest>(body)?).await.is_ok(),
            12 => self
                .directory
                .rotate(req::<RotateRequest>(body)?)
                .await
                .is_ok(),
            13 => self
                .groups
                .set_retention(req::<SetRetentionRequest>(body)?)
                .await
                .is_ok(),
            14 => self
                .blobs
                .download(req::<DownloadRequest>(body)?)
                .await
                .is_ok(),
            _ => self
                .blobs
                .shorten(req::<ShortenRequest>(body)?)
                .await
                .is_ok(),
        };
        Some(ok)
    }
}
