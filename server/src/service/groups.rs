//! Groups service: append-only group logs guarded by per-epoch access keys.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use parley_crypto::access::AccessPublicKey;
use parley_crypto::auth::{body, GroupMethod};
use parley_proto::v1::groups_server::Groups;
use parley_proto::v1::{
    CommitRequest, CommitResponse, CreateGroupRequest, CreateGroupResponse, GroupNotice,
    PostRequest, PostResponse, ReadRequest, ReadResponse, SetRetentionRequest,
    SetRetentionResponse, SubscribeGroupsRequest,
};
use tonic::{Request, Response, Status};

use super::epoch_notices::{self, wire_entry, EpochWatch};
use super::group_auth::{refused, GroupProof};
use super::{status, RelayState};
use crate::limits::{
    self, InvalidField, ID_LEN, MAX_MESSAGE_LEN, MAX_RESPONSE_PAYLOAD, MAX_SUBSCRIPTIONS,
};
use crate::metrics::Kind;
use crate::store::{Appended, Created, TtlSet};

/// Implements `parley.v1.Groups`.
pub(crate) struct GroupsService {
    state: Arc<RelayState>,
}

impl GroupsService {
    pub(crate) fn new(state: Arc<RelayState>) -> Self {
        GroupsService { state }
    }
}

/// Stream of notices for one subscriber.
type NoticeStream = Pin<Box<dyn Stream<Item = Result<GroupNotice, Status>> + Send + 'static>>;

/// A valid Ed25519 public key of exactly 32 bytes.
fn access_key(field: &str, value: &[u8]) -> Result<([u8; 32], AccessPublicKey), InvalidField> {
    let key = limits::exact::<ID_LEN>(field, value)?;
    let public = AccessPublicKey::from_bytes(&key)
        .map_err(|_| InvalidField::new(field, "is not a valid Ed25519 public key"))?;
    Ok((key, public))
}

/// Where a group's log stands, as far as the holder of one epoch's key may know: the
/// `current_epoch` and `next_seq` of a [`ReadResponse`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Position {
    /// The epoch read while it is current, the next one once it is closed.
    epoch: u64,
    /// The next entry's sequence number, or the one after the commit that closed the epoch.
    next_seq: u64,
}

impl RelayState {
    /// The group's position as told to a reader of `epoch`: the group's own while that
    /// epoch is current; once a commit closed it, the epoch that commit opened and the
    /// sequence number after it, which the commit (an entry of the reader's epoch) tells
    /// anyway. Nothing later shows: not how many entries, nor how many epochs, followed.
    async fn position_for(&self, group_id: &[u8; 32], epoch: u64) -> Result<Position, Status> {
        let meta = self
            .store
            .group_meta(group_id)
            .await
            .map_err(status::storage)?
            .ok_or_else(refused)?;
        if meta.epoch == epoch {
            return Ok(Position {
                epoch,
                next_seq: meta.next_seq,
            });
        }
        // The next epoch's key was written before the position that moved the group past
        // `epoch`, and only keys no stored position reached are ever removed.
        let next = epoch
            .checked_add(1)
            .ok_or_else(|| Status::internal("internal error"))?;
        let key = self
            .store
            .epoch_key(group_id, next)
            .await
            .map_err(status::storage)?
            .ok_or_else(|| {
                tracing::error!(
                    epoch,
                    "group moved past an epoch without its successor's key"
                );
                Status::internal("internal error")
            })?;
        Ok(Position {
            epoch: next,
            next_seq: key.first_seq,
        })
    }

    /// Verifies the auth of a Post or Commit at `epoch`, then appends.
    async fn append(
        &self,
        method: GroupMethod,
        group_id: &[u8; 32],
        epoch: u64,
        message: &[u8],
        next_key: Option<&[u8; 32]>,
        proof: &GroupProof,
    ) -> Result<u64, Status> {
        let digest = match next_key {
            Some(next) => body::commit(message, next),
            None => body::post(message),
        };
        self.authenticate_group(method, group_id, epoch, proof, &digest)
            .await?;
        let appended = self
            .store
            .append(group_id, epoch, message, next_key, self.clock.now_ms())
            .await
            .map_err(status::storage)?;
        match appended {
            Appended::At(seq) => {
                self.metrics.accepted(Kind::Group, message.len());
                self.group_wakeups.notify(group_id, seq);
                Ok(seq)
            }
            // Told only to a holder of this epoch's key, who may read the commit that closed
            // it anyway.
            Appended::EpochMoved { .. } => Err(Status::failed_precondition(
                "epoch: the group is no longer at this epoch",
            )),
            // Groups are never deleted, so this cannot follow a successful authentication;
            // answered as any refusal would be.
            Appended::NoGroup => Err(refused()),
        }
    }
}

#[tonic::async_trait]
impl Groups for GroupsService {
    async fn create(
        &self,
        request: Request<CreateGroupRequest>,
    ) -> Result<Response<CreateGroupResponse>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        let (key, public) = access_key("access_key", &request.access_key)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref(), source)?;
        // A taken id is refused before the request is authenticated and remembered against
        // replay, so that Creates of existing groups fill no cache. (Whether an id is taken
        // is no secret: a Create with it tells anyone.)
        if self
            .state
            .store
            .epoch_key(&group_id, 0)
            .await
            .map_err(status::storage)?
            .is_some()
        {
            return Err(Status::already_exists("group_id is already taken"));
        }
        self.state
            .authenticate_create(&group_id, &public, &proof, &body::create(&key))
            .await?;
        match self
            .state
            .store
            .create_group(&group_id, &key)
            .await
            .map_err(status::storage)?
        {
            Created::Created => Ok(Response::new(CreateGroupResponse {})),
            Created::Exists => Err(Status::already_exists("group_id is already taken")),
        }
    }

    async fn post(&self, request: Request<PostRequest>) -> Result<Response<PostResponse>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        limits::padded("message", &request.message, MAX_MESSAGE_LEN)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref(), source)?;
        let seq = self
            .state
            .append(
                GroupMethod::Post,
                &group_id,
                request.epoch,
                &request.message,
                None,
                &proof,
            )
            .await?;
        Ok(Response::new(PostResponse { seq }))
    }

    async fn commit(
        &self,
        request: Request<CommitRequest>,
    ) -> Result<Response<CommitResponse>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        limits::padded("message", &request.message, MAX_MESSAGE_LEN)?;
        let (next_key, _) = access_key("next_access_key", &request.next_access_key)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref(), source)?;
        let seq = self
            .state
            .append(
                GroupMethod::Commit,
                &group_id,
                request.epoch,
                &request.message,
                Some(&next_key),
                &proof,
            )
            .await?;
        Ok(Response::new(CommitResponse { seq }))
    }

    async fn read(&self, request: Request<ReadRequest>) -> Result<Response<ReadResponse>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        let limit = limits::batch_limit("limit", request.limit)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref(), source)?;
        let key = self
            .state
            .authenticate_group(
                GroupMethod::Read,
                &group_id,
                request.epoch,
                &proof,
                &body::read(request.from_seq, request.limit),
            )
            .await?;
        let entries = self
            .state
            .store
            .read_entries(
                &group_id,
                request.epoch,
                key.first_seq,
                request.from_seq,
                limit,
                MAX_RESPONSE_PAYLOAD,
            )
            .await
            .map_err(status::storage)?;
        self.state.metrics.delivered(Kind::Group, entries.len());
        // Read after the entries, so next_seq is never below an entry returned.
        let position = self.state.position_for(&group_id, request.epoch).await?;
        Ok(Response::new(ReadResponse {
            entries: entries.into_iter().map(wire_entry).collect(),
            current_epoch: position.epoch,
            next_seq: position.next_seq,
        }))
    }

    async fn set_retention(
        &self,
        request: Request<SetRetentionRequest>,
    ) -> Result<Response<SetRetentionResponse>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        let ttl = limits::retention_secs("ttl_seconds", request.ttl_seconds)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref(), source)?;
        self.state
            .authenticate_group(
                GroupMethod::SetRetention,
                &group_id,
                request.epoch,
                &proof,
                &body::set_retention(ttl),
            )
            .await?;
        // Only the current epoch's key: a member removed since still holds older ones.
        match self
            .state
            .store
            .set_group_ttl(&group_id, request.epoch, ttl)
            .await
            .map_err(status::storage)?
        {
            TtlSet::Set => Ok(Response::new(SetRetentionResponse {})),
            TtlSet::EpochMoved => Err(Status::failed_precondition(
                "epoch: the group is no longer at this epoch",
            )),
            TtlSet::NoGroup => Err(refused()),
        }
    }

    type SubscribeStream = NoticeStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeGroupsRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let source = limits::source_of(request.remote_addr());
        let request = request.into_inner();
        limits::count("groups", request.groups.len(), 1, MAX_SUBSCRIPTIONS)?;
        let mut checked = Vec::with_capacity(request.groups.len());
        for (i, sub) in request.groups.iter().enumerate() {
            let group_id =
                limits::exact::<ID_LEN>(&format!("groups[{i}].group_id"), &sub.group_id)?;
            let proof = GroupProof::parse(&format!("groups[{i}].auth"), sub.auth.as_ref(), source)?;
            checked.push((group_id, sub.epoch, proof));
        }
        let mut watched = HashSet::new();
        let mut watches = Vec::with_capacity(checked.len());
        for (group_id, epoch, proof) in &checked {
            // Subscribed before the epoch is found open, so a commit landing in between
            // still wakes the watch.
            let wake = self.state.group_wakeups.subscribe(group_id);
            self.state
                .authenticate_group(
                    GroupMethod::Subscribe,
                    group_id,
                    *epoch,
                    proof,
                    &body::empty(),
                )
                .await?;
            if watched.insert((*group_id, *epoch)) {
                watches.push(EpochWatch::new(
                    self.state.store.clone(),
                    *group_id,
                    *epoch,
                    wake,
                ));
            }
        }
        let slot = self.state.subscriptions.open(Kind::Group, source)?;
        let notices = epoch_notices::notices(watches).map(move |notice| {
            // The slot lives as long as the stream.
            let _open = &slot;
            notice
        });
        Ok(Response::new(Box::pin(self.state.shutdown.guard(notices))))
    }
}
