//! The inbox: sealed envelopes deposited for us, i.e. Welcomes into new conversations.

use parley_crypto::directory::SignedRecord;
use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::inbox_message::InboxMessage;
use parley_crypto::mls::{Member, MlsError};
use sha2::{Digest, Sha256};

use crate::api::alert::Alert;
use crate::api::conversation::ConversationId;
use crate::api::error::{ClientError, CryptoError};
use crate::api::event::Event;
use crate::receive::held;
use crate::receive::sender::{authenticate_by_pin, authenticate_by_record, Authentic};
use crate::state::naming::sanitize_title;
use crate::state::refusals::Refusal;
use crate::state::store::records::{Conversation, HistoryEntry, StoredBody, StoredKind};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;
use crate::trust::contacts;

/// Deliveries fetched per request.
const FETCH_LIMIT: u32 = 100;

/// Fetches, processes and acknowledges every pending delivery.
pub(crate) async fn sync_inbox(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    loop {
        let relay = ctx.owner_relay().await?;
        let deliveries = relay
            .fetch_inbox(&ctx.session.handle, &ctx.session.identity, FETCH_LIMIT)
            .await?;
        crate::state::failpoint::hit("inbox.after_fetch");
        let full_page = deliveries.len() >= usize::try_from(FETCH_LIMIT).unwrap_or(usize::MAX);
        if deliveries.is_empty() {
            return Ok(());
        }
        let mut ids = Vec::with_capacity(deliveries.len());
        let mut refusals = ctx.refusals()?;
        for delivery in &deliveries {
            let hash: [u8; 32] = Sha256::digest(&delivery.envelope).into();
            if !ctx.store.seen(&hash)? && !refusals.already_refused(&hash) {
                // A transient failure stops here, before the ack: the delivery comes back.
                if let Processed::Refused(refusal) =
                    process_delivery(ctx, &delivery.envelope, &hash).await?
                {
                    refusals.count(refusal, &hash, ctx.now_ms());
                }
            }
            ids.push(delivery.id);
        }
        // One write for the page's refusals, however many.
        ctx.save_refusals(refusals).await?;
        // Everything acknowledged is already durable (accepted ones marked seen) locally.
        crate::state::failpoint::hit("inbox.after_persist");
        relay
            .ack_inbox(&ctx.session.handle, &ctx.session.identity, &ids)
            .await?;
        if !full_page {
            return Ok(());
        }
    }
}

/// What became of a delivery.
pub(crate) enum Processed {
    /// Accepted, held, or seen before.
    Done,
    /// Refused: to be counted (see [`crate::state::refusals`]); nothing else is kept.
    Refused(Refusal),
}

/// Processes one sealed delivery (`hash`: its SHA-256): accepted, held (its sender's key
/// changed) or refused.
/// Fails only for a transient reason, leaving the delivery to be processed again.
pub(crate) async fn process_delivery(
    ctx: &mut Ctx<'_>,
    sealed: &[u8],
    hash: &[u8; 32],
) -> Result<Processed, ClientError> {
    match accept_delivery(ctx, sealed, hash).await {
        Ok(()) => Ok(Processed::Done),
        Err(e) if e.is_transient() => Err(e),
        // Bad input must never block the deliveries behind it.
        Err(e) => Ok(Processed::Refused(Refusal::of(&e))),
    }
}

async fn accept_delivery(
    ctx: &mut Ctx<'_>,
    sealed: &[u8],
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    let opened = match envelope::open(sealed, &ctx.session.handle, &ctx.session.inbox) {
        Ok(opened) => opened,
        // Sealed to the inbox key our last rotation replaced, by someone who had not heard.
        Err(e) => match &ctx.session.previous {
            Some(previous) => envelope::open(sealed, &ctx.session.handle, &previous.inbox)
                .map_err(|_| CryptoError::DeliveryUnreadable(e))?,
            None => return Err(CryptoError::DeliveryUnreadable(e).into()),
        },
    };
    let sender = opened.sender().clone();
    // Known before the record below pins a stranger.
    let stranger = ctx.pinned(&sender)?.is_none();
    let message = match opened.sender_record().map(<[u8]>::to_vec) {
        Some(record) => match authenticate_by_record(ctx, opened, &sender, &record).await? {
            Authentic::Message(message) => message,
            Authentic::KeyChanged => return held::hold_delivery(ctx, &sender, sealed, hash).await,
        },
        None => match authenticate_by_pin(ctx, opened, &sender)? {
            Authentic::Message(message) => message,
            Authentic::KeyChanged => return held::hold_delivery(ctx, &sender, sealed, hash).await,
        },
    };
    let accepted = accept_message(ctx, &sender, stranger, &message, sealed, hash).await;
    if accepted.is_err() && stranger {
        // A stranger is pinned only by what we accept from them: a forged record that came
        // with garbage must not stand between us and the real person later.
        contacts::forget_stranger(ctx, &sender).await?;
    }
    accepted
}

/// What an authenticated delivery carries: an invitation, joined if it checks out.
async fn accept_message(
    ctx: &mut Ctx<'_>,
    sender: &Handle,
    stranger: bool,
    message: &[u8],
    sealed: &[u8],
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    let sender = sender.clone();
    let (conversation_name, welcome, member_records) =
        match InboxMessage::decode(message).map_err(CryptoError::from)? {
            InboxMessage::Welcome {
                conversation_name,
                welcome,
            } => (conversation_name, welcome, Vec::new()),
            InboxMessage::WelcomeWithRecords {
                conversation_name,
                welcome,
                member_records,
            } => (conversation_name, welcome, member_records),
            InboxMessage::Unknown { kind, .. } => {
                // Anyone can send these, under any name: one alert a day.
                ctx.alert_daily(
                    "unknown inbox message",
                    Alert::UnknownInboxMessage {
                        sender: sender.clone(),
                        kind,
                    },
                )
                .await?;
                if stranger {
                    // Nothing of it is kept: a flood of these under made-up names costs nothing.
                    contacts::forget_stranger(ctx, &sender).await?;
                    return Ok(());
                }
                let mut batch = StoreBatch::default();
                batch.mark_seen(hash);
                ctx.store.apply(batch).await?;
                return Ok(());
            }
        };
    let invitation = Invitation {
        sender: &sender,
        title: &conversation_name,
        stranger,
        member_records: &member_records,
    };
    match accept_welcome(ctx, invitation, &welcome, hash).await {
        Err(ClientError::KeyChanged(who)) if who == sender => {
            held::hold_delivery(ctx, &sender, sealed, hash).await
        }
        other => other,
    }
}

/// Joins the group of a Welcome after checking every member against the pins, names it
/// (see [`crate::state::naming`]) and records the joining in its history, unread.
async fn accept_welcome(
    ctx: &mut Ctx<'_>,
    invitation: Invitation<'_>,
    welcome: &[u8],
    hash: &[u8; 32],
) -> Result<(), ClientError> {
    let sender = invitation.sender;
    // Groups we left are still active in our MLS state (we stopped reading before an admin
    // removed us): being added back replaces that state, as it does for a removal.
    let left: Vec<_> = ctx
        .conversations()?
        .into_iter()
        .filter(|c| !c.active && !c.retired)
        .map(|c| c.group_id)
        .collect();
    let staged = match ctx.session.mls.stage_welcome_replacing(welcome, &left) {
        Ok(staged) => staged,
        // The same Welcome again (e.g. re-sent after a crash): already joined.
        Err(MlsError::GroupExists) => {
            ctx.session.mls.discard_changes();
            let mut batch = StoreBatch::default();
            batch.mark_seen(hash);
            ctx.store.apply(batch).await?;
            return Ok(());
        }
        Err(e) => {
            ctx.session.mls.discard_changes();
            return Err(e.into());
        }
    };
    let group_id = staged.group_id();
    let earlier = ctx.conversation_of(&group_id)?;
    let members = staged.members().to_vec();
    let committer = staged.sender().cloned();
    let workshop = staged.workshop().cloned();
    // A group we were removed from comes back as what it was.
    let direct = match &earlier {
        Some(earlier) => earlier.kind == StoredKind::Direct,
        None => invitation.title == sender.as_str() && members.len() == 2,
    };
    let verdict = async {
        if committer.as_ref().is_some_and(|c| c.handle != *sender)
            || !members.iter().any(|m| m.handle == *sender)
            || (direct && members.len() != 2)
        {
            return Err(ClientError::UntrustedMember(sender.clone()));
        }
        if let Some(spec) = &workshop {
            crate::workshop::vetting::vet_welcome(ctx, spec, &group_id, sender, &members)?;
        }
        for member in &members {
            pin_vouched(ctx, member, invitation.member_records).await?;
            contacts::verify_member(ctx, member).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = verdict {
        ctx.session.mls.discard_changes();
        return Err(e);
    }

    // A second live 1:1 with the same person (both started one at once) is not news.
    let announce = !(direct && ctx.direct_with(sender)?.is_some());
    let conv = match earlier {
        // Added back after a removal: same conversation, same name, history kept.
        Some(earlier) => Conversation {
            active: true,
            ..earlier
        },
        None if direct => Conversation {
            group_id,
            kind: StoredKind::Direct,
            named_by: sender.to_string(),
            peer: Some(sender.to_string()),
            title: sender.to_string(),
            name: sender.to_string(),
            active: true,
            retired: false,
            close_pending: false,
        },
        None => {
            let title = sanitize_title(invitation.title);
            let name = ctx.names()?.unique(&format!("{sender}/{title}"));
            Conversation {
                group_id,
                kind: StoredKind::Group,
                named_by: sender.to_string(),
                peer: None,
                title,
                name,
                active: true,
                retired: false,
                close_pending: false,
            }
        }
    };
    let joined = match ctx.session.mls.join(staged) {
        Ok(joined) => joined,
        Err(e) => {
            ctx.session.mls.discard_changes();
            return Err(e.into());
        }
    };
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    ctx.stage_conversation(&mut batch, &conv)?;
    batch.put_u64(Key::Cursor(&joined), 0);
    batch.mark_seen(hash);
    let message = if announce {
        let entry = HistoryEntry {
            stored_at_ms: 0,
            sender: sender.to_string(),
            sent_at_ms: ctx.now_ms(),
            body: StoredBody::Joined {
                members: members.iter().map(|m| m.handle.to_string()).collect(),
                stranger: invitation.stranger,
            },
        };
        Some(ctx.stage_history(&mut batch, &conv, entry)?)
    } else {
        None
    };
    crate::state::failpoint::hit("inbox.after_process");
    ctx.store.apply(batch).await?;
    tracing::debug!("joined a conversation");
    if let Some(message) = message {
        ctx.events.push(Event::Message(message));
    }
    ctx.events.push(Event::MembershipChanged {
        conversation: conv.id(),
    });
    Ok(())
}

/// Who invited us to what, as the sealed envelope authenticated it.
struct Invitation<'a> {
    sender: &'a Handle,
    /// The conversation name the Welcome carries (the inviter's choice, untrusted text).
    title: &'a str,
    /// The sender was not pinned before this delivery.
    stranger: bool,
    /// The inviter's records of members (unverified).
    member_records: &'a [Vec<u8>],
}

/// A member we have not pinned, whose record the inviter handed over and whose leaf in the
/// Welcome carries that record's identity key, is pinned from it: no directory lookup tells
/// the relay that we now share a group with them. Pinned contacts are left to
/// `verify_member` (a record from the inviter never replaces or challenges a pin), and a
/// member without a matching record is looked up as before.
async fn pin_vouched(
    ctx: &mut Ctx<'_>,
    member: &Member,
    records: &[Vec<u8>],
) -> Result<(), ClientError> {
    if member.handle == ctx.session.handle || ctx.pinned(&member.handle)?.is_some() {
        return Ok(());
    }
    let matching = records.iter().find(|bytes| {
        SignedRecord::decode_and_verify(bytes).is_ok_and(|signed| {
            signed.record().handle == member.handle
                && signed.record().identity_key.to_bytes() == member.identity_key.to_bytes()
        })
    });
    if let Some(record) = matching {
        contacts::adopt_record(ctx, &member.handle, record, &[]).await?;
    }
    Ok(())
}

/// Processes what `sender` sent while their key was CHANGED, now that the user decided.
/// A delivery that still fails is refused (alert and quarantine) as on arrival; one that
/// fails for a transient reason stays held.
pub(crate) async fn release_held(ctx: &mut Ctx<'_>, sender: &Handle) -> Result<(), ClientError> {
    for (position, delivery) in held::held(ctx)? {
        if delivery.sender != sender.as_str() {
            continue;
        }
        let sealed = held::envelope(&delivery)?;
        let hash: [u8; 32] = Sha256::digest(&sealed).into();
        if let Processed::Refused(refusal) = process_delivery(ctx, &sealed, &hash).await? {
            let mut refusals = ctx.refusals()?;
            refusals.count(refusal, &hash, ctx.now_ms());
            ctx.save_refusals(refusals).await?;
        }
        held::remove(ctx, position).await?;
    }
    Ok(())
}

/// Releases what is held from every sender the user decided about since (retried by each
/// sync, for a release the relay's absence interrupted).
pub(crate) async fn release_decided(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    let mut senders: Vec<String> = held::held(ctx)?
        .into_iter()
        .map(|(_, h)| h.sender)
        .collect();
    senders.dedup();
    for sender in senders {
        let Ok(handle) = Handle::parse(&sender) else {
            continue;
        };
        if ctx.pinned(&handle)?.is_some_and(|c| c.changed.is_none()) {
            release_held(ctx, &handle).await?;
        }
    }
    Ok(())
}

/// Like [`Ctx::resolve`]; a group name we do not know yet (`inviter/name`) is looked for
/// again after reading the inbox, where the invitation may just have arrived.
pub(crate) async fn resolve_fresh(
    ctx: &mut Ctx<'_>,
    text: &str,
) -> Result<ConversationId, ClientError> {
    match ctx.resolve(text) {
        Err(ClientError::UnknownConversation(_)) if text.contains('/') => {
            sync_inbox(ctx).await?;
            ctx.resolve(text)
        }
        other => other,
    }
}
