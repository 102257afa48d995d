//! Verification: comparing safety numbers and group codes out of band, and deciding about
//! changed identity keys.
//!
//! A contact is UNVERIFIED when pinned on first use, VERIFIED once the user confirmed the
//! safety number, and CHANGED while the directory or a group shows another identity key for
//! it. A CHANGED contact blocks every conversation they are in, and cannot be added to one,
//! until the user accepts the new key or verifies it.

use parley_crypto::group_code::GroupCode as RosterCode;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentityPublicKey;
use parley_crypto::safety_number::SafetyNumber;

use crate::api::conversation::ConversationId;
use crate::api::error::{ClientError, CryptoError};
use crate::api::trust::{ContactInfo, GroupCode, SafetyNumberView};
use crate::api::verification::Verification;
use crate::state::store::records::{ChangedKey, Contact, Conversation, StoredKind};
use crate::state::store::{Key, Prefix, StoreBatch};
use crate::state::Ctx;
use crate::trust::contacts;

/// Every pinned contact (met in a conversation or looked up to compare safety numbers),
/// sorted by handle.
pub(crate) fn contact_infos(ctx: &Ctx<'_>) -> Result<Vec<ContactInfo>, ClientError> {
    let mut contacts: Vec<Contact> = ctx.store.scan(Prefix::Contacts)?;
    contacts.sort_by(|a, b| a.handle.cmp(&b.handle));
    let mut infos = Vec::new();
    for contact in contacts {
        // A record whose handle no longer parses is not shown rather than failing the list.
        let Ok(handle) = Handle::parse(&contact.handle) else {
            continue;
        };
        if handle == ctx.session.handle {
            continue;
        }
        infos.push(ContactInfo {
            handle,
            identity_key: hex::encode(contact.identity_key),
            status: contact.status(),
        });
    }
    Ok(infos)
}

/// The contact of `handle` as the directory shows it now (pinning it if new); the stored
/// one when the relay cannot answer, or when the answer is a changed key (then recorded).
async fn current_contact(ctx: &mut Ctx<'_>, handle: &Handle) -> Result<Contact, ClientError> {
    match contacts::refresh_contact(ctx, handle).await {
        Ok(contact) => Ok(contact),
        Err(e) if matches!(e, ClientError::KeyChanged(_)) || e.is_transient() => {
            ctx.pinned(handle)?.ok_or(e)
        }
        Err(e) => Err(e),
    }
}

/// The safety number shared with `peer` and the contact's status; see
/// [`crate::Client::verification`].
pub(crate) async fn verification(
    ctx: &mut Ctx<'_>,
    peer: &Handle,
) -> Result<SafetyNumberView, ClientError> {
    if *peer == ctx.session.handle {
        return Err(ClientError::CannotMessageSelf);
    }
    let contact = current_contact(ctx, peer).await?;
    let theirs = contact
        .changed
        .as_ref()
        .map_or(contact.identity_key, |c| c.identity_key);
    let theirs = IdentityPublicKey::from_bytes(&theirs).map_err(CryptoError::from)?;
    let ours = ctx.session.identity.public_key();
    let number = SafetyNumber::compute((&ctx.session.handle, &ours), (peer, &theirs));
    Ok(SafetyNumberView {
        handle: peer.clone(),
        grouped: number.grouped(),
        digits: number.digits().to_owned(),
        status: contact.status(),
    })
}

/// The safety number shared with `handle` for the key in use (the pinned one, even while
/// CHANGED), 12 groups of 5 digits. Looks the handle up only if it is not pinned yet.
pub(crate) async fn safety_number(ctx: &mut Ctx<'_>, peer: &Handle) -> Result<String, ClientError> {
    let contact = contacts::contact(ctx, peer).await?;
    let theirs = IdentityPublicKey::from_bytes(&contact.identity_key).map_err(CryptoError::from)?;
    let ours = ctx.session.identity.public_key();
    Ok(SafetyNumber::compute((&ctx.session.handle, &ours), (peer, &theirs)).grouped())
}

/// Marks `peer` verified, adopting a changed key; returns whether a key was adopted (then
/// 1:1s holding the old one were retired, see [`decide`]).
pub(crate) async fn confirm_verified(
    ctx: &mut Ctx<'_>,
    peer: &Handle,
) -> Result<bool, ClientError> {
    if *peer == ctx.session.handle {
        return Err(ClientError::CannotMessageSelf);
    }
    let contact = contacts::contact(ctx, peer).await?;
    decide(ctx, peer, contact, true).await
}

/// Adopts `peer`'s changed key, unverified; returns whether there was one to adopt.
pub(crate) async fn accept_new_key(ctx: &mut Ctx<'_>, peer: &Handle) -> Result<bool, ClientError> {
    let contact = ctx
        .pinned(peer)?
        .ok_or_else(|| ClientError::UnknownContact(peer.clone()))?;
    if contact.changed.is_none() {
        // Nothing to accept: the pinned key stays, and so does its status.
        return Ok(false);
    }
    decide(ctx, peer, contact, false).await
}

/// Adopts the contact's changed key if there is one, sets `verified`, and retires 1:1s
/// that still hold the old key: they keep their history under "`<handle> (old key)`", are
/// never sent to again, and wait to be closed at the relay (the old key removed from them,
/// see `send::membership::close_retired_directs`) so that the peer's side stops using them
/// too. The next message to the handle starts a new 1:1. Returns whether a key was adopted.
async fn decide(
    ctx: &mut Ctx<'_>,
    peer: &Handle,
    mut contact: Contact,
    verified: bool,
) -> Result<bool, ClientError> {
    if let Some(ChangedKey {
        identity_key,
        inbox_key,
        record_version,
    }) = contact.changed.take()
    {
        contact.identity_key = identity_key;
        // The record was the old identity's.
        contact.record = None;
        match inbox_key {
            Some(inbox_key) => {
                contact.inbox_key = inbox_key;
                contact.record_version = record_version;
            }
            // Seen in a group only: let the next directory record of this identity
            // replace the old inbox key whatever its version.
            None => contact.record_version = 0,
        }
        let stale = stale_directs(ctx, peer, &identity_key)?;
        contact.verified = verified;
        let mut batch = StoreBatch::default();
        batch.put(Key::Contact(peer), &contact)?;
        let mut names = ctx.names()?;
        for conv in &stale {
            let retired = Conversation {
                name: names.unique(&format!("{} (old key)", conv.peer())),
                retired: true,
                close_pending: true,
                ..conv.clone()
            };
            ctx.stage_conversation(&mut batch, &retired)?;
            names.add(retired);
        }
        ctx.store.apply(batch).await?;
        return Ok(true);
    }
    contact.verified = verified;
    let mut batch = StoreBatch::default();
    batch.put(Key::Contact(peer), &contact)?;
    ctx.store.apply(batch).await?;
    Ok(false)
}

/// Active 1:1s with `peer` whose member `peer` has another identity key than `key`.
fn stale_directs(
    ctx: &Ctx<'_>,
    peer: &Handle,
    key: &[u8; 32],
) -> Result<Vec<Conversation>, ClientError> {
    let mut stale = Vec::new();
    for conv in ctx.conversations()? {
        if !conv.is_live_direct() {
            continue;
        }
        let Ok(members) = ctx.session.mls.members(&conv.group_id) else {
            continue;
        };
        if members
            .iter()
            .any(|m| m.handle == *peer && m.identity_key.to_bytes() != *key)
        {
            stale.push(conv);
        }
    }
    Ok(stale)
}

/// The code over a conversation's roster and epoch; see [`crate::Client::group_code`].
pub(crate) fn group_code(ctx: &Ctx<'_>, id: &ConversationId) -> Result<GroupCode, ClientError> {
    let conv = ctx.require_conversation(id)?;
    if !conv.active {
        return Err(ctx.not_a_member());
    }
    let gid = conv.group_id;
    let mut members = ctx.session.mls.members(&gid)?;
    members.sort_by(|a, b| a.handle.cmp(&b.handle));
    let authenticator = ctx.session.mls.epoch_authenticator(&gid)?;
    let epoch = ctx.session.mls.epoch(&gid)?;
    let roster: Vec<(&Handle, &IdentityPublicKey)> = members
        .iter()
        .map(|m| (&m.handle, &m.identity_key))
        .collect();
    let code = RosterCode::compute(&roster, &authenticator);
    Ok(GroupCode {
        conversation: conv.id(),
        name: ctx.display_name(&conv)?,
        grouped: code.grouped(),
        digits: code.digits().to_owned(),
        epoch,
        members: members.iter().map(|m| ctx.member_info(m)).collect(),
    })
}

/// Nobody whose key the user has not accepted may receive what is sent: a member whose
/// contact is CHANGED, or who holds another key than the pinned one, blocks every
/// conversation they are in. A 1:1 must also hold exactly us and the peer.
pub(crate) fn require_trusted_members(
    ctx: &Ctx<'_>,
    conv: &Conversation,
) -> Result<(), ClientError> {
    let members = ctx.session.mls.members(&conv.group_id)?;
    let us = ctx.session.handle.clone();
    if conv.kind == StoredKind::Direct {
        let others: Vec<_> = members.iter().filter(|m| m.handle != us).collect();
        if others.len() != 1 || others[0].handle.as_str() != conv.peer() {
            let peer = others
                .first()
                .map_or_else(|| us.clone(), |m| m.handle.clone());
            return Err(ClientError::UntrustedMember(peer));
        }
    }
    for member in members.iter().filter(|m| m.handle != us) {
        if ctx.member_status(member) == Verification::Changed {
            return Err(match conv.kind {
                StoredKind::Direct => ClientError::KeyChanged(member.handle.clone()),
                StoredKind::Group => ClientError::MemberKeyChanged {
                    conversation: ctx.display_name(conv)?,
                    handle: member.handle.clone(),
                },
            });
        }
    }
    Ok(())
}
