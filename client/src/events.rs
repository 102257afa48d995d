//! The event stream: relay pushes (or a periodic poll) trigger a sync; its results become
//! events.

use std::sync::Arc;
use std::time::Duration;

use futures::stream::{self, BoxStream, StreamExt, TryStreamExt};
use futures::FutureExt;
use parley_crypto::access::AccessKey;
use parley_crypto::mls::GroupId;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use crate::api::error::{ClientError, RelayError};
use crate::api::event::Event;
use crate::state::relay::channels::Channels;
use crate::state::relay::{Entry, GroupSubscriptionRequest, MAX_SUBSCRIBED_GROUPS};
use crate::state::Shared;
use crate::sync::{sync_events, sync_group_events};

/// Sync at least this often even without a push.
const POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Longest wait before resubscribing after errors.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Group subscriptions opened at once (each on a connection of its own, which through Tor is
/// a circuit of its own: a few at a time keeps a client with many groups from flooding it).
const PARALLEL_SUBSCRIBES: usize = 8;

/// Entries pushed with a group's notices kept for one sync; past that, the sync reads.
const MAX_PUSHED_KEPT: usize = 64;

/// Events buffered for a slow consumer.
const CHANNEL_CAPACITY: usize = 256;

type Events = mpsc::Sender<Result<Event, ClientError>>;
/// Active groups and our epoch in each.
type Subscribed = Vec<(GroupId, u64)>;

/// Starts the event task on the caller's runtime and returns its output.
pub(crate) fn spawn(client: Arc<Shared>) -> ReceiverStream<Result<Event, ClientError>> {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    match tokio::runtime::Handle::try_current() {
        Ok(runtime) => {
            runtime.spawn(run(client, tx));
        }
        Err(_) => {
            // No runtime to run on: say so through the stream rather than panic.
            let _ = tx.try_send(Err(ClientError::NoRuntime));
        }
    }
    ReceiverStream::new(rx)
}

/// A relay push of either kind.
enum Push {
    /// Something new in the inbox (or the poll interval passed, or we created a group):
    /// a full sync.
    Arrived,
    /// Something new in this group's log, maybe with the entry itself: reading that log (or
    /// taking the entry) is enough.
    InGroup(GroupId, Option<Entry>),
    /// The group subscription ended without an error: the relay ends it when a group moves
    /// past the epoch it was made at (an old epoch's key hears nothing new), so it is made
    /// again, after a sync, with the new epochs' keys. Not a failure, never shown.
    Ended,
    /// A stream failed, or the inbox stream ended: subscribe again after a pause.
    Failed,
}

async fn run(client: Arc<Shared>, tx: Events) {
    let mut backoff = Duration::from_secs(1);
    // Its own back-off for subscriptions the relay ends while we cannot move on (a group
    // stuck at an epoch that is over): it grows until a sync shows progress, so such a
    // group never makes us subscribe again every second, whatever else arrives meanwhile.
    let mut stalled = Duration::from_secs(1);
    let mut new_groups = client.state.lock().await.new_groups.subscribe();
    loop {
        // Subscribe first, then sync: whatever arrived before the subscription is caught by
        // the sync, whatever arrives after it is pushed.
        let (mut pushes, subscribed) = match subscribe(&client).await {
            Ok(subscription) => subscription,
            Err(e) => {
                if tx.send(Err(e)).await.is_err() {
                    return;
                }
                // No pushes (the relay's subscriptions may be taken by others): messages
                // still arrive, by syncing before every new attempt, at least once per poll
                // interval.
                if sync_and_emit(&client, &tx).await.is_none() && tx.is_closed() {
                    return;
                }
                wait(&tx, &mut backoff).await;
                backoff = backoff.min(POLL_INTERVAL);
                continue;
            }
        };
        let mut ended = false;
        // Right after subscribing, everything is synced.
        let mut wanted = Wanted::Everything;
        loop {
            let synced = match &wanted {
                Wanted::Everything => sync_and_emit(&client, &tx).await,
                Wanted::Groups(groups) => sync_groups_and_emit(&client, &tx, groups).await,
            };
            match synced {
                // New epochs or new groups need new subscriptions.
                Some(groups) if groups != subscribed => {
                    stalled = Duration::from_secs(1);
                    break;
                }
                // The relay ended the subscription, yet the sync moved no group on (a commit
                // we cannot process keeps us at an epoch that is over): subscribe again after
                // a pause, so such a group cannot make us spin.
                Some(_) if ended => {
                    wait(&tx, &mut stalled).await;
                    break;
                }
                Some(_) => backoff = Duration::from_secs(1),
                None if tx.is_closed() => return,
                None => {
                    wait(&tx, &mut backoff).await;
                    break;
                }
            }
            let mut push = tokio::select! {
                _ = tx.closed() => return,
                push = pushes.next() => push,
                _ = tokio::time::sleep(POLL_INTERVAL) => Some(Push::Arrived),
                // A group we created: the sync finds it and the loop resubscribes.
                _ = new_groups.changed() => Some(Push::Arrived),
            };
            // Several pushes often arrive together; one sync covers them all: the groups
            // named, or everything once the inbox is among them. Whatever is not an arrival
            // is kept, to be acted on below.
            wanted = Wanted::Groups(Vec::new());
            let last = loop {
                match push {
                    Some(Push::Arrived) => wanted = Wanted::Everything,
                    Some(Push::InGroup(group, entry)) => wanted.add(group, entry),
                    other => break Some(other),
                }
                match pushes.next().now_or_never() {
                    Some(next) => push = next,
                    None => break None,
                }
            };
            match last {
                None | Some(Some(Push::Arrived | Push::InGroup(..))) => {}
                // Sync first: it moves us to the new epochs, then we subscribe with them.
                Some(Some(Push::Ended)) => {
                    ended = true;
                    wanted = Wanted::Everything;
                }
                Some(Some(Push::Failed) | None) => {
                    wait(&tx, &mut backoff).await;
                    break;
                }
            }
        }
    }
}

/// What the next sync covers.
enum Wanted {
    /// A full sync.
    Everything,
    /// Only these groups' logs (pushes named them and nothing else), with the entries
    /// their notices carried.
    Groups(Vec<(GroupId, Vec<Entry>)>),
}

impl Wanted {
    /// Adds a group named by a push, and the entry it carried (nothing to add to a full
    /// sync, which reads).
    fn add(&mut self, group: GroupId, entry: Option<Entry>) {
        let Wanted::Groups(groups) = self else {
            return;
        };
        let at = match groups.iter().position(|(g, _)| *g == group) {
            Some(at) => at,
            None => {
                groups.push((group, Vec::new()));
                groups.len() - 1
            }
        };
        if let (Some(entry), Some((_, pushed))) = (entry, groups.get_mut(at)) {
            // Beyond the bound, the entries left out make a gap, and a gap is read.
            if pushed.len() < MAX_PUSHED_KEPT {
                pushed.push(entry);
            }
        }
    }
}

/// Syncs and forwards the results; returns the active groups, or None after an error.
async fn sync_and_emit(client: &Shared, tx: &Events) -> Option<Subscribed> {
    emit(sync_events(client).await, tx).await
}

/// Syncs `groups` only (see [`sync_group_events`]) and forwards the results, like
/// [`sync_and_emit`].
async fn sync_groups_and_emit(
    client: &Shared,
    tx: &Events,
    groups: &[(GroupId, Vec<Entry>)],
) -> Option<Subscribed> {
    emit(sync_group_events(client, groups).await, tx).await
}

/// Forwards a sync's events; returns the active groups, or None after an error.
async fn emit(
    synced: Result<(Vec<Event>, Subscribed), ClientError>,
    tx: &Events,
) -> Option<Subscribed> {
    match synced {
        Ok((events, groups)) => {
            for event in events {
                if tx.send(Ok(event)).await.is_err() {
                    return None;
                }
            }
            Some(groups)
        }
        Err(e) => {
            let _ = tx.send(Err(e)).await;
            None
        }
    }
}

/// Subscribes to our inbox and to our active groups at our current epochs; returns the
/// pushes and the groups subscribed.
///
/// The inbox is subscribed on the owner's connection and each group on that group's own
/// connection, one group per subscription, so that no connection ties the groups to each
/// other or to our handle (see `state::relay::channels`).
async fn subscribe(client: &Shared) -> Result<(BoxStream<'static, Push>, Subscribed), ClientError> {
    let mut state = client.state.lock().await;
    let mut ctx = state.ctx(&client.store, &client.clock)?;
    let groups = ctx.active_groups()?;
    let inbox = ctx
        .owner_relay()
        .await?
        .subscribe_inbox(&ctx.session.handle, &ctx.session.identity)
        .await?
        .map(push_of);
    let mut keys: Vec<(GroupId, u64, Arc<AccessKey>)> = Vec::new();
    for (gid, epoch) in groups.iter().take(MAX_SUBSCRIBED_GROUPS) {
        if let Ok(access) = ctx.session.mls.access_key(gid) {
            keys.push((*gid, *epoch, access));
        }
    }
    let channels = ctx.link.channels()?;
    let now_ms = ctx.now_ms();
    // Collected first: a stream of futures borrowing `keys` through a closure trips the
    // compiler's check that the event task is Send.
    let opening: Vec<_> = keys
        .iter()
        .map(|(group_id, epoch, access)| {
            let request = GroupSubscriptionRequest {
                group_id: *group_id,
                epoch: *epoch,
                access,
            };
            subscribe_group(channels.clone(), request, now_ms)
        })
        .collect();
    let group_streams: Vec<BoxStream<'static, Push>> = stream::iter(opening)
        .buffer_unordered(PARALLEL_SUBSCRIBES)
        .try_collect()
        .await?;
    // An inbox stream that ends is a failure: it means the subscription is gone.
    let inbox = inbox.chain(stream::once(async { Push::Failed }));
    let group_pushes = stream::select_all(group_streams);
    let group_pushes: BoxStream<'static, Push> = if group_pushes.is_empty() {
        stream::pending().boxed()
    } else {
        group_pushes.boxed()
    };
    Ok((stream::select(inbox, group_pushes).boxed(), groups))
}

/// Subscribes to one group on that group's own connection.
async fn subscribe_group(
    channels: Arc<Channels>,
    request: GroupSubscriptionRequest<'_>,
    now_ms: u64,
) -> Result<BoxStream<'static, Push>, ClientError> {
    let pushes = channels
        .group(&request.group_id)
        .await?
        .subscribe_groups(&[request], now_ms)
        .await?;
    // The relay ends a group stream when the epoch it was made at is over (an old epoch's
    // key hears nothing new); it is then made again with the new epoch's key.
    let group = request.group_id;
    Ok(pushes
        .map(move |item| match item {
            Ok(notice) => Push::InGroup(group, notice.entry),
            Err(_) => Push::Failed,
        })
        .chain(stream::once(async { Push::Ended }))
        .boxed())
}

/// Any item of a subscription: something arrived, or the subscription failed.
fn push_of<T>(item: Result<T, RelayError>) -> Push {
    if item.is_ok() {
        Push::Arrived
    } else {
        Push::Failed
    }
}

/// Waits `backoff` (unless the consumer went away) and doubles it.
async fn wait(tx: &Events, backoff: &mut Duration) {
    tokio::select! {
        _ = tx.closed() => {}
        _ = tokio::time::sleep(*backoff) => {}
    }
    *backoff = (*backoff * 2).min(MAX_BACKOFF);
}
