//! Changing who is in a conversation: creating groups and 1:1s, adding and removing
//! members, and closing 1:1s retired after a key change. Every change is a commit that goes
//! through the pending-commit state machine ([`crate::pending`]).

use parley_crypto::handle::Handle;
use parley_crypto::mls::GroupId;
use parley_crypto::retention::Retention;
use parley_crypto::workshop::WorkshopSpec;
use rand::rngs::OsRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::api::conversation::ConversationId;
use crate::api::error::{ClientError, RelayError, StoreError};
use crate::api::event::Event;
use crate::keypackages::claim_key_package;
use crate::pending::{self, Observation};
use crate::receive::group_log;
use crate::state::naming::check_own_group_name;
use crate::state::store::records::{Conversation, PendingCommit, StoredKind};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;
use crate::trust::{contacts, verification};

/// Attempts when others keep moving the group's epoch.
pub(crate) const MAX_TRIES: usize = 5;

/// A membership change.
pub(crate) enum Change {
    /// Members with the KeyPackage claimed (and checked) for each.
    Add(Vec<(Handle, Vec<u8>)>),
    Remove(Vec<Handle>),
    /// Our leaf from the previous identity to the current one, after a key rotation.
    MoveIdentity,
    /// The conversation's agreed retention.
    Retention(Retention),
    /// Another admin.
    Promote(Handle),
    /// A workshop room's new roster and policies, with who joins and who leaves the room
    /// by it, in one commit; `announced` says what changed, a sentence each.
    Workshop {
        spec: Box<WorkshopSpec>,
        adds: Vec<(Handle, Vec<u8>)>,
        removes: Vec<Handle>,
        announced: Vec<String>,
    },
}

/// Moves our leaf in a group to our current identity key (after a rotation), by a commit
/// signed with the previous one.
pub(crate) async fn move_to_current_identity(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
) -> Result<(), ClientError> {
    let name = match ctx.conversation_of(gid)? {
        Some(conv) => welcome_name(ctx, &conv),
        None => String::new(),
    };
    commit_change(ctx, gid, &Change::MoveIdentity, &name, None).await
}

/// Creates a group called `name` with these members and `retention`; returns its id.
pub(crate) async fn create_group(
    ctx: &mut Ctx<'_>,
    name: &str,
    members: &[Handle],
    retention: Retention,
) -> Result<ConversationId, ClientError> {
    check_own_group_name(name)?;
    check_name_is_free(ctx, name)?;
    create_named(ctx, name, name, members, retention).await
}

/// Changes a conversation's agreed retention by a commit every member processes (and is
/// told of); then tells the relay, so that it drops the group's ciphertext as soon.
pub(crate) async fn set_retention(
    ctx: &mut Ctx<'_>,
    id: &ConversationId,
    retention: Retention,
) -> Result<(), ClientError> {
    let conv = match id {
        // Changing it for a 1:1 not started yet starts it.
        ConversationId::Direct(peer) => match ctx.direct_with(peer)? {
            Some(conv) => conv,
            None => start_direct(ctx, peer).await?,
        },
        ConversationId::Group(_) => ctx.require_conversation(id)?,
    };
    if !conv.active || conv.retired {
        return Err(ctx.not_a_member());
    }
    if ctx.session.mls.retention(&conv.group_id)? != retention {
        let name = welcome_name(ctx, &conv);
        let change = Change::Retention(retention);
        commit_change(ctx, &conv.group_id, &change, &name, None).await?;
    }
    crate::retention::tell_relay(ctx, &conv.group_id).await
}

/// Creates a group whose members see it as `title` and we call `name` (checked by the
/// caller); returns its id.
pub(crate) async fn create_named(
    ctx: &mut Ctx<'_>,
    title: &str,
    name: &str,
    members: &[Handle],
    retention: Retention,
) -> Result<ConversationId, ClientError> {
    let mut handles: Vec<Handle> = Vec::new();
    for member in members {
        if *member != ctx.session.handle && !handles.contains(member) {
            handles.push(member.clone());
        }
    }
    let adds = claim_all(ctx, handles).await?;
    let gid = new_group(ctx, retention, StoredKind::Group).await?;
    let conv = Conversation {
        group_id: gid,
        kind: StoredKind::Group,
        named_by: ctx.session.handle.to_string(),
        peer: None,
        title: title.to_owned(),
        name: name.to_owned(),
        active: true,
        retired: false,
        close_pending: false,
    };
    let id = conv.id();
    open_new_group(ctx, conv, adds, title).await?;
    if retention != Retention::Off {
        crate::retention::tell_relay(ctx, &gid).await?;
    }
    Ok(id)
}

/// Makes a group we just created visible as `conv`: with the members of `adds` added by its
/// first commit (the Welcomes carrying `title`), or at once when there is nobody to add.
pub(crate) async fn open_new_group(
    ctx: &mut Ctx<'_>,
    conv: Conversation,
    adds: Vec<(Handle, Vec<u8>)>,
    title: &str,
) -> Result<(), ClientError> {
    if !adds.is_empty() {
        let gid = conv.group_id;
        return commit_change(ctx, &gid, &Change::Add(adds), title, Some(conv)).await;
    }
    let mut batch = StoreBatch::default();
    ctx.stage_conversation(&mut batch, &conv)?;
    let message = ctx.stage_joined(&mut batch, &conv)?;
    ctx.store.apply(batch).await?;
    ctx.events.push(Event::Message(message));
    ctx.events.push(Event::MembershipChanged {
        conversation: conv.id(),
    });
    Ok(())
}

/// A name for a group of ours must not be what a person or another conversation is
/// called here: the handle of a contact or of a 1:1, or one of our other groups.
pub(crate) fn check_name_is_free(ctx: &Ctx<'_>, name: &str) -> Result<(), ClientError> {
    let names = ctx.names()?;
    let taken = names.records().iter().any(|r| {
        (r.is_direct() && r.peer() == name)
            || (r.kind == StoredKind::Group
                && r.named_by == ctx.session.handle.as_str()
                && r.title == name)
    });
    let contact = match Handle::parse(name) {
        Ok(handle) => ctx.pinned(&handle)?.is_some(),
        Err(_) => false,
    };
    if taken || contact {
        return Err(ClientError::ConversationExists(name.to_owned()));
    }
    Ok(())
}

/// Creates the 1:1 with `peer`; returns the conversation as saved.
pub(crate) async fn start_direct(
    ctx: &mut Ctx<'_>,
    peer: &Handle,
) -> Result<Conversation, ClientError> {
    if *peer == ctx.session.handle {
        return Err(ClientError::CannotMessageSelf);
    }
    let adds = claim_all(ctx, vec![peer.clone()]).await?;
    let gid = new_group(ctx, Retention::Off, StoredKind::Direct).await?;
    let own = ctx.session.handle.to_string();
    let conv = Conversation {
        group_id: gid,
        kind: StoredKind::Direct,
        named_by: own.clone(),
        peer: Some(peer.to_string()),
        title: own.clone(),
        name: peer.to_string(),
        active: true,
        retired: false,
        close_pending: false,
    };
    commit_change(ctx, &gid, &Change::Add(adds), &own, Some(conv)).await?;
    ctx.conversation_of(&gid)?
        .ok_or_else(|| ClientError::UnknownConversation(peer.to_string()))
}

/// The group `id` names, which we must still be in; a 1:1 is refused (it never grows).
pub(crate) fn require_group(
    ctx: &Ctx<'_>,
    id: &ConversationId,
) -> Result<Conversation, ClientError> {
    let conv = ctx.require_conversation(id)?;
    if conv.kind == StoredKind::Direct {
        return Err(ClientError::NotAGroup(ctx.display_name(&conv)?));
    }
    if !conv.active {
        return Err(ctx.not_a_member());
    }
    Ok(conv)
}

/// Adds `member` to a group.
pub(crate) async fn add_member(
    ctx: &mut Ctx<'_>,
    group: &ConversationId,
    member: &Handle,
) -> Result<(), ClientError> {
    let conv = require_group(ctx, group)?;
    require_admin(ctx, &conv).await?;
    let members = ctx.session.mls.members(&conv.group_id)?;
    if members.iter().any(|m| m.handle == *member) {
        return Err(ClientError::AlreadyAMember(member.clone()));
    }
    // Whoever holds a key we no longer trust would get the new epoch's secrets too.
    verification::require_trusted_members(ctx, &conv)?;
    let adds = claim_all(ctx, vec![member.clone()]).await?;
    let welcome_name = welcome_name(ctx, &conv);
    commit_change(ctx, &conv.group_id, &Change::Add(adds), &welcome_name, None).await
}

/// Removes `member` from a group; they cannot read what follows.
pub(crate) async fn remove_member(
    ctx: &mut Ctx<'_>,
    group: &ConversationId,
    member: &Handle,
) -> Result<(), ClientError> {
    let conv = require_group(ctx, group)?;
    if *member == ctx.session.handle {
        return Err(ClientError::CannotRemoveSelf);
    }
    require_admin(ctx, &conv).await?;
    let welcome_name = welcome_name(ctx, &conv);
    let change = Change::Remove(vec![member.clone()]);
    commit_change(ctx, &conv.group_id, &change, &welcome_name, None).await
}

/// Makes `member` an admin of a group too (admins only); every member is told.
pub(crate) async fn promote(
    ctx: &mut Ctx<'_>,
    group: &ConversationId,
    member: &Handle,
) -> Result<(), ClientError> {
    let conv = require_group(ctx, group)?;
    require_admin(ctx, &conv).await?;
    let admins = ctx.session.mls.admins(&conv.group_id)?.unwrap_or_default();
    if admins.contains(member) {
        return Err(ClientError::AlreadyAdmin(member.clone()));
    }
    let welcome_name = welcome_name(ctx, &conv);
    let change = Change::Promote(member.clone());
    commit_change(ctx, &conv.group_id, &change, &welcome_name, None).await
}

/// Refuses, before anything is claimed or sent, a change only the group's admins may make
/// when we are not one (every other member's software would refuse the commit anyway). The
/// group is read first: we may have been made an admin since the last sync, or removed (then
/// we are told we are no longer a member, not that we are no longer an admin).
async fn require_admin(ctx: &mut Ctx<'_>, conv: &Conversation) -> Result<(), ClientError> {
    group_log::sync_group_as_member(ctx, &conv.group_id).await?;
    match ctx.session.mls.admins(&conv.group_id)? {
        Some(admins) if !admins.contains(&ctx.session.handle) => Err(ClientError::NotAdmin {
            conversation: ctx.display_name(conv)?,
            admins,
        }),
        _ => Ok(()),
    }
}

/// Closes every retired 1:1 whose closing did not reach the relay yet. An unreachable
/// relay leaves them for the next sync; they are never sent to meanwhile.
pub(crate) async fn close_retired_directs(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    let pending: Vec<Conversation> = ctx
        .conversations()?
        .into_iter()
        .filter(|c| c.retired && c.close_pending)
        .collect();
    for conv in pending {
        match close_retired(ctx, &conv).await {
            Ok(()) => {}
            Err(e) if e.is_transient() => {
                tracing::debug!(error = %e, "closing a retired 1:1 waits for the relay");
                return Ok(());
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Closes a retired 1:1 by removing the peer's old key from it, so that the peer's side
/// stops treating it as live.
async fn close_retired(ctx: &mut Ctx<'_>, conv: &Conversation) -> Result<(), ClientError> {
    let peer = Handle::parse(conv.peer()).map_err(|_| StoreError::Corrupt("peer"))?;
    let still_there = ctx
        .session
        .mls
        .members(&conv.group_id)?
        .iter()
        .any(|m| m.handle == peer);
    if conv.active && still_there {
        let change = Change::Remove(vec![peer]);
        match commit_change(ctx, &conv.group_id, &change, &conv.title, None).await {
            Ok(()) => {}
            Err(e) if e.is_transient() => return Err(e),
            // The peer's side may already be gone (removed us, or the group is unknown):
            // nothing left to close.
            Err(e) => tracing::debug!(error = %e, "a retired 1:1 could not be closed"),
        }
    }
    let closed = Conversation {
        active: false,
        close_pending: false,
        ..ctx
            .conversation_of(&conv.group_id)?
            .unwrap_or_else(|| conv.clone())
    };
    let mut batch = StoreBatch::default();
    ctx.stage_conversation(&mut batch, &closed)?;
    ctx.store.apply(batch).await?;
    Ok(())
}

/// The conversation name our Welcomes carry: our handle for a 1:1, else the group's name.
pub(crate) fn welcome_name(ctx: &Ctx<'_>, conv: &Conversation) -> String {
    match conv.kind {
        StoredKind::Direct => ctx.session.handle.to_string(),
        StoredKind::Group => conv.title.clone(),
    }
}

/// Checks each handle against the directory and claims a verified KeyPackage for it.
pub(crate) async fn claim_all(
    ctx: &mut Ctx<'_>,
    handles: Vec<Handle>,
) -> Result<Vec<(Handle, Vec<u8>)>, ClientError> {
    let mut adds = Vec::with_capacity(handles.len());
    for handle in handles {
        let contact = contacts::refresh_contact(ctx, &handle).await?;
        // The directory may agree with the pin again, but the user has not decided yet.
        contact.require_unchanged(&handle)?;
        let key_package = claim_key_package(ctx, &handle, &contact).await?;
        adds.push((handle, key_package));
    }
    Ok(adds)
}

/// A new MLS group with a random id and `retention`, registered on the relay at epoch 0: a
/// group with us as its admin, or a 1:1 without admins (either side may close it).
async fn new_group(
    ctx: &mut Ctx<'_>,
    retention: Retention,
    kind: StoredKind,
) -> Result<GroupId, ClientError> {
    let mut gid: GroupId = [0u8; 32];
    OsRng.fill_bytes(&mut gid);
    let access = match kind {
        StoredKind::Group => ctx.session.mls.create_group(gid, retention)?,
        StoredKind::Direct => ctx.session.mls.create_direct(gid, retention)?,
    };
    register_group(ctx, &gid, &access).await?;
    Ok(gid)
}

/// Registers a group just created in our MLS state on the relay at epoch 0, and saves it;
/// a refusal drops it again.
pub(crate) async fn register_group(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    access: &parley_crypto::access::AccessKey,
) -> Result<(), ClientError> {
    let now = ctx.now_ms();
    let relay = ctx.group_relay(gid).await?;
    if let Err(e) = relay.create_group(gid, access, now).await {
        ctx.session.mls.discard_changes();
        return Err(e.into());
    }
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    batch.put_u64(Key::Cursor(gid), 0);
    ctx.store.apply(batch).await?;
    ctx.announce_new_group();
    Ok(())
}

/// Sends a membership change as a commit, retrying when another commit won the epoch.
pub(crate) async fn commit_change(
    ctx: &mut Ctx<'_>,
    gid: &GroupId,
    change: &Change,
    welcome_name: &str,
    new_conversation: Option<Conversation>,
) -> Result<(), ClientError> {
    for _ in 0..MAX_TRIES {
        group_log::sync_group_as_member(ctx, gid).await?;
        let mls = &mut ctx.session.mls;
        let members = mls.members(gid)?;
        let access = mls.access_key(gid)?;
        let (outgoing, recipients) = match change {
            Change::Add(adds) => {
                if let Some((h, _)) = adds
                    .iter()
                    .find(|(h, _)| members.iter().any(|m| m.handle == *h))
                {
                    return Err(ClientError::AlreadyAMember(h.clone()));
                }
                let key_packages: Vec<Vec<u8>> = adds.iter().map(|(_, kp)| kp.clone()).collect();
                let recipients = adds.iter().map(|(h, _)| h.to_string()).collect();
                (mls.add_members(gid, &key_packages), recipients)
            }
            Change::Remove(handles) => {
                if let Some(h) = handles
                    .iter()
                    .find(|h| !members.iter().any(|m| m.handle == **h))
                {
                    return Err(ClientError::NotAMember(h.clone()));
                }
                (mls.remove_members(gid, handles), Vec::new())
            }
            Change::MoveIdentity => {
                // Moved meanwhile (by a sync that raced us): nothing left to do.
                if !mls.on_previous_identity(gid)? {
                    return Ok(());
                }
                (mls.move_to_current_identity(gid), Vec::new())
            }
            Change::Retention(retention) => (mls.set_retention(gid, *retention), Vec::new()),
            Change::Promote(handle) => {
                if !members.iter().any(|m| m.handle == *handle) {
                    return Err(ClientError::NotAMember(handle.clone()));
                }
                (mls.promote(gid, handle), Vec::new())
            }
            Change::Workshop {
                spec,
                adds,
                removes,
                ..
            } => {
                // Someone joined or left the room meanwhile (a request to leave answered,
                // say): only what is still to do is committed.
                let adds: Vec<&(Handle, Vec<u8>)> = adds
                    .iter()
                    .filter(|(h, _)| !members.iter().any(|m| m.handle == *h))
                    .collect();
                let removes: Vec<Handle> = removes
                    .iter()
                    .filter(|h| members.iter().any(|m| m.handle == **h))
                    .cloned()
                    .collect();
                let key_packages: Vec<Vec<u8>> = adds.iter().map(|(_, kp)| kp.clone()).collect();
                let recipients = adds.iter().map(|(h, _)| h.to_string()).collect();
                let spec = (**spec).clone();
                (
                    mls.change_workshop(gid, spec, &key_packages, &removes),
                    recipients,
                )
            }
        };
        let outgoing = match outgoing {
            Ok(outgoing) => outgoing,
            Err(e) => {
                ctx.session.mls.discard_changes();
                return Err(e.into());
            }
        };
        let pending = PendingCommit {
            group_id: *gid,
            epoch: outgoing.epoch,
            commit_hash: Sha256::digest(&outgoing.commit).into(),
            welcome: outgoing.welcome.as_ref().map(hex::encode),
            recipients,
            removed: match change {
                Change::Remove(handles)
                | Change::Workshop {
                    removes: handles, ..
                } => handles.iter().map(|h| h.to_string()).collect(),
                Change::Add(_)
                | Change::MoveIdentity
                | Change::Retention(_)
                | Change::Promote(_) => Vec::new(),
            },
            welcome_name: welcome_name.to_owned(),
            conversation: new_conversation.clone(),
            recorded: false,
            retention_secs: match change {
                Change::Retention(retention) => Some(retention.as_secs()),
                _ => None,
            },
            promoted: match change {
                Change::Promote(handle) => vec![handle.to_string()],
                _ => Vec::new(),
            },
            roster_changes: match change {
                Change::Workshop { announced, .. } => announced.clone(),
                _ => Vec::new(),
            },
        };
        pending::save(ctx, &pending).await?;
        crate::state::failpoint::hit("commit.after_persist");

        let now = ctx.now_ms();
        let relay = ctx.group_relay(gid).await?;
        let next_access = outgoing.next_access_key.public_key();
        let sent = relay
            .commit(
                gid,
                outgoing.epoch,
                &access,
                &outgoing.commit,
                &next_access,
                now,
            )
            .await;
        crate::state::failpoint::hit("commit.after_rpc");
        match sent {
            Ok(seq) => {
                // What others posted in this epoch ahead of our commit is unreadable once
                // it is merged: read it first.
                group_log::catch_up_to(ctx, gid, seq, group_log::Ours::Commit).await?;
                pending::settle(ctx, gid, Observation::Accepted(seq)).await?;
                return Ok(());
            }
            Err(RelayError::EpochConflict) => {
                pending::settle(ctx, gid, Observation::Refused).await?;
            }
            // Unreachable: the outcome is unknown, the pending commit settles it later.
            Err(e @ RelayError::Unreachable(_)) => {
                pending::settle(ctx, gid, Observation::Unreachable).await?;
                return Err(e.into());
            }
            Err(e) => {
                pending::settle(ctx, gid, Observation::Refused).await?;
                return Err(e.into());
            }
        }
    }
    let name = match ctx.conversation_of(gid)?.or(new_conversation) {
        Some(conv) => ctx.display_name(&conv)?,
        None => String::new(),
    };
    Err(ClientError::Busy(name))
}
