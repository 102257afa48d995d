//! The daemon's side: it owns the open client, receives continuously (so `parley read`
//! finds what arrived), sends what waits in the outbox, and answers the commands of its
//! folder's owner on the socket until it is stopped, signalled, or idle for too long.

use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures::StreamExt;
use parley_client::{
    Client, ClientError, ConversationId, Event, SendOutcome, SyncReport, Transfer,
};
use serde::Serialize;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::{broadcast, mpsc, Notify};

use super::folder::passphrase;
use super::paths::DaemonPaths;
use super::remote_error::RemoteError;
use super::wire::{read_frame, write_frame, Hello, Reply, Request, Welcome, WireError, VERSION};
use crate::failure::Failure;
use crate::home::Home;

/// How often the outbox is tried while messages wait in it.
const OUTBOX_RETRY: Duration = Duration::from_secs(15);
/// Events kept for a command that reads them slowly; one that falls further behind is
/// told to reload.
const EVENT_BACKLOG: usize = 1024;

/// How the daemon was asked to behave.
#[derive(Debug, Clone)]
pub(crate) struct Options {
    /// Stop after this long without any command connected; `None`: never.
    pub(crate) idle_timeout: Option<Duration>,
}

/// Why the daemon could not start serving.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    /// A daemon already serves this folder.
    #[error("a Parley daemon is already running for this folder")]
    AlreadyRunning,
    /// The socket or its directory could not be made.
    #[error("cannot create the daemon's socket in {path}: {source}")]
    Socket {
        /// Where.
        path: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// Everything the connections share.
struct Shared {
    client: Client,
    home: Home,
    /// The user id that owns the socket; only its processes are served.
    owner: u32,
    events: broadcast::Sender<Arc<Reply>>,
    stop: Notify,
    connected: AtomicUsize,
    last_seen: Mutex<Instant>,
    /// The proxy the client reaches the relay through (given or remembered by the folder),
    /// told to every command that connects.
    proxy: Option<String>,
}

/// Makes the socket, then calls `ready` and serves until stopped. The socket is removed
/// when it returns.
pub(crate) async fn serve(
    client: Client,
    home: Home,
    options: Options,
    ready: impl FnOnce(),
) -> Result<(), StartError> {
    let paths = DaemonPaths::of(home.dir());
    let listener = bind(&paths).await?;
    let owner = std::fs::metadata(paths.socket())
        .map_err(|source| socket_error(&paths, source))?
        .uid();
    let (events, _) = broadcast::channel(EVENT_BACKLOG);
    let proxy = client.proxy().await.map(|proxy| proxy.to_string());
    let shared = Arc::new(Shared {
        client,
        home,
        owner,
        events,
        stop: Notify::new(),
        connected: AtomicUsize::new(0),
        last_seen: Mutex::new(Instant::now()),
        proxy,
    });
    let receiving = tokio::spawn(receive(shared.clone()));
    let outbox = tokio::spawn(send_waiting(shared.clone()));
    tracing::info!(pid = std::process::id(), "daemon serving");
    ready();
    let mut terminate = terminate_signal();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    tokio::spawn(serve_connection(shared.clone(), stream));
                }
                Err(error) => tracing::warn!(%error, "accepting a connection failed"),
            },
            () = shared.stop.notified() => break,
            () = &mut terminate => break,
            () = tokio::time::sleep(Duration::from_secs(1)) => {
                if idle_for_too_long(&shared, options.idle_timeout) {
                    tracing::info!("daemon idle; stopping");
                    break;
                }
                // The folder was deleted or unmounted (or the socket removed by hand):
                // nobody can reach this daemon any more.
                if !paths.socket().exists() {
                    tracing::info!("socket gone; stopping");
                    break;
                }
            }
        }
    }
    receiving.abort();
    outbox.abort();
    let _ = std::fs::remove_file(paths.socket());
    tracing::info!("daemon stopped");
    Ok(())
}

/// Creates the socket in a 0700 directory (so that nobody else can reach it, whatever the
/// umask), replacing one left by a daemon that died.
async fn bind(paths: &DaemonPaths) -> Result<UnixListener, StartError> {
    let dir = paths.run_dir();
    std::fs::create_dir_all(dir).map_err(|source| socket_error(paths, source))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|source| socket_error(paths, source))?;
    let socket = paths.socket();
    if socket.exists() {
        if UnixStream::connect(&socket).await.is_ok() {
            return Err(StartError::AlreadyRunning);
        }
        std::fs::remove_file(&socket).map_err(|source| socket_error(paths, source))?;
    }
    let listener = UnixListener::bind(&socket).map_err(|source| socket_error(paths, source))?;
    std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o600))
        .map_err(|source| socket_error(paths, source))?;
    Ok(listener)
}

fn socket_error(paths: &DaemonPaths, source: std::io::Error) -> StartError {
    StartError::Socket {
        path: paths.run_dir().display().to_string(),
        source,
    }
}

fn idle_for_too_long(shared: &Shared, timeout: Option<Duration>) -> bool {
    let Some(timeout) = timeout else {
        return false;
    };
    shared.connected.load(Ordering::SeqCst) == 0 && lock(&shared.last_seen).elapsed() >= timeout
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves on SIGTERM or SIGINT; never when the signals cannot be listened to.
fn terminate_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    use tokio::signal::unix::{signal, SignalKind};
    match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(mut term), Ok(mut int)) => Box::pin(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        }),
        _ => Box::pin(std::future::pending()),
    }
}

/// Follows the relay for the whole life of the daemon, so that what arrives is stored (and
/// waits as unread) even when no command listens, and relays each event to those that do.
async fn receive(shared: Arc<Shared>) {
    let mut events = Box::pin(shared.client.events());
    while let Some(event) = events.next().await {
        match event {
            Ok(event) => announce(&shared, &event),
            Err(error) => {
                let _ = shared
                    .events
                    .send(Arc::new(Reply::Err(describe(&shared, &error))));
            }
        }
    }
}

/// Sends what waits in the outbox, now and again while anything waits.
async fn send_waiting(shared: Arc<Shared>) {
    loop {
        if matches!(shared.client.outbox().await, Ok(waiting) if !waiting.is_empty()) {
            match shared.client.flush_outbox().await {
                Ok(report) => {
                    for sent in &report.sent {
                        announce(&shared, &Event::Message(sent.clone()));
                    }
                    tracing::info!(
                        sent = report.sent.len(),
                        failed = report.failed.len(),
                        waiting = report.waiting,
                        "outbox tried"
                    );
                }
                // The error may name a person or a conversation: only at debug.
                Err(error) => {
                    tracing::warn!("outbox not tried");
                    tracing::debug!(%error, "outbox not tried");
                }
            }
        }
        tokio::time::sleep(OUTBOX_RETRY).await;
    }
}

/// One command's connection: the owner check, the hello, then its requests.
async fn serve_connection(shared: Arc<Shared>, mut stream: UnixStream) {
    match stream.peer_cred() {
        Ok(peer) if peer.uid() == shared.owner => {}
        // Someone else's process reached the socket (the directory's mode should prevent
        // it): nothing is said to it.
        _ => return,
    }
    shared.connected.fetch_add(1, Ordering::SeqCst);
    if let Err(error) = converse(&shared, &mut stream).await {
        tracing::debug!(%error, "a command's connection ended");
    }
    *lock(&shared.last_seen) = Instant::now();
    shared.connected.fetch_sub(1, Ordering::SeqCst);
}

async fn converse(shared: &Shared, stream: &mut UnixStream) -> Result<(), WireError> {
    let Some(Hello { version }) = read_frame(stream).await? else {
        return Ok(());
    };
    let welcome = Welcome {
        version: VERSION,
        pid: std::process::id(),
        proxy: shared.proxy.clone(),
    };
    write_frame(stream, &welcome).await?;
    if version != VERSION {
        return Ok(());
    }
    while let Some(request) = read_frame::<_, Request>(stream).await? {
        *lock(&shared.last_seen) = Instant::now();
        match request {
            Request::Events => return relay_events(shared, stream).await,
            Request::Stop => {
                write_frame(stream, &Reply::Ok(serde_json::Value::Null)).await?;
                shared.stop.notify_one();
                return Ok(());
            }
            request @ (Request::SendFile { .. } | Request::FetchFile { .. }) => {
                let reply = transfer(shared, stream, request).await?;
                write_frame(stream, &reply).await?;
            }
            request => {
                let reply = match answer(shared, request).await {
                    Ok(value) => Reply::Ok(value),
                    Err(error) => Reply::Err(describe(shared, &error)),
                };
                write_frame(stream, &reply).await?;
            }
        }
    }
    Ok(())
}

/// Sends or fetches a document for a command, reading or writing the file it names (see
/// [`super::wire`]), and tells the command how far it is as it goes. A command that hangs
/// up stops the transfer: the progress it is no longer there to read cannot be written.
async fn transfer(
    shared: &Shared,
    stream: &mut UnixStream,
    request: Request,
) -> Result<Reply, WireError> {
    let (tx, mut rx) = mpsc::unbounded_channel::<Transfer>();
    let mut progress = move |transfer: Transfer| {
        // The receiver lives as long as the transfer.
        let _ = tx.send(transfer);
    };
    let work = async {
        let client = &shared.client;
        match request {
            Request::SendFile {
                to,
                path,
                name,
                media_type,
            } => {
                let path = absolute(path)?;
                let sent = crate::documents::send_from_path(
                    client,
                    &to,
                    &path,
                    &name,
                    &media_type,
                    &mut progress,
                )
                .await?;
                announce(shared, &Event::Message(sent.clone()));
                json(sent)
            }
            Request::FetchFile { id, path } => {
                let path = absolute(path)?;
                json(crate::documents::fetch_to_path(client, &id, &path, &mut progress).await?)
            }
            _ => Ok(serde_json::Value::Null),
        }
    };
    let mut work = std::pin::pin!(work);
    let result = loop {
        tokio::select! {
            result = &mut work => break result,
            Some(mut latest) = rx.recv() => {
                // Only the latest counts: a slow reader is not sent a backlog.
                while let Ok(next) = rx.try_recv() {
                    latest = next;
                }
                let report = Reply::Progress { done: latest.done, total: latest.total };
                write_frame(stream, &report).await?;
            }
        }
    };
    Ok(match result {
        Ok(value) => Reply::Ok(value),
        Err(error) => Reply::Err(describe(shared, &error)),
    })
}

/// A path a command sent: only an absolute one means the same file here as there.
fn absolute(bytes: Vec<u8>) -> Result<PathBuf, ClientError> {
    let path = PathBuf::from(std::ffi::OsString::from_vec(bytes));
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(ClientError::DocumentIo(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "the daemon was given a relative path",
        )))
    }
}

/// Relays the daemon's events until the command hangs up.
async fn relay_events(shared: &Shared, stream: &mut UnixStream) -> Result<(), WireError> {
    let mut events = shared.events.subscribe();
    // Subscribed: the command may now look at what is unread without missing what arrives
    // from here on.
    write_frame(stream, &Reply::Ok(serde_json::Value::Null)).await?;
    loop {
        match events.recv().await {
            Ok(reply) => write_frame(stream, &*reply).await?,
            Err(broadcast::error::RecvError::Lagged(_)) => {
                // The command missed events; what it missed is stored as unread, and a
                // membership change makes it reload. Saying so keeps it honest.
                let lagged = Failure::new(
                    "this window fell behind the daemon's events; messages are kept as unread",
                );
                let reply = Reply::Err(RemoteError::Described {
                    message: lagged.message().to_owned(),
                    hint: None,
                    code: lagged.exit_code(),
                });
                write_frame(stream, &reply).await?;
            }
            Err(broadcast::error::RecvError::Closed) => return Ok(()),
        }
    }
}

fn describe(shared: &Shared, error: &ClientError) -> RemoteError {
    RemoteError::of(error, || Failure::of_client(error, &shared.home))
}

/// Hands an event to every command that listens (a chat, `read --follow`). What one
/// command's call reported or changed is announced too: the library reports each entry
/// once, to whichever call fetched it, and every window open on this folder must see it.
fn announce(shared: &Shared, event: &Event) {
    if let Ok(value) = serde_json::to_value(event) {
        // Nobody listening is fine: the messages are stored as unread anyway.
        let _ = shared.events.send(Arc::new(Reply::Ok(value)));
    }
}

/// Announces everything a sync reported.
fn announce_report(shared: &Shared, report: &SyncReport) {
    for message in &report.messages {
        announce(shared, &Event::Message(message.clone()));
    }
    for conversation in &report.membership_changed {
        announce(
            shared,
            &Event::MembershipChanged {
                conversation: conversation.clone(),
            },
        );
    }
    for alert in &report.alerts {
        announce(shared, &Event::Alert(alert.clone()));
    }
}

fn announce_members(shared: &Shared, conversation: &ConversationId) {
    announce(
        shared,
        &Event::MembershipChanged {
            conversation: conversation.clone(),
        },
    );
}

/// Performs one library call for a command.
async fn answer(shared: &Shared, request: Request) -> Result<serde_json::Value, ClientError> {
    let client = &shared.client;
    match request {
        Request::Whoami => json(client.whoami()?),
        Request::RotateKeys => json(client.rotate_keys().await?),
        Request::Resolve { name } => json(client.resolve(&name).await?),
        Request::SendText { to, text } => {
            let sent = client.send_text(&to, &text).await?;
            announce(shared, &Event::Message(sent.clone()));
            json(sent)
        }
        Request::SendOrQueue { to, text } => {
            let outcome = client.send_or_queue(&to, &text).await?;
            if let SendOutcome::Sent(sent) = &outcome {
                announce(shared, &Event::Message(sent.clone()));
            }
            json(outcome)
        }
        Request::FlushOutbox => {
            let report = client.flush_outbox().await?;
            for sent in &report.sent {
                announce(shared, &Event::Message(sent.clone()));
            }
            json(report)
        }
        Request::Outbox => json(client.outbox().await?),
        Request::CancelQueued { id } => json(client.cancel_queued(id).await?),
        Request::CreateGroup {
            name,
            members,
            retention,
        } => {
            let created = client
                .create_group_with_retention(&name, &members, retention)
                .await?;
            announce_members(shared, &created);
            json(created)
        }
        Request::SetRetention {
            conversation,
            retention,
        } => {
            client.set_retention(&conversation, retention).await?;
            announce_members(shared, &conversation);
            json(())
        }
        Request::RecreateGroup { group, without } => {
            let created = client.recreate_group(&group, &without).await?;
            announce_members(shared, &created);
            json(created)
        }
        Request::AddMember { group, member } => {
            client.add_member(&group, &member).await?;
            announce_members(shared, &group);
            json(())
        }
        Request::RemoveMember { group, member } => {
            client.remove_member(&group, &member).await?;
            announce_members(shared, &group);
            json(())
        }
        Request::Promote { group, member } => {
            client.promote(&group, &member).await?;
            announce_members(shared, &group);
            json(())
        }
        Request::LeaveGroup { group } => {
            client.leave_group(&group).await?;
            announce_members(shared, &group);
            json(())
        }
        Request::Admins { conversation } => json(client.admins(&conversation).await?),
        Request::CreateWorkshop { name, plan } => {
            let created = client.create_workshop(&name, &plan).await?;
            announce_members(shared, &created);
            json(created)
        }
        Request::Workshop { room } => json(client.workshop(&room).await?),
        Request::Workshops => json(client.workshops().await?),
        Request::ChangeWorkshop { room, edit } => {
            client.change_workshop(&room, &edit).await?;
            announce_members(shared, &room);
            json(())
        }
        Request::ProposeText { room, text } => json(client.propose_text(&room, &text).await?),
        Request::NegotiatingText { room, version } => {
            json(client.negotiating_text(&room, version).await?)
        }
        Request::TextDiff { room, from, to } => json(client.text_diff(&room, from, to).await?),
        Request::CommentText { room, para, text } => {
            json(client.comment_text(&room, para, &text).await?)
        }
        Request::TextComments { room, version } => {
            json(client.text_comments(&room, version).await?)
        }
        Request::ExportWorkshop { room } => json(client.export_workshop(&room).await?),
        Request::Sync => {
            let report = client.sync().await?;
            announce_report(shared, &report);
            json(report)
        }
        Request::Unread { conversation } => json(client.unread(conversation.as_ref()).await?),
        Request::MarkRead { ids } => json(client.mark_read(&ids).await?),
        Request::History {
            conversation,
            limit,
        } => json(client.history(&conversation, limit).await?),
        Request::Documents { conversation } => json(client.documents(conversation.as_ref()).await?),
        Request::Conversations => json(client.conversations().await?),
        Request::Members { conversation } => json(client.members(&conversation).await?),
        Request::Contacts => json(client.contacts().await?),
        Request::SafetyNumber { peer } => json(client.safety_number(&peer).await?),
        Request::Verification { peer } => json(client.verification(&peer).await?),
        Request::ConfirmVerified { peer } => json(client.confirm_verified(&peer).await?),
        Request::AcceptNewKey { peer } => json(client.accept_new_key(&peer).await?),
        Request::GroupCode { conversation } => json(client.group_code(&conversation).await?),
        Request::Alerts => json(client.alerts().await?),
        Request::Quarantined => json(client.quarantined().await?),
        Request::ChangePassphrase { current, new } => {
            client.check_passphrase(passphrase(current)).await?;
            json(client.change_passphrase(passphrase(new)).await?)
        }
        // Handled by the connection itself.
        Request::Events | Request::Stop | Request::SendFile { .. } | Request::FetchFile { .. } => {
            Ok(serde_json::Value::Null)
        }
    }
}

fn json<T: Serialize>(value: T) -> Result<serde_json::Value, ClientError> {
    // The library's types serialize without fail (plain data); Null is never a valid answer,
    // so a failure here shows up as the command's decoding error rather than a panic.
    Ok(serde_json::to_value(value).unwrap_or(serde_json::Value::Null))
}
