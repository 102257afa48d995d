//! Group log calls as a member makes them: each request signed with the access key of the
//! epoch it names, over real tonic clients.

use parley_crypto::access::AccessKey;
use parley_crypto::auth::{body, GroupMethod};
use parley_crypto::padding;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::{
    CommitRequest, CreateGroupRequest, GroupNotice, GroupSubscription, PostRequest, ReadRequest,
    ReadResponse, SetRetentionRequest, SubscribeGroupsRequest,
};
use tonic::transport::Channel;
use tonic::Streaming;

use super::{access_key, group_auth, random};

/// A new group with the access keys of its first epochs, and a subscription made at epoch 0
/// on a connection of its own.
pub struct Subscribed {
    /// The connection that made the group, for its posts and commits.
    pub groups: GroupsClient<Channel>,
    /// The group.
    pub group_id: [u8; 32],
    /// Access keys of epochs 0, 1, ... (only the first is registered at creation).
    pub keys: Vec<AccessKey>,
    /// The notices of epoch 0.
    pub stream: Streaming<GroupNotice>,
}

/// Creates a group at epoch 0 with `epochs` access keys ready, and subscribes to it.
pub async fn subscribed(relay: &parley_testkit::TestRelay, epochs: usize) -> Subscribed {
    let mut groups = relay.groups().await;
    let group_id = random::<32>();
    let keys: Vec<AccessKey> = (0..epochs).map(|_| access_key()).collect();
    create(&mut groups, &group_id, &keys[0]).await;
    let mut listener = relay.groups().await;
    let stream = subscribe(&mut listener, vec![subscription(&group_id, 0, &keys[0])])
        .await
        .unwrap();
    Subscribed {
        groups,
        group_id,
        keys,
        stream,
    }
}

/// `text` as a padded frame (a bucket size, as the relay requires of every entry).
pub fn frame(text: &str) -> Vec<u8> {
    padding::pad(text.as_bytes(), 0).unwrap()
}

/// Creates `group_id` at epoch 0 guarded by `key`.
pub async fn create(groups: &mut GroupsClient<Channel>, group_id: &[u8; 32], key: &AccessKey) {
    let public = key.public_key().to_bytes();
    groups
        .create(CreateGroupRequest {
            group_id: group_id.to_vec(),
            access_key: public.to_vec(),
            auth: Some(group_auth(
                key,
                GroupMethod::Create,
                group_id,
                0,
                body::create(&public),
            )),
        })
        .await
        .unwrap();
}

/// Posts `message` at `epoch`; returns its sequence number.
pub async fn post(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    message: &[u8],
) -> Result<u64, tonic::Status> {
    groups
        .post(PostRequest {
            group_id: group_id.to_vec(),
            epoch,
            message: message.to_vec(),
            auth: Some(group_auth(
                key,
                GroupMethod::Post,
                group_id,
                epoch,
                body::post(message),
            )),
        })
        .await
        .map(|r| r.into_inner().seq)
}

/// Commits `message` from `epoch` to `epoch + 1`, whose access key is `next`.
pub async fn commit(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    message: &[u8],
    next: &AccessKey,
) -> Result<u64, tonic::Status> {
    let next_public = next.public_key().to_bytes();
    groups
        .commit(CommitRequest {
            group_id: group_id.to_vec(),
            epoch,
            message: message.to_vec(),
            next_access_key: next_public.to_vec(),
            auth: Some(group_auth(
                key,
                GroupMethod::Commit,
                group_id,
                epoch,
                body::commit(message, &next_public),
            )),
        })
        .await
        .map(|r| r.into_inner().seq)
}

/// Sets the group's agreed retention with the key of `epoch`.
pub async fn set_retention(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    ttl_seconds: u64,
) -> Result<(), tonic::Status> {
    groups
        .set_retention(SetRetentionRequest {
            group_id: group_id.to_vec(),
            epoch,
            ttl_seconds,
            auth: Some(group_auth(
                key,
                GroupMethod::SetRetention,
                group_id,
                epoch,
                body::set_retention(ttl_seconds),
            )),
        })
        .await
        .map(|_| ())
}

/// Reads the entries of `epoch` from `from_seq` on.
pub async fn read(
    groups: &mut GroupsClient<Channel>,
    group_id: &[u8; 32],
    epoch: u64,
    key: &AccessKey,
    from_seq: u64,
) -> Result<ReadResponse, tonic::Status> {
    groups
        .read(ReadRequest {
            group_id: group_id.to_vec(),
            epoch,
            from_seq,
            limit: 0,
            auth: Some(group_auth(
                key,
                GroupMethod::Read,
                group_id,
                epoch,
                body::read(from_seq, 0),
            )),
        })
        .await
        .map(|r| r.into_inner())
}

/// One group of a subscription, signed with the access key of `epoch`.
pub fn subscription(group_id: &[u8; 32], epoch: u64, key: &AccessKey) -> GroupSubscription {
    GroupSubscription {
        group_id: group_id.to_vec(),
        epoch,
        auth: Some(group_auth(
            key,
            GroupMethod::Subscribe,
            group_id,
            epoch,
            body::empty(),
        )),
    }
}

/// Subscribes to `groups`.
pub async fn subscribe(
    client: &mut GroupsClient<Channel>,
    groups: Vec<GroupSubscription>,
) -> Result<Streaming<GroupNotice>, tonic::Status> {
    client
        .subscribe(SubscribeGroupsRequest { groups })
        .await
        .map(|r| r.into_inner())
}
