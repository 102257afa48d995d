//! The bottom layer: what a client holds (the encrypted store, the relay connection, the MLS
//! engine, the clock) and the records kept in the store (conversations, names, history,
//! unread marks, pins, alerts, quarantine). Everything above (trust, pending commits,
//! receiving, sending, the public front) works through a [`Ctx`], one operation's view of
//! this state; only this layer gives [`Ctx`] methods, the layers above are free functions
//! that name the module they call, so the module graph shows every dependency.

pub(crate) mod alerts;
pub(crate) mod clock;
pub(crate) mod conversations;
pub(crate) mod failpoint;
pub(crate) mod history;
pub(crate) mod leave_requests;
pub(crate) mod migration;
pub(crate) mod naming;
pub(crate) mod pins;
pub(crate) mod quarantine;
pub(crate) mod refusals;
pub(crate) mod relay;
pub(crate) mod session;
pub(crate) mod store;
pub(crate) mod unread;
pub(crate) mod workshop_text;

use std::sync::Arc;

use parley_crypto::clock::Clock;
use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::{GroupId, Mls};
use tokio::sync::{watch, Mutex};

use crate::api::error::ClientError;
use crate::api::event::Event;
use crate::api::proxy_url::ProxyUrl;
use crate::state::relay::channels::Channels;
use crate::state::relay::{RelayConnection, RelayUrl};
use crate::state::store::{Key, Store, StoreBatch};

/// What every clone of a client shares: the store, the clock, and the state behind the one
/// lock.
pub(crate) struct Shared {
    pub(crate) store: Store,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) state: Mutex<State>,
}

/// Everything that changes, behind the client's one lock.
pub(crate) struct State {
    /// Present once an identity exists (after `register`, or loaded at `build`).
    pub(crate) session: Option<Session>,
    pub(crate) link: RelayLink,
    /// Events not yet handed out. Operations other than `sync` (e.g. `send_text`, which
    /// syncs its group first) may process incoming messages too; they wait here for the
    /// next `sync` or event so that every message is reported exactly once.
    pub(crate) backlog: Vec<Event>,
    /// Bumped when an operation of this client creates a group, so that running event
    /// streams subscribe to it at once instead of at their next poll.
    pub(crate) new_groups: watch::Sender<u64>,
}

/// Our identity and the MLS engine that uses it.
pub(crate) struct Session {
    pub(crate) handle: Handle,
    pub(crate) identity: IdentitySecretKey,
    pub(crate) inbox: InboxSecretKey,
    /// The keys our last rotation replaced, while they are kept.
    pub(crate) previous: Option<PreviousKeys>,
    pub(crate) mls: Mls,
}

/// The identity and inbox keys a rotation replaced: the identity signs each group's move to
/// the new key, the inbox key opens deliveries sealed by senders who had not heard yet.
pub(crate) struct PreviousKeys {
    pub(crate) identity: IdentitySecretKey,
    pub(crate) inbox: InboxSecretKey,
    /// When they are forgotten (our clock, ms).
    pub(crate) until_ms: u64,
}

/// The way to the relay: its address and pin, the proxy, and the connections (see
/// [`relay::channels`]), made on first use.
pub(crate) struct RelayLink {
    pub(crate) url: Option<RelayUrl>,
    pub(crate) fingerprint: Option<String>,
    proxy: Option<ProxyUrl>,
    channels: Option<Arc<Channels>>,
}

impl RelayLink {
    pub(crate) fn new(
        url: Option<RelayUrl>,
        fingerprint: Option<String>,
        proxy: Option<ProxyUrl>,
    ) -> RelayLink {
        RelayLink {
            url,
            fingerprint,
            proxy,
            channels: None,
        }
    }

    /// The SOCKS5 proxy every connection goes through, if any.
    pub(crate) fn proxy(&self) -> Option<&ProxyUrl> {
        self.proxy.as_ref()
    }

    /// The client's connections to the relay (none is opened by this call).
    pub(crate) fn channels(&mut self) -> Result<Arc<Channels>, ClientError> {
        if let Some(channels) = &self.channels {
            return Ok(channels.clone());
        }
        let url = self.url.clone().ok_or(ClientError::MissingRelay)?;
        let channels = Arc::new(Channels::new(
            url,
            self.fingerprint.clone(),
            self.proxy.clone(),
        ));
        self.channels = Some(channels.clone());
        Ok(channels)
    }

    /// The connection for calls signed by our identity key, connecting now if needed.
    pub(crate) async fn owner(&mut self) -> Result<RelayConnection, ClientError> {
        Ok(self.channels()?.owner().await?)
    }
}

/// One operation's view of the state: the store, our session, the relay, the clock, and the
/// events the operation produced (returned by `sync`, streamed by `events`).
pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a Store,
    pub(crate) session: &'a mut Session,
    pub(crate) link: &'a mut RelayLink,
    pub(crate) events: &'a mut Vec<Event>,
    pub(crate) clock: &'a Arc<dyn Clock>,
    new_groups: &'a watch::Sender<u64>,
}

impl State {
    /// The context of one operation; fails before registration.
    pub(crate) fn ctx<'a>(
        &'a mut self,
        store: &'a Store,
        clock: &'a Arc<dyn Clock>,
    ) -> Result<Ctx<'a>, ClientError> {
        let session = self.session.as_mut().ok_or(ClientError::NotInitialized)?;
        Ok(Ctx {
            store,
            session,
            link: &mut self.link,
            events: &mut self.backlog,
            clock,
            new_groups: &self.new_groups,
        })
    }
}

impl Ctx<'_> {
    /// The connection for calls signed by our identity key (inbox, KeyPackage publishing).
    pub(crate) async fn owner_relay(&mut self) -> Result<RelayConnection, ClientError> {
        self.link.owner().await
    }

    /// The connection for one group's traffic, which no other group and no owner call shares.
    pub(crate) async fn group_relay(
        &mut self,
        group_id: &GroupId,
    ) -> Result<RelayConnection, ClientError> {
        Ok(self.link.channels()?.group(group_id).await?)
    }

    /// A new connection for one anonymous call (deposit, KeyPackage claim, lookup): nothing
    /// else travels on it, and it closes when dropped.
    pub(crate) async fn one_off_relay(&mut self) -> Result<RelayConnection, ClientError> {
        Ok(self.link.channels()?.one_off().await?)
    }

    /// Tells running event streams that we are in a group they do not watch yet.
    pub(crate) fn announce_new_group(&self) {
        self.new_groups
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    /// Milliseconds since the Unix epoch, by the clock the client was given.
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// Persists the MLS engine's pending changes into `batch`.
    pub(crate) fn stage_mls(&mut self, batch: &mut StoreBatch) {
        for (key, value) in self.session.mls.take_changes() {
            match value {
                Some(value) => batch.put_mls(Key::Mls(&key), &value),
                None => batch.remove(Key::Mls(&key)),
            }
        }
    }

    /// The error for acting on a group we are not (or no longer) in.
    pub(crate) fn not_a_member(&self) -> ClientError {
        ClientError::NotAMember(self.session.handle.clone())
    }

    /// Active groups and our epoch in each (what a group subscription needs).
    pub(crate) fn active_groups(&self) -> Result<Vec<(GroupId, u64)>, ClientError> {
        let mut groups = Vec::new();
        for conv in self.conversations()? {
            if conv.active {
                if let Ok(epoch) = self.session.mls.epoch(&conv.group_id) {
                    groups.push((conv.group_id, epoch));
                }
            }
        }
        Ok(groups)
    }
}
