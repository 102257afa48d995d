//! Group log RPCs, each signed with the relay access key of the epoch it acts in.

use futures::stream::{BoxStream, StreamExt};
use parley_crypto::access::{AccessKey, AccessPublicKey};
use parley_crypto::auth::{body, GroupMethod};
use parley_crypto::mls::GroupId;
use parley_proto::v1 as proto;

use super::auth::group_auth;
use super::types::{GroupNotice, GroupSubscriptionRequest, ReadPage};
use super::RelayConnection;
use crate::api::error::RelayError;

/// The most groups one subscription may name (the relay's limit).
pub(crate) const MAX_SUBSCRIBED_GROUPS: usize = 256;

impl RelayConnection {
    /// Creates a group log at epoch 0 guarded by `access`. `AlreadyExists` if the id is taken.
    pub(crate) async fn create_group(
        &self,
        group_id: &GroupId,
        access: &AccessKey,
        now_ms: u64,
    ) -> Result<(), RelayError> {
        let access_key = access.public_key().to_bytes();
        let auth = group_auth(
            GroupMethod::Create,
            group_id,
            0,
            access,
            now_ms,
            &body::create(&access_key),
        );
        self.groups()
            .create(proto::CreateGroupRequest {
                group_id: group_id.to_vec(),
                access_key: access_key.to_vec(),
                auth: Some(auth),
            })
            .await?;
        Ok(())
    }

    /// Appends an application message in `epoch`; returns its sequence number.
    /// `EpochConflict` if the group has moved on.
    pub(crate) async fn post(
        &self,
        group_id: &GroupId,
        epoch: u64,
        access: &AccessKey,
        message: &[u8],
        now_ms: u64,
    ) -> Result<u64, RelayError> {
        let auth = group_auth(
            GroupMethod::Post,
            group_id,
            epoch,
            access,
            now_ms,
            &body::post(message),
        );
        let response = self
            .groups()
            .post(proto::PostRequest {
                group_id: group_id.to_vec(),
                epoch,
                message: message.to_vec(),
                auth: Some(auth),
            })
            .await?;
        Ok(response.into_inner().seq)
    }

    /// Appends a commit moving the group from `epoch` to `epoch + 1`, whose access key is
    /// `next_access`; returns its sequence number. `EpochConflict` if another commit won.
    pub(crate) async fn commit(
        &self,
        group_id: &GroupId,
        epoch: u64,
        access: &AccessKey,
        message: &[u8],
        next_access: &AccessPublicKey,
        now_ms: u64,
    ) -> Result<u64, RelayError> {
        let next_access_key = next_access.to_bytes();
        let auth = group_auth(
            GroupMethod::Commit,
            group_id,
            epoch,
            access,
            now_ms,
            &body::commit(message, &next_access_key),
        );
        let response = self
            .groups()
            .commit(proto::CommitRequest {
                group_id: group_id.to_vec(),
                epoch,
                message: message.to_vec(),
                next_access_key: next_access_key.to_vec(),
                auth: Some(auth),
            })
            .await?;
        Ok(response.into_inner().seq)
    }

    /// Tells the relay the group's agreed retention (`ttl_secs`, 0 for none) with the key
    /// of `epoch`, which must be the current one (`EpochConflict` otherwise).
    pub(crate) async fn set_retention(
        &self,
        group_id: &GroupId,
        epoch: u64,
        access: &AccessKey,
        ttl_secs: u64,
        now_ms: u64,
    ) -> Result<(), RelayError> {
        let auth = group_auth(
            GroupMethod::SetRetention,
            group_id,
            epoch,
            access,
            now_ms,
            &body::set_retention(ttl_secs),
        );
        self.groups()
            .set_retention(proto::SetRetentionRequest {
                group_id: group_id.to_vec(),
                epoch,
                ttl_seconds: ttl_secs,
                auth: Some(auth),
            })
            .await?;
        Ok(())
    }

    /// Reads up to `limit` entries of `epoch` from `from_seq` on (0 lets the relay choose).
    pub(crate) async fn read(
        &self,
        group_id: &GroupId,
        epoch: u64,
        access: &AccessKey,
        from_seq: u64,
        limit: u32,
        now_ms: u64,
    ) -> Result<ReadPage, RelayError> {
        let auth = group_auth(
            GroupMethod::Read,
            group_id,
            epoch,
            access,
            now_ms,
            &body::read(from_seq, limit),
        );
        let response = self
            .groups()
            .read(proto::ReadRequest {
                group_id: group_id.to_vec(),
                epoch,
                from_seq,
                limit,
                auth: Some(auth),
            })
            .await?
            .into_inner();
        ReadPage::from_wire(response, epoch, from_seq)
    }

    /// Streams a notice whenever one of the groups gets a new entry. At most
    /// [`MAX_SUBSCRIBED_GROUPS`] groups, at least one.
    pub(crate) async fn subscribe_groups(
        &self,
        subs: &[GroupSubscriptionRequest<'_>],
        now_ms: u64,
    ) -> Result<BoxStream<'static, Result<GroupNotice, RelayError>>, RelayError> {
        if subs.is_empty() || subs.len() > MAX_SUBSCRIBED_GROUPS {
            return Err(RelayError::InvalidArgument(format!(
                "a subscription must name 1 to {MAX_SUBSCRIBED_GROUPS} groups, not {}",
                subs.len()
            )));
        }
        let groups = subs
            .iter()
            .map(|sub| proto::GroupSubscription {
                group_id: sub.group_id.to_vec(),
                epoch: sub.epoch,
                auth: Some(group_auth(
                    GroupMethod::Subscribe,
                    &sub.group_id,
                    sub.epoch,
                    sub.access,
                    now_ms,
                    &body::empty(),
                )),
            })
            .collect();
        let subscribed: Vec<(GroupId, u64)> =
            subs.iter().map(|sub| (sub.group_id, sub.epoch)).collect();
        let stream = self
            .groups()
            .subscribe(proto::SubscribeGroupsRequest { groups })
            .await?
            .into_inner();
        // The stream keeps the connection in use (and so open) for as long as it lives.
        let held = self.clone();
        Ok(stream
            .map(move |item| {
                let _in_use = &held;
                GroupNotice::from_wire(item?, &subscribed)
            })
            .boxed())
    }
}
