//! The public front: [`Client`] and every operation an application calls, read top-down.
//! Each method takes the one lock, makes a context and calls the layer that does the work:
//! `state` (records), `trust` (keys), `receive` (inbox and group logs), `send` (messages and
//! membership), `sync` (what spans them: a full sync, deciding about a key).

use std::sync::Arc;

use parley_crypto::handle::Handle;
use parley_crypto::retention::Retention;
use parley_crypto::vault::Passphrase;
use tokio::io::{AsyncRead, AsyncWrite};

use crate::api::alert::Alert;
use crate::api::conversation::{ConversationId, ConversationInfo, MemberInfo};
use crate::api::document::{DocumentInfo, DocumentMeta, Transfer};
use crate::api::error::{ClientError, StoreError};
use crate::api::event::{Event, SyncReport};
use crate::api::fingerprint::Fingerprint;
use crate::api::message::{Message, MessageId};
use crate::api::outbox::{OutboxReport, QueuedMessage, SendOutcome};
use crate::api::proxy_url::ProxyUrl;
use crate::api::relay_url::RelayUrl;
use crate::api::trust::{
    ContactInfo, GroupCode, QuarantinedMessage, RotationReport, SafetyNumberView, WhoAmI,
};
use crate::api::workshop::{RosterEdit, TextCommentInfo, TextVersionInfo, Workshop, WorkshopPlan};
use crate::builder::ClientBuilder;
use crate::receive::inbox;
use crate::send::{membership, message, outbox};
use crate::state::relay::RelayConnection;
use crate::state::store::records::{StoredAlert, StoredBody};
use crate::state::store::Prefix;
use crate::state::Shared;
use crate::sync;
use crate::trust::verification;

/// A Parley client: one identity on one relay, with its conversations.
///
/// Cheap to clone (all clones share one state); every method takes `&self`. State changes
/// are serialized internally, so calls from several tasks are safe.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Shared>,
}

/// Runs `$body` with a context for one operation, under the client's lock.
macro_rules! with_ctx {
    ($client:expr, |$ctx:ident| $body:expr) => {{
        let mut state = $client.inner.state.lock().await;
        #[allow(unused_mut)]
        let mut $ctx = state.ctx(&$client.inner.store, &$client.inner.clock)?;
        $body
    }};
}

impl ClientBuilder {
    /// Checks the configuration, unlocks the store (creating the home directory if needed)
    /// and loads the identity if one was registered. The relay is contacted only when an
    /// operation needs it.
    ///
    /// A new store is written to disk with its first record (at `register`). A wrong
    /// passphrase for an existing store fails with [`ClientError::WrongPassphrase`] before
    /// anything is written; a malformed relay address or fingerprint with
    /// [`ClientError::InvalidRelay`]; a proxy address that is not SOCKS5 with
    /// [`ClientError::InvalidProxy`].
    pub async fn build(self) -> Result<Client, ClientError> {
        Ok(Client {
            inner: Arc::new(self.open().await?),
        })
    }
}

impl Client {
    /// Starts configuring a client.
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// The SHA-256 fingerprint of the certificate a TLS relay presents, fetched without
    /// trusting it, for a person to compare with the one its operator gave them before it is
    /// pinned. Nothing is sent to the relay.
    pub async fn probe_relay_fingerprint(url: &RelayUrl) -> Result<Fingerprint, ClientError> {
        Ok(RelayConnection::probe_fingerprint(url, None).await?)
    }

    /// [`Client::probe_relay_fingerprint`] through a SOCKS5 proxy, for a client that will
    /// use one (see [`ClientBuilder::proxy`](crate::ClientBuilder::proxy)): the relay never
    /// sees this computer's address, not even when it is first looked at.
    pub async fn probe_relay_fingerprint_via(
        url: &RelayUrl,
        proxy: &ProxyUrl,
    ) -> Result<Fingerprint, ClientError> {
        Ok(RelayConnection::probe_fingerprint(url, Some(proxy.clone())).await?)
    }

    /// Creates a new identity, registers `handle` for it on the relay and publishes
    /// KeyPackages so that others can start conversations with us.
    ///
    /// Nothing is saved unless the relay accepted the handle.
    pub async fn register(&self, handle: &Handle) -> Result<WhoAmI, ClientError> {
        let mut state = self.inner.state.lock().await;
        crate::registration::register(&self.inner.store, &mut state, &self.inner.clock, handle)
            .await
    }

    /// The SOCKS5 proxy this client reaches the relay through, if any (given to the builder,
    /// or remembered by the folder).
    pub async fn proxy(&self) -> Option<ProxyUrl> {
        self.inner.state.lock().await.link.proxy().cloned()
    }

    /// Our handle, identity key and relay.
    pub fn whoami(&self) -> Result<WhoAmI, ClientError> {
        crate::state::session::whoami(&self.inner.store)
    }

    /// What a name typed by a person means, by the one rule of the whole library:
    ///
    /// - `@handle` is always the person (their 1:1, started by the first message);
    /// - `inviter/name` is the group `inviter` added us to under that name (read from the
    ///   inbox first if it is not known yet); our own groups also answer to `me/name`;
    /// - a bare name is the 1:1 with that handle, or our own group of that name, whichever
    ///   exists; a handle with neither starts a new 1:1.
    ///
    /// A name that could mean two conversations (our group `summit` and a person `summit`;
    /// a handle we have no 1:1 with while someone else's group carries that name) is refused
    /// with [`ClientError::AmbiguousName`], listing the names that say which.
    pub async fn resolve(&self, name: &str) -> Result<ConversationId, ClientError> {
        with_ctx!(self, |ctx| inbox::resolve_fresh(&mut ctx, name).await)
    }

    /// Sends a text; to a person with no 1:1 yet, starts one.
    pub async fn send_text(&self, to: &ConversationId, text: &str) -> Result<Message, ClientError> {
        with_ctx!(self, |ctx| message::send_text(&mut ctx, to, text).await)
    }

    /// Shares a document: reads `meta.size` bytes from `reader`, encrypts them under a key of
    /// their own and uploads them chunk by chunk (never holding the whole document; `progress`
    /// is called as the relay confirms chunks), then sends the conversation a message with
    /// the key, name, size and SHA-256. To a person with no 1:1 yet, starts one. The upload
    /// runs without blocking this client's other calls.
    pub async fn send_file(
        &self,
        to: &ConversationId,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        meta: DocumentMeta,
        progress: &mut (dyn FnMut(Transfer) + Send),
    ) -> Result<Message, ClientError> {
        let (conv, relay, retention) = with_ctx!(self, |ctx| {
            let conv = match to {
                ConversationId::Direct(peer) => message::direct_to_send_in(&mut ctx, peer).await?,
                ConversationId::Group(_) => ctx.require_conversation(to)?,
            };
            message::check_can_send(&ctx, &conv)?;
            let retention = ctx.session.mls.retention(&conv.group_id)?;
            (conv, ctx.one_off_relay().await?, retention)
        });
        let document =
            crate::send::document::upload(relay, reader, &meta, retention, progress).await?;
        with_ctx!(self, |ctx| {
            let conv = ctx.conversation_of(&conv.group_id)?.unwrap_or(conv);
            message::check_can_send(&ctx, &conv)?;
            message::send_body(&mut ctx, conv, StoredBody::Document(document)).await
        })
    }

    /// Fetches the document shared under `id` (see [`crate::MessageBody::Document`]) and writes its
    /// content to `writer`, checking every chunk and, at the end, the SHA-256 the sender
    /// shared; `progress` is called per chunk. On [`ClientError::DocumentDamaged`] what was
    /// written must be thrown away (write to a temporary file; keep it only on success).
    pub async fn fetch_file(
        &self,
        id: &str,
        writer: &mut (dyn AsyncWrite + Unpin + Send),
        progress: &mut (dyn FnMut(Transfer) + Send),
    ) -> Result<DocumentInfo, ClientError> {
        let (document, relay) = with_ctx!(self, |ctx| {
            (
                crate::receive::document::find(&ctx, id)?,
                ctx.one_off_relay().await?,
            )
        });
        crate::receive::document::download(relay, &document, writer, progress).await
    }

    /// The messages that shared a document, in `conversation` or in all, oldest first.
    pub async fn documents(
        &self,
        conversation: Option<&ConversationId>,
    ) -> Result<Vec<Message>, ClientError> {
        with_ctx!(self, |ctx| crate::receive::document::list(
            &ctx,
            conversation
        ))
    }

    /// Sends a text like [`Client::send_text`], but when the relay cannot be reached the
    /// message is kept in the outbox (encrypted in the store) instead of failing, and sent by
    /// a later [`Client::flush_outbox`] or `send_or_queue`. Messages already waiting go first,
    /// so the order written is the order sent. Anything but an unreachable relay fails as
    /// `send_text` does, and nothing is kept.
    pub async fn send_or_queue(
        &self,
        to: &ConversationId,
        text: &str,
    ) -> Result<SendOutcome, ClientError> {
        with_ctx!(self, |ctx| outbox::send_or_queue(&mut ctx, to, text).await)
    }

    /// Sends the messages waiting in the outbox, oldest first, stopping at the first the
    /// relay cannot take. One that fails for another reason is kept with the reason and not
    /// retried.
    pub async fn flush_outbox(&self) -> Result<OutboxReport, ClientError> {
        with_ctx!(self, |ctx| outbox::flush(&mut ctx).await)
    }

    /// The messages in the outbox, oldest first (failed ones included, with their reason).
    pub async fn outbox(&self) -> Result<Vec<QueuedMessage>, ClientError> {
        with_ctx!(self, |ctx| outbox::list(&ctx))
    }

    /// Removes a message from the outbox without sending it; false if none has this id.
    pub async fn cancel_queued(&self, id: u64) -> Result<bool, ClientError> {
        with_ctx!(self, |ctx| outbox::cancel(&mut ctx, id).await)
    }

    /// Creates a group called `name` with the given members; returns its id. The name may
    /// not be a contact's handle or the name of another of our groups, and has no `/`.
    pub async fn create_group(
        &self,
        name: &str,
        members: &[Handle],
    ) -> Result<ConversationId, ClientError> {
        self.create_group_with_retention(name, members, Retention::Off)
            .await
    }

    /// Creates a group like [`Client::create_group`] whose messages and documents disappear
    /// `retention` after they were sent, on every member's device and at the relay. The
    /// retention is part of the group's MLS state: every member holds the same value.
    pub async fn create_group_with_retention(
        &self,
        name: &str,
        members: &[Handle],
        retention: Retention,
    ) -> Result<ConversationId, ClientError> {
        with_ctx!(self, |ctx| membership::create_group(
            &mut ctx, name, members, retention
        )
        .await)
    }

    /// Changes how long a conversation (a group, or the 1:1 with a person, started if need
    /// be) keeps messages and documents: an MLS commit every member processes and is told
    /// of ([`MessageBody::RetentionChanged`](crate::MessageBody)); the relay is told the
    /// duration (not who set it) and drops the group's ciphertext as soon. Entries older than
    /// the new retention are deleted at the next sync. Setting the current value does
    /// nothing. [`ClientError::Crypto`] if a member's software cannot carry a retention.
    pub async fn set_retention(
        &self,
        conversation: &ConversationId,
        retention: Retention,
    ) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| membership::set_retention(
            &mut ctx,
            conversation,
            retention
        )
        .await)
    }

    /// Adds `member` to a group.
    pub async fn add_member(
        &self,
        group: &ConversationId,
        member: &Handle,
    ) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| membership::add_member(&mut ctx, group, member)
            .await)
    }

    /// Makes `member` an admin of a group too; only an admin may (every member's software
    /// refuses anyone else's change), and every member is told
    /// ([`MessageBody::Promoted`](crate::MessageBody)).
    pub async fn promote(
        &self,
        group: &ConversationId,
        member: &Handle,
    ) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| membership::promote(&mut ctx, group, member)
            .await)
    }

    /// Leaves a group: every member is told, an admin's client removes us from it, and this
    /// client stops reading it. [`ClientError::LastAdmin`] if we are its only admin and
    /// others are still in it.
    pub async fn leave_group(&self, group: &ConversationId) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| crate::send::leave::leave_group(&mut ctx, group)
            .await)
    }

    /// The admins of a group (who may add, remove and promote); empty for a 1:1 and for a
    /// group made before roles existed, where any member may.
    pub async fn admins(&self, conversation: &ConversationId) -> Result<Vec<Handle>, ClientError> {
        with_ctx!(self, |ctx| {
            let conv = ctx.require_conversation(conversation)?;
            Ok(ctx.session.mls.admins(&conv.group_id)?.unwrap_or_default())
        })
    }

    /// Removes `member` from a group; they cannot read what follows.
    pub async fn remove_member(
        &self,
        group: &ConversationId,
        member: &Handle,
    ) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| membership::remove_member(
            &mut ctx, group, member
        )
        .await)
    }

    /// Creates the workshop `name` from `plan` (we must be one of its facilitators): the
    /// plenary (everyone), the facilitators' room and a caucus per side (that side and the
    /// facilitators), each an MLS group whose context holds the roster and policies. Rooms
    /// are named `name`, `name:facilitators` and `name:<side>`. Returns the plenary.
    pub async fn create_workshop(
        &self,
        name: &str,
        plan: &WorkshopPlan,
    ) -> Result<ConversationId, ClientError> {
        with_ctx!(self, |ctx| crate::workshop::create::create_workshop(
            &mut ctx, name, plan
        )
        .await)
    }

    /// The workshop `room` is a room of (any room), as its plenary's MLS state says.
    pub async fn workshop(&self, room: &ConversationId) -> Result<Workshop, ClientError> {
        with_ctx!(self, |ctx| crate::workshop::view::workshop(&ctx, room))
    }

    /// Every workshop we are in.
    pub async fn workshops(&self) -> Result<Vec<Workshop>, ClientError> {
        with_ctx!(self, |ctx| crate::workshop::view::workshops(&ctx))
    }

    /// Changes a workshop's roster or policies (facilitators only): each room gets the
    /// change by a commit that every member's software checks (and refuses from anyone but
    /// a facilitator) and announces ([`MessageBody::RosterChanged`](crate::MessageBody)).
    pub async fn change_workshop(
        &self,
        room: &ConversationId,
        edit: &RosterEdit,
    ) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| crate::workshop::change::change_workshop(
            &mut ctx, room, edit
        )
        .await)
    }

    /// Publishes the next version of a workshop's negotiating text (facilitators only),
    /// carrying the previous version's hash; returns its number. A text over 64 KiB is
    /// shared as a document (uploaded first, then announced), at most 8 MiB.
    pub async fn propose_text(
        &self,
        room: &ConversationId,
        text: &str,
    ) -> Result<u32, ClientError> {
        use crate::workshop::negotiating::{self, MAX_INLINE_TEXT, MAX_TEXT};
        if text.len() <= MAX_INLINE_TEXT {
            return with_ctx!(self, |ctx| negotiating::propose(&mut ctx, room, text).await);
        }
        if text.len() > MAX_TEXT {
            return Err(crate::api::workshop_error::WorkshopError::TextTooLong(MAX_TEXT).into());
        }
        let (gid, retention, relay) = with_ctx!(self, |ctx| {
            let (gid, retention) = negotiating::prepare_document(&mut ctx, room).await?;
            (gid, retention, ctx.one_off_relay().await?)
        });
        let meta = DocumentMeta::new(
            "negotiating-text.txt",
            text.len() as u64,
            "text/plain;charset=utf-8",
        );
        let mut reader = text.as_bytes();
        let document =
            crate::send::document::upload(relay, &mut reader, &meta, retention, &mut |_| {})
                .await?;
        with_ctx!(self, |ctx| negotiating::publish_document(
            &mut ctx, &gid, document
        )
        .await)
    }

    /// Fetches (and checks against the chain's hashes) the versions of a workshop's text
    /// shared as documents and not fetched yet.
    async fn fetch_texts(&self, room: &ConversationId) -> Result<(), ClientError> {
        let pending = with_ctx!(self, |ctx| crate::workshop::negotiating::pending_texts(
            &ctx, room
        )?);
        for (gid, number, document) in pending {
            let relay = with_ctx!(self, |ctx| ctx.one_off_relay().await?);
            let mut bytes: Vec<u8> = Vec::new();
            crate::receive::document::download(relay, &document, &mut bytes, &mut |_| {}).await?;
            let text = String::from_utf8(bytes).map_err(|_| ClientError::DocumentDamaged)?;
            with_ctx!(self, |ctx| ctx.fill_text(&gid, number, text).await?);
        }
        Ok(())
    }

    /// A version of a workshop's negotiating text (the latest without `version`).
    pub async fn negotiating_text(
        &self,
        room: &ConversationId,
        version: Option<u32>,
    ) -> Result<TextVersionInfo, ClientError> {
        self.fetch_texts(room).await?;
        with_ctx!(self, |ctx| crate::workshop::negotiating::version(
            &ctx, room, version
        ))
    }

    /// Every version of a workshop's negotiating text, oldest first.
    pub async fn text_versions(
        &self,
        room: &ConversationId,
    ) -> Result<Vec<TextVersionInfo>, ClientError> {
        self.fetch_texts(room).await?;
        with_ctx!(self, |ctx| crate::workshop::negotiating::versions(
            &ctx, room
        ))
    }

    /// How version `to` of a workshop's text differs from version `from`, by paragraph.
    pub async fn text_diff(
        &self,
        room: &ConversationId,
        from: u32,
        to: u32,
    ) -> Result<Vec<crate::workshop::diff::ParagraphChange>, ClientError> {
        self.fetch_texts(room).await?;
        with_ctx!(self, |ctx| crate::workshop::negotiating::compare(
            &ctx, room, from, to
        ))
    }

    /// Comments on paragraph `para` (from 1) of the latest version of a workshop's text,
    /// attributed as the policy says; returns the version commented on.
    pub async fn comment_text(
        &self,
        room: &ConversationId,
        para: u32,
        text: &str,
    ) -> Result<u32, ClientError> {
        self.fetch_texts(room).await?;
        with_ctx!(self, |ctx| crate::workshop::negotiating::comment(
            &mut ctx, room, para, text
        )
        .await)
    }

    /// The comments on a version of a workshop's text (on every version without `version`).
    pub async fn text_comments(
        &self,
        room: &ConversationId,
        version: Option<u32>,
    ) -> Result<Vec<TextCommentInfo>, ClientError> {
        with_ctx!(self, |ctx| crate::workshop::negotiating::comments(
            &ctx, room, version
        ))
    }

    /// The workshop's record as Markdown (facilitators only): the final text and its
    /// version chain, the comments and the plenary under the attribution policy. The room is
    /// told that a facilitator exported it.
    pub async fn export_workshop(&self, room: &ConversationId) -> Result<String, ClientError> {
        self.fetch_texts(room).await?;
        with_ctx!(self, |ctx| crate::workshop::record::export(&mut ctx, room)
            .await)
    }

    /// Rotates our keys: a new identity and inbox key, published in a directory record our
    /// current key signs (so contacts who pinned it see a rotation, not an unexplained
    /// change), then every conversation moved to the new key by an MLS commit and fresh
    /// KeyPackages published. The replaced keys are kept 30 days, for deliveries sealed to
    /// them and conversations that could not be moved at once (retried at each sync).
    ///
    /// [`ClientError::RotationRefused`] if the relay holds another record for our handle;
    /// [`ClientError::RotationUnfinished`] while conversations of the last rotation are
    /// still to move.
    pub async fn rotate_keys(&self) -> Result<RotationReport, ClientError> {
        with_ctx!(self, |ctx| crate::rotation::rotate_keys(&mut ctx).await)
    }

    /// Starts a group again when it cannot go on (see [`Alert::RoomStuck`](crate::Alert)):
    /// a new group with its members as we know them, less us and `without`, each checked
    /// against the pins like any new group's, under the same title. The new group is told
    /// what it replaces; our own old group is renamed `title (old)` and the new one takes its
    /// name. Returns the new group.
    pub async fn recreate_group(
        &self,
        group: &ConversationId,
        without: &[Handle],
    ) -> Result<ConversationId, ClientError> {
        with_ctx!(self, |ctx| crate::send::recreate::recreate_group(
            &mut ctx, group, without
        )
        .await)
    }

    /// Fetches and processes everything new: unfinished commits, the inbox, deliveries held
    /// until a key decision, every group we are in, 1:1s to close, the KeyPackage top-up.
    /// Returns everything it processed; each entry is reported once, by a sync or by
    /// [`Client::events`]. Independently, every entry someone else caused stays in
    /// [`Client::unread`] until [`Client::mark_read`].
    pub async fn sync(&self) -> Result<SyncReport, ClientError> {
        Ok(SyncReport::from_events(
            sync::sync_events(&self.inner).await?.0,
        ))
    }

    /// Entries not yet marked read, in the order they arrived: messages and changes of
    /// members caused by others, whichever call fetched them. With `conversation`, only
    /// that conversation's. Nothing is fetched from the relay (see [`Client::sync`]).
    pub async fn unread(
        &self,
        conversation: Option<&ConversationId>,
    ) -> Result<Vec<Message>, ClientError> {
        with_ctx!(self, |ctx| ctx.unread(conversation))
    }

    /// Marks these entries as shown: [`Client::unread`] no longer lists them.
    pub async fn mark_read(&self, ids: &[MessageId]) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| ctx.mark_read(ids).await)
    }

    /// The stored history of a conversation, oldest first; with `limit`, the latest `limit`.
    pub async fn history(
        &self,
        conversation: &ConversationId,
        limit: Option<usize>,
    ) -> Result<Vec<Message>, ClientError> {
        with_ctx!(self, |ctx| ctx.history(conversation, limit))
    }

    /// All conversations, sorted by name.
    pub async fn conversations(&self) -> Result<Vec<ConversationInfo>, ClientError> {
        with_ctx!(self, |ctx| ctx.conversation_infos())
    }

    /// The members of a conversation, as the local MLS state knows them.
    pub async fn members(
        &self,
        conversation: &ConversationId,
    ) -> Result<Vec<MemberInfo>, ClientError> {
        with_ctx!(self, |ctx| {
            let conv = ctx.require_conversation(conversation)?;
            if !conv.active {
                return Err(ctx.not_a_member());
            }
            let members = ctx.session.mls.members(&conv.group_id)?;
            Ok(members.iter().map(|m| ctx.member_info(m)).collect())
        })
    }

    /// Pinned contacts (everyone we share a conversation with), sorted by handle, with their
    /// verification status. Reads local state only.
    pub async fn contacts(&self) -> Result<Vec<ContactInfo>, ClientError> {
        with_ctx!(self, |ctx| verification::contact_infos(&ctx))
    }

    /// The safety number we share with `peer` (12 groups of 5 digits), to compare in person.
    pub async fn safety_number(&self, peer: &Handle) -> Result<String, ClientError> {
        with_ctx!(self, |ctx| verification::safety_number(&mut ctx, peer)
            .await)
    }

    /// The safety number shared with `peer` and the contact's status. The directory is asked
    /// first (a new handle is pinned, a changed key recorded); when the relay cannot be
    /// reached the stored key is used. For a CHANGED contact the number is computed with the
    /// new key: compare it before accepting or confirming.
    pub async fn verification(&self, peer: &Handle) -> Result<SafetyNumberView, ClientError> {
        with_ctx!(self, |ctx| verification::verification(&mut ctx, peer).await)
    }

    /// Marks `peer` verified after the safety numbers matched; for a CHANGED contact the new
    /// key is adopted. 1:1s holding the old key are then retired ("`<handle> (old key)`",
    /// read-only) and closed at the relay, and what `peer` sent with the new key while it was
    /// CHANGED is processed. Groups that hold the old key stay blocked until the member is
    /// removed (and added again with the new key).
    pub async fn confirm_verified(&self, peer: &Handle) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| {
            let adopted = verification::confirm_verified(&mut ctx, peer).await?;
            sync::after_key_adopted(&mut ctx, peer, adopted).await
        })
    }

    /// Adopts the changed key of `peer` without verifying it: the contact becomes unverified
    /// and can be written to again; otherwise as [`Client::confirm_verified`]. Does nothing
    /// if the key did not change.
    pub async fn accept_new_key(&self, peer: &Handle) -> Result<(), ClientError> {
        with_ctx!(self, |ctx| {
            let adopted = verification::accept_new_key(&mut ctx, peer).await?;
            sync::after_key_adopted(&mut ctx, peer, adopted).await
        })
    }

    /// The code over the whole roster and MLS epoch of a conversation, for a room to compare
    /// in one step. Reads local state only; sync first to be in step with the others.
    pub async fn group_code(
        &self,
        conversation: &ConversationId,
    ) -> Result<GroupCode, ClientError> {
        with_ctx!(self, |ctx| verification::group_code(&ctx, conversation))
    }

    /// Security alerts recorded so far, oldest first.
    pub async fn alerts(&self) -> Result<Vec<Alert>, ClientError> {
        let alerts: Vec<StoredAlert> = self.inner.store.scan(Prefix::Alerts)?;
        Ok(alerts.into_iter().map(|a| a.alert).collect())
    }

    /// Messages that could not be processed and were set aside (never retried), oldest first.
    pub async fn quarantined(&self) -> Result<Vec<QuarantinedMessage>, ClientError> {
        with_ctx!(self, |ctx| ctx.quarantined())
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

    /// Checks that `passphrase` is the one that unlocks this client's store, e.g. before a
    /// long-running process that holds the store open changes it for someone. Runs Argon2id.
    pub async fn check_passphrase(&self, passphrase: Passphrase) -> Result<(), ClientError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || store.check_passphrase(&passphrase))
            .await
            .map_err(|_| ClientError::Store(StoreError::Interrupted))??;
        Ok(())
    }

    /// A stream of events: it syncs whenever the relay pushes something (and every 30 s as a
    /// fallback) and yields new entries, membership changes and alerts.
    ///
    /// The work runs in a task spawned on the caller's tokio runtime; it ends when the
    /// stream is dropped.
    pub fn events(
        &self,
    ) -> impl futures::Stream<Item = Result<Event, ClientError>> + Send + 'static {
        crate::events::spawn(Arc::clone(&self.inner))
    }
}
