//! Groups service: append-only group logs guarded by per-epoch access keys.

use std::collections::HashSet;
use std::pin::Pin;
use std::sync::Arc;

use futures::{Stream, StreamExt};
use parley_crypto::access::AccessPublicKey;
use parley_crypto::auth::{body, GroupMethod};
use parley_proto::v1::groups_server::Groups;
use parley_proto::v1::{
    CommitRequest, CommitResponse, CreateGroupRequest, CreateGroupResponse, Entry, GroupNotice,
    PostRequest, PostResponse, ReadRequest, ReadResponse, SubscribeGroupsRequest,
};
use tokio_stream::wrappers::WatchStream;
use tonic::{Request, Response, Status};

use super::group_auth::GroupProof;
use super::{status, RelayState};
use crate::limits::{
    self, InvalidField, ID_LEN, MAX_MESSAGE_LEN, MAX_RESPONSE_PAYLOAD, MAX_SUBSCRIPTIONS,
};
use crate::metrics::Kind;
use crate::store::{Appended, Created, EpochKey};

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
fn access_key(field: &str, value: &[u8]) -> Result<[u8; 32], InvalidField> {
    let key = limits::exact::<ID_LEN>(field, value)?;
    AccessPublicKey::from_bytes(&key)
        .map_err(|_| InvalidField::new(field, "is not a valid Ed25519 public key"))?;
    Ok(key)
}

impl RelayState {
    /// The access key of `epoch`, or why requests for that epoch cannot be served.
    fn epoch_key_or_refusal(&self, group_id: &[u8; 32], epoch: u64) -> Result<EpochKey, Status> {
        if let Some(key) = self
            .store
            .epoch_key(group_id, epoch)
            .map_err(status::storage)?
        {
            return Ok(key);
        }
        match self.store.group_meta(group_id).map_err(status::storage)? {
            None => Err(Status::not_found("group not found")),
            Some(_) => Err(Status::failed_precondition(
                "epoch: the group has not reached this epoch",
            )),
        }
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
        let key = self.epoch_key_or_refusal(group_id, epoch)?;
        let digest = match next_key {
            Some(next) => body::commit(message, next),
            None => body::post(message),
        };
        self.verify_group(method, group_id, epoch, &key.key, proof, &digest)?;
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
            Appended::EpochMoved { .. } => Err(Status::failed_precondition(
                "epoch: the group is no longer at this epoch",
            )),
            Appended::NoGroup => Err(Status::not_found("group not found")),
        }
    }
}

#[tonic::async_trait]
impl Groups for GroupsService {
    async fn create(
        &self,
        request: Request<CreateGroupRequest>,
    ) -> Result<Response<CreateGroupResponse>, Status> {
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        let key = access_key("access_key", &request.access_key)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref())?;
        self.state.verify_group(
            GroupMethod::Create,
            &group_id,
            0,
            &key,
            &proof,
            &body::create(&key),
        )?;
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
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        limits::sized("message", &request.message, 1, MAX_MESSAGE_LEN)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref())?;
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
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        limits::sized("message", &request.message, 1, MAX_MESSAGE_LEN)?;
        let next_key = access_key("next_access_key", &request.next_access_key)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref())?;
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
        let request = request.into_inner();
        let group_id = limits::exact::<ID_LEN>("group_id", &request.group_id)?;
        let limit = limits::batch_limit("limit", request.limit)?;
        let proof = GroupProof::parse("auth", request.auth.as_ref())?;
        let key = self.state.epoch_key_or_refusal(&group_id, request.epoch)?;
        self.state.verify_group(
            GroupMethod::Read,
            &group_id,
            request.epoch,
            &key.key,
            &proof,
            &body::read(request.from_seq, request.limit),
        )?;
        let store = &self.state.store;
        let entries = store
            .read_entries(
                &group_id,
                request.epoch,
                key.first_seq,
                request.from_seq,
                limit,
                MAX_RESPONSE_PAYLOAD,
            )
            .map_err(status::storage)?;
        self.state.metrics.delivered(Kind::Group, entries.len());
        // Read after the entries, so next_seq is never below an entry returned.
        let meta = store
            .group_meta(&group_id)
            .map_err(status::storage)?
            .ok_or_else(|| Status::not_found("group not found"))?;
        Ok(Response::new(ReadResponse {
            entries: entries
                .into_iter()
                .map(|e| Entry {
                    seq: e.seq,
                    epoch: e.epoch,
                    commit: e.commit,
                    message: e.message,
                })
                .collect(),
            current_epoch: meta.epoch,
            next_seq: meta.next_seq,
        }))
    }

    type SubscribeStream = NoticeStream;

    async fn subscribe(
        &self,
        request: Request<SubscribeGroupsRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let request = request.into_inner();
        limits::count("groups", request.groups.len(), 1, MAX_SUBSCRIPTIONS)?;
        let mut checked = Vec::with_capacity(request.groups.len());
        for (i, sub) in request.groups.iter().enumerate() {
            let group_id =
                limits::exact::<ID_LEN>(&format!("groups[{i}].group_id"), &sub.group_id)?;
            let proof = GroupProof::parse(&format!("groups[{i}].auth"), sub.auth.as_ref())?;
            checked.push((group_id, sub.epoch, proof));
        }
        let mut group_ids = Vec::with_capacity(checked.len());
        let mut seen = HashSet::new();
        for (group_id, epoch, proof) in &checked {
            let key = self.state.epoch_key_or_refusal(group_id, *epoch)?;
            self.state.verify_group(
                GroupMethod::Subscribe,
                group_id,
                *epoch,
                &key.key,
                proof,
                &body::empty(),
            )?;
            if seen.insert(*group_id) {
                group_ids.push(*group_id);
            }
        }
        let slot = self.state.subscriptions.open(Kind::Group)?;
        let streams = group_ids.into_iter().map(|group_id| {
            let wake = self.state.group_wakeups.subscribe(&group_id);
            WatchStream::from_changes(wake).map(move |seq| {
                Ok(GroupNotice {
                    group_id: group_id.to_vec(),
                    seq,
                })
            })
        });
        let merged = futures::stream::select_all(streams).map(move |notice| {
            // The slot lives as long as the stream.
            let _open = &slot;
            notice
        });
        Ok(Response::new(Box::pin(self.state.shutdown.guard(merged))))
    }
}
