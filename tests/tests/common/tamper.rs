//! A relay in the middle: forwards every RPC to the real relay over TLS, records what it
//! carries, and misbehaves on command.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use futures::{Stream, StreamExt};
use parley_crypto::directory::DirectoryRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::Mls;
use parley_proto::v1::blobs_client::BlobsClient;
use parley_proto::v1::blobs_server::{Blobs, BlobsServer};
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::directory_server::{Directory, DirectoryServer};
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::groups_server::{Groups, GroupsServer};
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::inbox_server::{Inbox, InboxServer};
use parley_proto::v1::{
    AckRequest, AckResponse, ChallengeRequest, ChallengeResponse, ClaimKeyPackageRequest,
    ClaimKeyPackageResponse, CommitRequest, CommitResponse, CreateGroupRequest,
    CreateGroupResponse, Delivery, DepositRequest, DepositResponse, DownloadChunk, DownloadRequest,
    Entry, FetchRequest, FetchResponse, GroupNotice, LookupRequest, LookupResponse, PostRequest,
    PostResponse, PublishKeyPackagesRequest, PublishKeyPackagesResponse, ReadRequest, ReadResponse,
    RegisterRequest, RegisterResponse, RotateRequest, RotateResponse, SetRetentionRequest,
    SetRetentionResponse, ShortenRequest, ShortenResponse, SubscribeGroupsRequest,
    SubscribeInboxRequest, UploadProgress, UploadRequest,
};
use rand::rngs::OsRng;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Channel, Server};
use tonic::{Request, Response, Status};

use super::{now_ms, TestRelay};

/// Rewrites a Read page before the client sees it (given the client's request).
pub(crate) type EntryRewrite = Box<dyn FnMut(&ReadRequest, &mut Vec<Entry>) + Send>;

/// Rewrites the chunks of a Download (all of them, in order) before the client sees them.
pub(crate) type ChunkRewrite = Box<dyn FnMut(&mut Vec<DownloadChunk>) + Send>;

/// Rewrites a group notice (and the entry it carries) before the client sees it; false
/// drops it.
pub(crate) type NoticeRewrite = Box<dyn FnMut(&mut GroupNotice) -> bool + Send>;

/// Rewrites a Fetch page before the client sees it.
pub(crate) type DeliveryRewrite = Box<dyn FnMut(&mut Vec<Delivery>) + Send>;

/// What the tampering relay does differently, and what it saw.
#[derive(Default)]
pub(crate) struct Tamper {
    /// Applied to every Read page (after `repeat_in_page`): drop, reorder, replace, flip or
    /// truncate entries.
    pub(crate) rewrite_entries: Option<EntryRewrite>,
    /// Applied to every group notice (after it is recorded in `pushed`): drop the notice, or
    /// drop, replace or move the entry it carries.
    pub(crate) rewrite_notices: Option<NoticeRewrite>,
    /// Every group notice as the real relay sent it.
    pub(crate) pushed: Vec<GroupNotice>,
    /// Applied to every Fetch page: drop, replace, flip or truncate deliveries.
    pub(crate) rewrite_deliveries: Option<DeliveryRewrite>,
    /// Every real KeyPackage the relay handed out: (handle asked for, KeyPackage).
    pub(crate) claimed: Vec<(String, Vec<u8>)>,
    /// Every Read page as the real relay answered it: (group id, entries).
    pub(crate) pages: Vec<(Vec<u8>, Vec<Entry>)>,
    /// Lookup(handle) answers with these record bytes instead of the real record.
    pub(crate) records: HashMap<String, Vec<u8>>,
    /// ... and with these rotations (none if absent) alongside a substituted record.
    pub(crate) rotations: HashMap<String, Vec<Vec<u8>>>,
    /// ClaimKeyPackage(handle) answers with this KeyPackage instead of a real one.
    pub(crate) key_packages: HashMap<String, Vec<u8>>,
    /// Every deposit is stored twice: two ids, same bytes, as a sender's retry would.
    pub(crate) duplicate_deposits: bool,
    /// Acks are answered OK but not forwarded, so the relay hands the same deliveries (same
    /// ids) over again, as after a lost acknowledgement.
    pub(crate) drop_acks: bool,
    /// Every delivery of a Fetch page or inbox stream, every entry of a Read page and every
    /// group notice is served twice in a row (same id or seq, same bytes).
    pub(crate) repeat_in_page: bool,
    /// Every Read is refused as unavailable (the relay down between two calls).
    pub(crate) refuse_reads: bool,
    /// The next Post is not forwarded but answered as taken at this position (a relay
    /// lying that it took a post in an epoch it has closed).
    pub(crate) fake_post_seq: Option<u64>,
    /// Acks swallowed so far.
    pub(crate) dropped_acks: usize,
    /// How many answers were substituted.
    pub(crate) substituted: usize,
    /// Every deposit forwarded: (recipient handle, envelope).
    pub(crate) deposits: Vec<(String, Vec<u8>)>,
    /// Every envelope the relay served (Fetch and Subscribe), as it served it.
    pub(crate) served_envelopes: Vec<Vec<u8>>,
    /// Every group log entry the relay served (Read), as it served it.
    pub(crate) served_entries: Vec<Vec<u8>>,
    /// Every group log message posted or committed through this proxy.
    pub(crate) posted: Vec<Vec<u8>>,
    /// Applied to every Download: flip, drop, reorder or replace chunks.
    pub(crate) rewrite_chunks: Option<ChunkRewrite>,
    /// Every Download as the relay served it: (blob id, chunks).
    pub(crate) downloads: Vec<(Vec<u8>, Vec<DownloadChunk>)>,
    /// The next this many Uploads are broken off after forwarding this many chunks: the
    /// relay keeps what it got, the uploader sees its connection fail.
    pub(crate) break_uploads: Option<(usize, usize)>,
    /// The next this many Downloads are broken off after serving this many chunks.
    pub(crate) break_downloads: Option<(usize, usize)>,
    /// Uploads begun through this proxy (resumptions included).
    pub(crate) uploads: usize,
}

/// Counts down one of a [`Tamper`]'s `break_*` settings: the chunks to let through if this
/// transfer is to be broken off.
fn take_break(setting: &mut Option<(usize, usize)>) -> Option<usize> {
    let (count, after) = setting.as_mut()?;
    if *count == 0 {
        return None;
    }
    *count -= 1;
    Some(*after)
}

/// What a broken connection looks like to the other end.
fn broken_off() -> Status {
    Status::unavailable("the tampering relay broke the connection off")
}

/// Shared, lockable [`Tamper`] state.
pub(crate) type Shared = Arc<Mutex<Tamper>>;

/// A record and a KeyPackage for `handle` under an identity that is not the real owner's.
pub(crate) struct Impostor {
    pub(crate) record: Vec<u8>,
    pub(crate) key_package: Vec<u8>,
    pub(crate) identity_hex: String,
    /// The impostor's secret key, to sign forged rotations with.
    pub(crate) identity: IdentitySecretKey,
}

impl Impostor {
    /// A fresh identity claiming `handle`, with a validly self-signed record and KeyPackage.
    pub(crate) fn new(handle: &str) -> Impostor {
        let handle = Handle::parse(handle).unwrap();
        let identity = IdentitySecretKey::generate(&mut OsRng);
        let inbox = InboxSecretKey::generate(&mut OsRng);
        let record = DirectoryRecord {
            handle: handle.clone(),
            identity_key: identity.public_key(),
            inbox_key: inbox.public_key(),
            record_version: 1,
            created_at_ms: now_ms(),
        }
        .sign(&identity)
        .unwrap()
        .to_bytes();
        let mut mls = Mls::new(handle, &identity, Vec::new()).unwrap();
        let key_package = mls
            .generate_key_packages(1, false, now_ms())
            .unwrap()
            .remove(0);
        Impostor {
            record,
            key_package,
            identity: IdentitySecretKey::from_bytes(&identity.to_bytes()),
            identity_hex: identity
                .public_key()
                .to_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        }
    }
}

/// The tampering relay: serves plaintext gRPC on loopback, forwards over TLS.
pub(crate) struct TamperProxy {
    addr: SocketAddr,
    pub(crate) state: Shared,
    upstream: Arc<Mutex<Upstream>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TamperProxy {
    /// Starts a proxy in front of `relay`.
    pub(crate) async fn start(relay: &TestRelay) -> TamperProxy {
        let upstream = Arc::new(Mutex::new(Upstream::new(relay).await));
        let state: Shared = Arc::default();
        let proxy = Proxy {
            upstream: upstream.clone(),
            state: state.clone(),
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            Server::builder()
                .add_service(DirectoryServer::new(proxy.clone()))
                .add_service(InboxServer::new(proxy.clone()))
                .add_service(GroupsServer::new(proxy.clone()))
                .add_service(BlobsServer::new(proxy))
                .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        TamperProxy {
            addr,
            state,
            upstream,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// `http://127.0.0.1:PORT` (plaintext, loopback).
    pub(crate) fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.addr.port())
    }

    /// From now on forwards everything to `relay` instead (a relay that shows this proxy's
    /// clients another view of the world than everyone else's: a split log).
    pub(crate) async fn redirect(&self, relay: &TestRelay) {
        let upstream = Upstream::new(relay).await;
        *self.upstream.lock().unwrap() = upstream;
    }

    /// Runs `f` on the shared state.
    pub(crate) fn with<R>(&self, f: impl FnOnce(&mut Tamper) -> R) -> R {
        f(&mut self.state.lock().unwrap())
    }
}

impl Drop for TamperProxy {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The connections to the real relay.
#[derive(Clone)]
struct Upstream {
    directory: DirectoryClient<Channel>,
    inbox: InboxClient<Channel>,
    groups: GroupsClient<Channel>,
    blobs: BlobsClient<Channel>,
}

impl Upstream {
    async fn new(relay: &TestRelay) -> Upstream {
        let channel = relay.channel().await;
        Upstream {
            directory: DirectoryClient::new(channel.clone()),
            inbox: InboxClient::new(channel.clone()),
            groups: GroupsClient::new(channel.clone()),
            blobs: BlobsClient::new(channel),
        }
    }
}

#[derive(Clone)]
struct Proxy {
    upstream: Arc<Mutex<Upstream>>,
    state: Shared,
}

impl Proxy {
    fn up(&self) -> Upstream {
        self.upstream.lock().unwrap().clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Tamper> {
        self.state.lock().unwrap()
    }

    fn duplicating_deposits(&self) -> bool {
        self.lock().duplicate_deposits
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// Repeats each successful item of `upstream` when `repeat` says so, after `record` saw
/// (and maybe rewrote) it; drops it when `record` says false.
fn relay_stream<T: Clone + Send + 'static>(
    upstream: tonic::Streaming<T>,
    state: Shared,
    record: fn(&mut Tamper, &mut T) -> bool,
    repeat: fn(&Tamper) -> bool,
) -> BoxStream<T> {
    Box::pin(upstream.flat_map(move |item| {
        let items = match item {
            Ok(mut value) => {
                let mut tamper = state.lock().unwrap();
                if !record(&mut tamper, &mut value) {
                    vec![]
                } else if repeat(&tamper) {
                    vec![Ok(value.clone()), Ok(value)]
                } else {
                    vec![Ok(value)]
                }
            }
            Err(status) => vec![Err(status)],
        };
        futures::stream::iter(items)
    }))
}

#[tonic::async_trait]
impl Directory for Proxy {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        let reply = self.up().directory.register(request.into_inner()).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn lookup(
        &self,
        request: Request<LookupRequest>,
    ) -> Result<Response<LookupResponse>, Status> {
        let request = request.into_inner();
        let fake = {
            let mut tamper = self.lock();
            let fake = tamper.records.get(&request.handle).cloned();
            if fake.is_some() {
                tamper.substituted += 1;
            }
            let rotations = tamper.rotations.get(&request.handle).cloned();
            fake.map(|record| (record, rotations.unwrap_or_default()))
        };
        if let Some((record, rotations)) = fake {
            return Ok(Response::new(LookupResponse { record, rotations }));
        }
        let reply = self.up().directory.lookup(request).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn challenge(
        &self,
        request: Request<ChallengeRequest>,
    ) -> Result<Response<ChallengeResponse>, Status> {
        let reply = self.up().directory.challenge(request.into_inner()).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn rotate(
        &self,
        request: Request<RotateRequest>,
    ) -> Result<Response<RotateResponse>, Status> {
        let reply = self.up().directory.rotate(request.into_inner()).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn publish_key_packages(
        &self,
        request: Request<PublishKeyPackagesRequest>,
    ) -> Result<Response<PublishKeyPackagesResponse>, Status> {
        let reply = self
            .up()
            .directory
            .publish_key_packages(request.into_inner())
            .await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn claim_key_package(
        &self,
        request: Request<ClaimKeyPackageRequest>,
    ) -> Result<Response<ClaimKeyPackageResponse>, Status> {
        let request = request.into_inner();
        let fake = {
            let mut tamper = self.lock();
            let fake = tamper.key_packages.get(&request.handle).cloned();
            if fake.is_some() {
                tamper.substituted += 1;
            }
            fake
        };
        if let Some(key_package) = fake {
            return Ok(Response::new(ClaimKeyPackageResponse {
                key_package,
                last_resort: false,
            }));
        }
        let handle = request.handle.clone();
        let reply = self
            .up()
            .directory
            .claim_key_package(request)
            .await?
            .into_inner();
        self.lock()
            .claimed
            .push((handle, reply.key_package.clone()));
        Ok(Response::new(reply))
    }
}

#[tonic::async_trait]
impl Inbox for Proxy {
    async fn deposit(
        &self,
        request: Request<DepositRequest>,
    ) -> Result<Response<DepositResponse>, Status> {
        let request = request.into_inner();
        self.lock()
            .deposits
            .push((request.handle.clone(), request.envelope.clone()));
        if self.duplicating_deposits() {
            // The same envelope stored twice, as a sender's retry would: two ids, same bytes.
            self.up().inbox.deposit(request.clone()).await?;
        }
        let reply = self.up().inbox.deposit(request).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn fetch(
        &self,
        request: Request<FetchRequest>,
    ) -> Result<Response<FetchResponse>, Status> {
        let mut reply = self
            .up()
            .inbox
            .fetch(request.into_inner())
            .await?
            .into_inner();
        let mut tamper = self.lock();
        for d in &reply.deliveries {
            tamper.served_envelopes.push(d.envelope.clone());
        }
        if tamper.repeat_in_page {
            // Each delivery twice in a row under its id.
            reply.deliveries = reply
                .deliveries
                .into_iter()
                .flat_map(|d| [d.clone(), d])
                .collect();
        }
        if let Some(rewrite) = tamper.rewrite_deliveries.as_mut() {
            rewrite(&mut reply.deliveries);
        }
        Ok(Response::new(reply))
    }

    async fn ack(&self, request: Request<AckRequest>) -> Result<Response<AckResponse>, Status> {
        {
            let mut tamper = self.lock();
            if tamper.drop_acks {
                tamper.dropped_acks += 1;
                return Ok(Response::new(AckResponse {}));
            }
        }
        let reply = self.up().inbox.ack(request.into_inner()).await?;
        Ok(Response::new(reply.into_inner()))
    }

    type SubscribeStream = BoxStream<Delivery>;

    async fn subscribe(
        &self,
        request: Request<SubscribeInboxRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let upstream = self
            .up()
            .inbox
            .subscribe(request.into_inner())
            .await?
            .into_inner();
        Ok(Response::new(relay_stream(
            upstream,
            self.state.clone(),
            |tamper, d: &mut Delivery| {
                tamper.served_envelopes.push(d.envelope.clone());
                true
            },
            |tamper| tamper.repeat_in_page,
        )))
    }
}

#[tonic::async_trait]
impl Groups for Proxy {
    async fn create(
        &self,
        request: Request<CreateGroupRequest>,
    ) -> Result<Response<CreateGroupResponse>, Status> {
        let reply = self.up().groups.create(request.into_inner()).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn post(&self, request: Request<PostRequest>) -> Result<Response<PostResponse>, Status> {
        let request = request.into_inner();
        let fake = {
            let mut tamper = self.lock();
            tamper.posted.push(request.message.clone());
            tamper.fake_post_seq.take()
        };
        if let Some(seq) = fake {
            return Ok(Response::new(PostResponse { seq }));
        }
        let reply = self.up().groups.post(request).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn commit(
        &self,
        request: Request<CommitRequest>,
    ) -> Result<Response<CommitResponse>, Status> {
        let request = request.into_inner();
        self.lock().posted.push(request.message.clone());
        let reply = self.up().groups.commit(request).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn set_retention(
        &self,
        request: Request<SetRetentionRequest>,
    ) -> Result<Response<SetRetentionResponse>, Status> {
        let reply = self.up().groups.set_retention(request.into_inner()).await?;
        Ok(Response::new(reply.into_inner()))
    }

    async fn read(&self, request: Request<ReadRequest>) -> Result<Response<ReadResponse>, Status> {
        if self.lock().refuse_reads {
            return Err(Status::unavailable("the tampering proxy refuses reads"));
        }
        let request = request.into_inner();
        let mut reply = self.up().groups.read(request.clone()).await?.into_inner();
        let mut tamper = self.lock();
        for e in &reply.entries {
            tamper.served_entries.push(e.message.clone());
        }
        if !reply.entries.is_empty() {
            tamper
                .pages
                .push((request.group_id.clone(), reply.entries.clone()));
        }
        if tamper.repeat_in_page {
            // Each entry handed over twice (same seq, same bytes).
            reply.entries = reply
                .entries
                .into_iter()
                .flat_map(|e| [e.clone(), e])
                .collect();
        }
        if let Some(rewrite) = tamper.rewrite_entries.as_mut() {
            rewrite(&request, &mut reply.entries);
        }
        Ok(Response::new(reply))
    }

    type SubscribeStream = BoxStream<GroupNotice>;

    async fn subscribe(
        &self,
        request: Request<SubscribeGroupsRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        let upstream = self
            .up()
            .groups
            .subscribe(request.into_inner())
            .await?
            .into_inner();
        Ok(Response::new(relay_stream(
            upstream,
            self.state.clone(),
            |tamper, notice: &mut GroupNotice| {
                tamper.pushed.push(notice.clone());
                match tamper.rewrite_notices.as_mut() {
                    Some(rewrite) => rewrite(notice),
                    None => true,
                }
            },
            |tamper| tamper.repeat_in_page,
        )))
    }
}

/// A rewrite applied to the first Read page that has entries, then never again.
pub(crate) fn on_next_page(mut f: impl FnMut(&mut Vec<Entry>) + Send + 'static) -> EntryRewrite {
    let mut done = false;
    Box::new(move |_, entries| {
        if !done && !entries.is_empty() {
            done = true;
            f(entries);
        }
    })
}

/// A rewrite that serves `to` wherever the log holds `from` (same seq, same place): the
/// relay swapping one entry's bytes for others, every time it is read.
pub(crate) fn substitute(pairs: Vec<(Vec<u8>, Vec<u8>, bool)>) -> EntryRewrite {
    Box::new(move |_, entries| {
        for entry in entries.iter_mut() {
            if let Some((_, to, commit)) = pairs.iter().find(|(from, _, _)| *from == entry.message)
            {
                entry.message = to.clone();
                entry.commit = *commit;
            }
        }
    })
}

/// `bytes` with one bit flipped at a fixed place (so a re-served copy is identical).
pub(crate) fn flipped(bytes: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let at = 48.min(out.len() - 1);
    out[at] ^= 0x01;
    out
}

/// `entry` moved to position `seq` of the log.
pub(crate) fn with_seq(mut entry: Entry, seq: u64) -> Entry {
    entry.seq = seq;
    entry
}

type ProgressStream = Pin<Box<dyn Stream<Item = Result<UploadProgress, Status>> + Send>>;
type ChunkStream = Pin<Box<dyn Stream<Item = Result<DownloadChunk, Status>> + Send>>;

#[tonic::async_trait]
impl Blobs for Proxy {
    type UploadStream = ProgressStream;
    type DownloadStream = ChunkStream;

    async fn upload(
        &self,
        request: Request<tonic::Streaming<UploadRequest>>,
    ) -> Result<Response<Self::UploadStream>, Status> {
        // Forwarded as it comes: the client's chunks up, the relay's progress down.
        let cut = {
            let mut tamper = self.lock();
            tamper.uploads += 1;
            take_break(&mut tamper.break_uploads)
        };
        let inbound = request
            .into_inner()
            .filter_map(|r| futures::future::ready(r.ok()));
        let Some(after) = cut else {
            let reply = self.up().blobs.upload(inbound).await?;
            return Ok(Response::new(Box::pin(reply.into_inner())));
        };
        // The begin and `after` chunks reach the relay; then the uploader's side breaks.
        let reply = self.up().blobs.upload(inbound.take(after + 1)).await?;
        let progress = reply.into_inner();
        Ok(Response::new(Box::pin(progress.chain(
            futures::stream::once(async { Err(broken_off()) }),
        ))))
    }

    async fn download(
        &self,
        request: Request<DownloadRequest>,
    ) -> Result<Response<Self::DownloadStream>, Status> {
        let request = request.into_inner();
        let blob_id = request.blob_id.clone();
        let mut stream = self.up().blobs.download(request).await?.into_inner();
        let mut chunks = Vec::new();
        while let Some(chunk) = stream.next().await {
            chunks.push(chunk?);
        }
        let (served, cut) = {
            let mut tamper = self.lock();
            tamper.downloads.push((blob_id, chunks.clone()));
            if let Some(rewrite) = tamper.rewrite_chunks.as_mut() {
                rewrite(&mut chunks);
            }
            let cut = take_break(&mut tamper.break_downloads);
            (chunks, cut)
        };
        let mut items: Vec<Result<DownloadChunk, Status>> = served.into_iter().map(Ok).collect();
        if let Some(after) = cut {
            items.truncate(after);
            items.push(Err(broken_off()));
        }
        Ok(Response::new(Box::pin(futures::stream::iter(items))))
    }

    async fn shorten(
        &self,
        request: Request<ShortenRequest>,
    ) -> Result<Response<ShortenResponse>, Status> {
        self.up().blobs.shorten(request.into_inner()).await
    }
}
