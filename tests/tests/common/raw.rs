//! A member that speaks the wire protocol directly (raw gRPC + parley-crypto), so a test can
//! hold its exact keys, e.g. a removed member's last relay access key.

use parley_crypto::access::AccessKey;
use parley_crypto::auth::{self, body, GroupMethod, OwnerMethod};
use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::mls::{GroupId, Incoming, Mls};
use parley_crypto::payload::Payload;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{
    AckRequest, ChallengeRequest, FetchRequest, GroupAuth, LookupRequest, OwnerAuth, PostRequest,
    PublishKeyPackagesRequest, ReadRequest, ReadResponse, RegisterRequest,
};
use rand::rngs::OsRng;
use rand::RngCore;
use tonic::transport::Channel;
use tonic::Status;

use super::now_ms;

/// Raw gRPC clients of the three services over one channel.
#[derive(Clone)]
pub(crate) struct Raw {
    pub(crate) directory: DirectoryClient<Channel>,
    pub(crate) inbox: InboxClient<Channel>,
    pub(crate) groups: GroupsClient<Channel>,
}

impl Raw {
    /// Clients over `channel`.
    pub(crate) fn new(channel: Channel) -> Raw {
        Raw {
            directory: DirectoryClient::new(channel.clone()),
            inbox: InboxClient::new(channel.clone()),
            groups: GroupsClient::new(channel),
        }
    }

    /// A fresh challenge from the relay, for `handle`'s owner calls.
    pub(crate) async fn challenge(&self, handle: &Handle) -> [u8; 32] {
        let c = self
            .directory
            .clone()
            .challenge(ChallengeRequest {
                handle: handle.as_str().to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .challenge;
        c.try_into().unwrap()
    }
}

/// Signs an owner-auth for `handle` over a fresh challenge.
pub(crate) async fn owner_auth(
    raw: &Raw,
    identity: &IdentitySecretKey,
    handle: &Handle,
    method: OwnerMethod,
    digest: &[u8; 32],
) -> OwnerAuth {
    let challenge = raw.challenge(handle).await;
    let transcript = auth::owner_transcript(method, handle, &challenge, digest);
    OwnerAuth {
        challenge: challenge.to_vec(),
        signature: identity.sign(&transcript).to_vec(),
    }
}

/// Signs a group-auth with `key` for `epoch`, timestamped now, with a fresh nonce.
pub(crate) fn group_auth(
    key: &AccessKey,
    method: GroupMethod,
    group_id: &GroupId,
    epoch: u64,
    digest: &[u8; 32],
) -> GroupAuth {
    group_auth_at(key, method, group_id, epoch, digest, now_ms())
}

/// [`group_auth`] with a chosen timestamp.
pub(crate) fn group_auth_at(
    key: &AccessKey,
    method: GroupMethod,
    group_id: &GroupId,
    epoch: u64,
    digest: &[u8; 32],
    timestamp_ms: u64,
) -> GroupAuth {
    let mut nonce = [0u8; 16];
    OsRng.fill_bytes(&mut nonce);
    let transcript = auth::group_transcript(method, group_id, epoch, timestamp_ms, &nonce, digest);
    GroupAuth {
        timestamp_ms,
        nonce: nonce.to_vec(),
        signature: key.sign(&transcript).to_vec(),
    }
}

/// A signed Read request.
pub(crate) fn read_request(
    key: &AccessKey,
    group_id: &GroupId,
    epoch: u64,
    from_seq: u64,
    limit: u32,
) -> ReadRequest {
    ReadRequest {
        group_id: group_id.to_vec(),
        epoch,
        from_seq,
        limit,
        auth: Some(group_auth(
            key,
            GroupMethod::Read,
            group_id,
            epoch,
            &body::read(from_seq, limit),
        )),
    }
}

/// A signed Post request.
pub(crate) fn post_request(
    key: &AccessKey,
    group_id: &GroupId,
    epoch: u64,
    message: &[u8],
) -> PostRequest {
    PostRequest {
        group_id: group_id.to_vec(),
        epoch,
        message: message.to_vec(),
        auth: Some(group_auth(
            key,
            GroupMethod::Post,
            group_id,
            epoch,
            &body::post(message),
        )),
    }
}

/// A conversation member without the client library.
pub(crate) struct RawMember {
    pub(crate) handle: Handle,
    pub(crate) identity: IdentitySecretKey,
    pub(crate) inbox_key: InboxSecretKey,
    pub(crate) mls: Mls,
    pub(crate) raw: Raw,
    /// Next sequence number to read, per joined group.
    cursors: Vec<(GroupId, u64)>,
}

/// What a [`RawMember`] saw while catching up with a group log.
#[derive(Debug, Default)]
pub(crate) struct CatchUp {
    /// (sender handle, text) of application messages.
    pub(crate) texts: Vec<(String, String)>,
    /// (epoch, message bytes) of every entry processed, as the relay served it.
    pub(crate) entries: Vec<(u64, Vec<u8>)>,
    /// Entries MLS refused to process.
    pub(crate) rejected: usize,
    /// Commits merged.
    pub(crate) commits: usize,
    /// True once a commit removed this member.
    pub(crate) removed: bool,
}

impl RawMember {
    /// Registers `handle` and publishes a few KeyPackages and a last-resort one.
    pub(crate) async fn register(raw: Raw, handle: &str) -> RawMember {
        let handle = Handle::parse(handle).unwrap();
        let identity = IdentitySecretKey::generate(&mut OsRng);
        let inbox_key = InboxSecretKey::generate(&mut OsRng);
        let record = signed_record(&handle, &identity, &inbox_key);
        raw.directory
            .clone()
            .register(RegisterRequest {
                record: record.to_bytes(),
            })
            .await
            .unwrap();
        let mls = Mls::new(handle.clone(), &identity, Vec::new()).unwrap();
        let mut member = RawMember {
            handle,
            identity,
            inbox_key,
            mls,
            raw,
            cursors: Vec::new(),
        };
        member.publish_key_packages(3).await;
        member
    }

    /// Publishes `count` one-time KeyPackages and a last-resort one.
    pub(crate) async fn publish_key_packages(&mut self, count: usize) -> u32 {
        let kps = self
            .mls
            .generate_key_packages(count, false, now_ms())
            .unwrap();
        let last_resort = self
            .mls
            .generate_key_packages(1, true, now_ms())
            .unwrap()
            .remove(0);
        let digest = body::publish_key_packages(&kps, &last_resort);
        let auth = owner_auth(
            &self.raw,
            &self.identity,
            &self.handle,
            OwnerMethod::PublishKeyPackages,
            &digest,
        )
        .await;
        self.raw
            .directory
            .clone()
            .publish_key_packages(PublishKeyPackagesRequest {
                replace: false,
                handle: self.handle.as_str().to_owned(),
                key_packages: kps,
                last_resort,
                auth: Some(auth),
            })
            .await
            .unwrap()
            .into_inner()
            .available
    }

    /// Fetches the inbox, joins every group a Welcome invites to, acknowledges everything;
    /// returns (conversation name, group id, sender) per join.
    pub(crate) async fn accept_welcomes(&mut self) -> Vec<(String, GroupId, String)> {
        let limit = 100;
        let auth = owner_auth(
            &self.raw,
            &self.identity,
            &self.handle,
            OwnerMethod::Fetch,
            &body::fetch(limit),
        )
        .await;
        let deliveries = self
            .raw
            .inbox
            .clone()
            .fetch(FetchRequest {
                handle: self.handle.as_str().to_owned(),
                limit,
                auth: Some(auth),
            })
            .await
            .unwrap()
            .into_inner()
            .deliveries;
        let mut joined = Vec::new();
        let mut ids = Vec::new();
        for delivery in deliveries {
            ids.push(delivery.id);
            let opened = envelope::open(&delivery.envelope, &self.handle, &self.inbox_key).unwrap();
            let sender = opened.sender().clone();
            let sender_record = self.lookup(&sender).await;
            let message = opened
                .authenticate(&sender_record.record().inbox_key)
                .unwrap();
            match InboxMessage::decode(&message).unwrap() {
                InboxMessage::Welcome {
                    conversation_name,
                    welcome,
                }
                | InboxMessage::WelcomeWithRecords {
                    conversation_name,
                    welcome,
                    ..
                } => {
                    let staged = self.mls.stage_welcome(&welcome).unwrap();
                    let group_id = self.mls.join(staged).unwrap();
                    self.cursors.push((group_id, 0));
                    joined.push((conversation_name, group_id, sender.as_str().to_owned()));
                }
                _ => panic!("unexpected inbox message that is not a Welcome"),
            }
        }
        if !ids.is_empty() {
            let auth = owner_auth(
                &self.raw,
                &self.identity,
                &self.handle,
                OwnerMethod::Ack,
                &body::ack(&ids),
            )
            .await;
            self.raw
                .inbox
                .clone()
                .ack(AckRequest {
                    handle: self.handle.as_str().to_owned(),
                    ids,
                    auth: Some(auth),
                })
                .await
                .unwrap();
        }
        joined
    }

    /// Looks a handle up and verifies its record.
    pub(crate) async fn lookup(&self, handle: &Handle) -> SignedRecord {
        let bytes = self
            .raw
            .directory
            .clone()
            .lookup(LookupRequest {
                handle: handle.as_str().to_owned(),
            })
            .await
            .unwrap()
            .into_inner()
            .record;
        SignedRecord::decode_and_verify(&bytes).unwrap()
    }

    /// The relay access key of the group's current epoch (as this member knows it).
    pub(crate) fn access_key(&self, group_id: &GroupId) -> std::sync::Arc<AccessKey> {
        self.mls.access_key(group_id).unwrap()
    }

    /// The group's epoch as this member knows it.
    pub(crate) fn epoch(&self, group_id: &GroupId) -> u64 {
        self.mls.epoch(group_id).unwrap()
    }

    /// Reads and processes the group log from where it left off, epoch by epoch, until the
    /// log has nothing newer for it (or it was removed).
    pub(crate) async fn catch_up(&mut self, group_id: &GroupId) -> CatchUp {
        let mut seen = CatchUp::default();
        loop {
            let epoch = self.epoch(group_id);
            let key = self.access_key(group_id);
            let from = self.cursor(group_id);
            let page = self.read(&key, group_id, epoch, from).await.unwrap();
            let mut moved = false;
            for entry in page.entries {
                self.set_cursor(group_id, entry.seq + 1);
                seen.entries.push((entry.epoch, entry.message.clone()));
                let Ok(incoming) = self.mls.process(group_id, &entry.message) else {
                    // A replayed or foreign entry: MLS refuses it; nothing to show.
                    seen.rejected += 1;
                    continue;
                };
                match incoming {
                    Incoming::Application { sender, payload } => {
                        // Texts are what the tests compare; a workshop's text versions and
                        // the like are not.
                        if let Payload::Text { text, .. } = Payload::decode(&payload).unwrap() {
                            seen.texts.push((sender.handle.as_str().to_owned(), text));
                        }
                    }
                    Incoming::Commit(commit) => {
                        let removed = commit.removes_us();
                        self.mls.merge_incoming_commit(group_id, commit).unwrap();
                        seen.commits += 1;
                        if removed {
                            seen.removed = true;
                            return seen;
                        }
                        moved = true;
                        break;
                    }
                    Incoming::LeaveRequest(_) | Incoming::Ignored => {}
                }
            }
            if !moved {
                return seen;
            }
        }
    }

    /// Posts `message` to the group at this member's current epoch, signed afresh: the relay
    /// stores it as a new entry whatever its content.
    pub(crate) async fn post_raw(&self, group_id: &GroupId, message: &[u8]) -> u64 {
        let epoch = self.epoch(group_id);
        let key = self.access_key(group_id);
        self.raw
            .groups
            .clone()
            .post(post_request(&key, group_id, epoch, message))
            .await
            .unwrap()
            .into_inner()
            .seq
    }

    /// A raw Read of one epoch with a chosen key.
    pub(crate) async fn read(
        &self,
        key: &AccessKey,
        group_id: &GroupId,
        epoch: u64,
        from_seq: u64,
    ) -> Result<ReadResponse, Status> {
        self.raw
            .groups
            .clone()
            .read(read_request(key, group_id, epoch, from_seq, 100))
            .await
            .map(|r| r.into_inner())
    }

    fn cursor(&self, group_id: &GroupId) -> u64 {
        self.cursors
            .iter()
            .find(|(g, _)| g == group_id)
            .map(|(_, c)| *c)
            .unwrap_or(0)
    }

    fn set_cursor(&mut self, group_id: &GroupId, next: u64) {
        match self.cursors.iter_mut().find(|(g, _)| g == group_id) {
            Some((_, c)) => *c = next,
            None => self.cursors.push((*group_id, next)),
        }
    }
}

/// A directory record for `handle`, signed by `identity`.
pub(crate) fn signed_record(
    handle: &Handle,
    identity: &IdentitySecretKey,
    inbox_key: &InboxSecretKey,
) -> SignedRecord {
    DirectoryRecord {
        handle: handle.clone(),
        identity_key: identity.public_key(),
        inbox_key: inbox_key.public_key(),
        record_version: 1,
        created_at_ms: now_ms(),
    }
    .sign(identity)
    .unwrap()
}
