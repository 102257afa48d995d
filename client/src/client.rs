//! The integrator API: [`Client`] and the per-operation context behind it.

use std::sync::Arc;

use parley_crypto::handle::Handle;
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::mls::{GroupId, Mls};
use parley_crypto::vault::Passphrase;
use tokio::sync::Mutex;

use crate::builder::ClientBuilder;
use crate::conversations::{ConversationInfo, MemberInfo};
use crate::error::ClientError;
use crate::events::Event;
use crate::identity::WhoAmI;
use crate::message::{Message, MessageId};
use crate::relay::{RelayConnection, RelayUrl};
use crate::store::records::Alert;
use crate::store::{Key, Prefix, Store, StoreBatch, StoreError};
use crate::verification::{ContactInfo, GroupCode, SafetyNumberView};

/// A Parley client: one identity on one relay, with its conversations.
///
/// Cheap to clone (all clones share one state); every method takes `&self`. State changes
/// are serialized internally, so calls from several tasks are safe.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) store: Store,
    pub(crate) state: Mutex<State>,
}

/// Everything that changes, behind the one lock.
pub(crate) struct State {
    /// Present once an identity exists (after `register`, or loaded at `build`).
    pub(crate) session: Option<Session>,
    pub(crate) link: RelayLink,
    /// Events not yet handed out. Operations other than `sync` (e.g. `send_text`, which
    /// syncs its group first) may process incoming messages too; they wait here for the
    /// next `sync` or event so that every message is reported exactly once.
    pub(crate) backlog: Vec<Event>,
}

/// Our identity and the MLS engine that uses it.
pub(crate) struct Session {
    pub(crate) handle: Handle,
    pub(crate) identity: IdentitySecretKey,
    pub(crate) inbox: InboxSecretKey,
    pub(crate) mls: Mls,
}

/// The relay connection, made on first use.
pub(crate) struct RelayLink {
    pub(crate) url: Option<String>,
    pub(crate) fingerprint: Option<String>,
    conn: Option<RelayConnection>,
}

impl RelayLink {
    pub(crate) fn new(url: Option<String>, fingerprint: Option<String>) -> RelayLink {
        RelayLink {
            url,
            fingerprint,
            conn: None,
        }
    }

    /// The connection, connecting now if needed.
    pub(crate) async fn get(&mut self) -> Result<RelayConnection, ClientError> {
        if let Some(conn) = &self.conn {
            return Ok(conn.clone());
        }
        let url = self.url.as_deref().ok_or(ClientError::MissingRelay)?;
        let url = url
            .parse::<RelayUrl>()
            .map_err(|e| ClientError::InvalidRelayUrl(e.to_string()))?;
        let conn = RelayConnection::connect(&url, self.fingerprint.as_deref()).await?;
        self.conn = Some(conn.clone());
        Ok(conn)
    }
}

/// One operation's view of the state: the store, our session, the relay, and the events the
/// operation produced (returned by `sync`, streamed by `events`).
pub(crate) struct Ctx<'a> {
    pub(crate) store: &'a Store,
    pub(crate) session: &'a mut Session,
    pub(crate) link: &'a mut RelayLink,
    pub(crate) events: &'a mut Vec<Event>,
}

impl State {
    pub(crate) fn ctx<'a>(&'a mut self, store: &'a Store) -> Result<Ctx<'a>, ClientError> {
        let session = self.session.as_mut().ok_or(ClientError::NotInitialized)?;
        Ok(Ctx {
            store,
            session,
            link: &mut self.link,
            events: &mut self.backlog,
        })
    }
}

impl Ctx<'_> {
    /// The relay connection.
    pub(crate) async fn relay(&mut self) -> Result<RelayConnection, ClientError> {
        self.link.get().await
    }

    /// Persists the MLS engine's pending changes into `batch`.
    pub(crate) fn stage_mls(&mut self, batch: &mut StoreBatch) {
        for (key, value) in self.session.mls.take_changes() {
            match value {
                Some(value) => batch.put_raw(Key::Mls(&key), &value),
                None => batch.remove(Key::Mls(&key)),
            }
        }
    }

    /// Records a security alert and reports it as an event. A failure to store it is logged
    /// rather than returned: the alert is still shown through the event.
    pub(crate) async fn alert(&mut self, text: String) {
        tracing::warn!(alert = %text, "security alert");
        let record = Alert {
            at_ms: crate::clock::now_ms(),
            text: text.clone(),
        };
        let stored = async {
            let idx = self.store.next_index(Prefix::Alerts)?;
            let mut batch = StoreBatch::default();
            batch.put(Key::Alert(idx), &record)?;
            self.store.apply(batch).await
        };
        if let Err(e) = stored.await {
            tracing::error!(error = %e, "could not store an alert");
        }
        self.events.push(Event::Alert(text));
    }

    /// Records an alert unless the same text was recorded before (a condition that every
    /// sync would find again).
    pub(crate) async fn alert_once(&mut self, text: String) {
        let known: Vec<Alert> = self.store.scan(Prefix::Alerts).unwrap_or_default();
        if !known.iter().any(|a| a.text == text) {
            self.alert(text).await;
        }
    }

    /// The error for acting on a group we are not (or no longer) in.
    pub(crate) fn not_a_member(&self) -> ClientError {
        ClientError::NotAMember(self.session.handle.to_string())
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

/// What one sync produced.
pub(crate) struct SyncOutcome {
    pub(crate) events: Vec<Event>,
    /// Active groups and epochs after the sync (to notice when to resubscribe).
    pub(crate) groups: Vec<(GroupId, u64)>,
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// Creates a new identity, registers `handle` for it on the relay and publishes
    /// KeyPackages so that others can start conversations with us.
    ///
    /// Nothing is saved unless the relay accepted the handle.
    pub async fn register(&self, handle: &str) -> Result<WhoAmI, ClientError> {
        let mut state = self.inner.state.lock().await;
        crate::identity::register(&self.inner.store, &mut state, handle).await
    }

    /// Our handle, identity key and relay.
    pub fn whoami(&self) -> Result<WhoAmI, ClientError> {
        crate::identity::whoami(&self.inner.store)
    }

    /// Sends a text to the conversation `to` names: a person's handle (their 1:1, started
    /// if there is none yet; `@handle` always means the person), our group's name, or
    /// `inviter/name` for a group someone added us to. A name that could mean two
    /// conversations is refused with [`ClientError::AmbiguousName`]; see the crate docs.
    pub async fn send_text(&self, to: &str, text: &str) -> Result<Message, ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.send_text(to, text).await
    }

    /// Creates a group conversation called `name` with the given members (handles).
    pub async fn create_group(&self, name: &str, members: &[String]) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.create_group(name, members).await
    }

    /// Adds `handle` to the group conversation `group`.
    pub async fn add_member(&self, group: &str, handle: &str) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.add_member(group, handle).await
    }

    /// Removes `handle` from the group conversation `group`; it cannot read what follows.
    pub async fn remove_member(&self, group: &str, handle: &str) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.remove_member(group, handle).await
    }

    /// The members of a conversation, as the local MLS state knows them.
    pub async fn members(&self, conversation: &str) -> Result<Vec<MemberInfo>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.members(conversation)
    }

    /// Fetches and processes everything new (inbox, then every group) and returns the new
    /// messages in processing order (changes of members included). Each message is returned
    /// once by `sync` or [`Client::events`]; independently of that, every message someone
    /// else caused stays in [`Client::unread`] until [`Client::mark_read`].
    pub async fn sync(&self) -> Result<Vec<Message>, ClientError> {
        let outcome = self.sync_outcome().await?;
        Ok(outcome
            .events
            .into_iter()
            .filter_map(|event| match event {
                Event::Message(message) => Some(message),
                _ => None,
            })
            .collect())
    }

    pub(crate) async fn sync_outcome(&self) -> Result<SyncOutcome, ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.sync_all().await?;
        let groups = ctx.active_groups()?;
        Ok(SyncOutcome {
            events: std::mem::take(ctx.events),
            groups,
        })
    }

    /// Entries not yet marked read, in the order they arrived: messages and changes of
    /// members caused by others, whichever call fetched them. With `conversation`, only
    /// that conversation's. Nothing is fetched from the relay (see [`Client::sync`]).
    pub async fn unread(&self, conversation: Option<&str>) -> Result<Vec<Message>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.unread(conversation)
    }

    /// Marks these entries as shown: [`Client::unread`] no longer lists them.
    pub async fn mark_read(&self, ids: &[MessageId]) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.mark_read(ids).await
    }

    /// The stored history of a conversation, oldest first; with `limit`, the latest `limit`.
    pub async fn history(
        &self,
        conversation: &str,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.history(conversation, limit)
    }

    /// All conversations, by name.
    pub async fn conversations(&self) -> Result<Vec<ConversationInfo>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.conversation_infos()
    }

    /// The safety number we share with `handle` (12 groups of 5 digits), to compare in person.
    pub async fn safety_number(&self, handle: &str) -> Result<String, ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.safety_number(handle).await
    }

    /// Pinned contacts (everyone we share a conversation with), sorted by handle, with their
    /// verification status. Reads local state only.
    pub async fn contacts(&self) -> Result<Vec<ContactInfo>, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.contact_infos()
    }

    /// The safety number shared with `handle` and the contact's status. The directory is
    /// asked first (a new handle is pinned, a changed key recorded); when the relay cannot be
    /// reached the stored key is used. For a CHANGED contact the number is computed with the
    /// new key: compare it before accepting or confirming.
    pub async fn verification(&self, handle: &str) -> Result<SafetyNumberView, ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.verification(handle).await
    }

    /// Marks `handle` verified after the safety numbers matched; for a CHANGED contact the new
    /// key is adopted (and 1:1s holding the old key are retired as "`<name> (old key)`" and
    /// closed at the relay). Groups that hold the old key stay blocked until the member is
    /// removed (and added again with the new key).
    pub async fn confirm_verified(&self, handle: &str) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.confirm_verified(handle).await
    }

    /// Adopts the changed key of `handle` without verifying it: the contact becomes
    /// unverified and can be written to again (1:1s holding the old key are retired as
    /// "`<name> (old key)`" and closed at the relay; the next message starts a new one).
    /// Groups that hold the old key stay blocked until the member is removed (and added
    /// again). Does nothing if the key did not change.
    pub async fn accept_new_key(&self, handle: &str) -> Result<(), ClientError> {
        let mut state = self.inner.state.lock().await;
        let mut ctx = state.ctx(&self.inner.store)?;
        ctx.accept_new_key(handle).await
    }

    /// The code over the whole roster and MLS epoch of `conversation`, for a room to compare
    /// in one step. Reads local state only; sync first to be in step with the others.
    pub async fn group_code(&self, conversation: &str) -> Result<GroupCode, ClientError> {
        let mut state = self.inner.state.lock().await;
        let ctx = state.ctx(&self.inner.store)?;
        ctx.group_code(conversation)
    }

    /// Protects the local store with `new` from now on: the store key is wrapped again
    /// (with the store's KDF parameters) and the key record replaced in one write. Nothing
    /// else is re-encrypted. An empty passphrase is refused with `PassphraseRequired`.
    pub async fn change_passphrase(&self, new: Passphrase) -> Result<(), ClientError> {
        if new.is_empty() {
            return Err(ClientError::PassphraseRequired);
        }
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.rewrap(&new))
            .await
            .map_err(|_| ClientError::Store(StoreError::Interrupted))??;
        Ok(())
    }

    /// Security alerts recorded so far (refused members, changed keys, removals), oldest first.
    pub async fn alerts(&self) -> Result<Vec<String>, ClientError> {
        let alerts: Vec<Alert> = self.inner.store.scan(Prefix::Alerts)?;
        Ok(alerts.into_iter().map(|a| a.text).collect())
    }

    /// A stream of events: it syncs whenever the relay pushes something (and every 30 s as a
    /// fallback) and yields new messages, membership changes and alerts.
    ///
    /// The work runs in a task spawned on the caller's tokio runtime; it ends when the
    /// stream is dropped.
    pub fn events(
        &self,
    ) -> impl futures::Stream<Item = Result<Event, ClientError>> + Send + 'static {
        crate::events::spawn(self.clone())
    }
}
