//! Rotating our own keys: a new identity and inbox key in a directory record that our current
//! key endorses, then every conversation moved to the new key by an MLS commit signed by the
//! old one, and fresh KeyPackages. Contacts who pinned the old key follow the endorsement and
//! see a rotation, not an unexplained change (see [`crate::trust::rotation`]).
//!
//! The new secret keys are saved before the relay is asked (as a pending rotation), so a crash
//! between the relay's acceptance and our swap cannot lose the handle: the next sync finds
//! out which record the relay holds and finishes or drops the rotation.

use parley_crypto::directory::{DirectoryRecord, SignedRecord};
use parley_crypto::identity::{IdentitySecretKey, InboxSecretKey};
use parley_crypto::rotation::Rotation;
use rand::rngs::OsRng;
use zeroize::Zeroizing;

use crate::api::error::{ClientError, CryptoError, RelayError, StoreError};
use crate::api::trust::RotationReport;
use crate::send::membership;
use crate::state::session::{encode_previous_keys, settings};
use crate::state::store::{Key, StoreBatch};
use crate::state::{Ctx, PreviousKeys};
use crate::trust::own_record::own_record;

/// How long the replaced keys are kept: for deliveries sealed to the old inbox key by
/// senders who had not heard of the rotation yet, and for groups not yet moved.
pub(crate) const KEEP_PREVIOUS_MS: u64 = 30 * 24 * 60 * 60 * 1000;

/// Rotates our keys; see [`crate::Client::rotate_keys`].
pub(crate) async fn rotate_keys(ctx: &mut Ctx<'_>) -> Result<RotationReport, ClientError> {
    finish_pending_rotation(ctx).await?;
    if still_on_previous(ctx)? > 0 {
        move_groups(ctx).await?;
        if still_on_previous(ctx)? > 0 {
            return Err(ClientError::RotationUnfinished);
        }
    }
    let old_bytes = own_record(ctx).await?;
    let old = SignedRecord::decode_and_verify(&old_bytes).map_err(CryptoError::from)?;
    let identity = IdentitySecretKey::generate(&mut OsRng);
    let inbox = InboxSecretKey::generate(&mut OsRng);
    let new = DirectoryRecord {
        handle: ctx.session.handle.clone(),
        identity_key: identity.public_key(),
        inbox_key: inbox.public_key(),
        record_version: old.record().record_version.saturating_add(1),
        created_at_ms: ctx.now_ms().max(old.record().created_at_ms),
    }
    .sign(&identity)
    .map_err(CryptoError::from)?;
    let rotation = Rotation::sign(&old, &new, &ctx.session.identity).map_err(CryptoError::from)?;
    let mut pending = Zeroizing::new(Vec::with_capacity(64 + rotation.as_bytes().len()));
    pending.extend_from_slice(&identity.to_bytes()[..]);
    pending.extend_from_slice(&inbox.to_bytes()[..]);
    pending.extend_from_slice(rotation.as_bytes());
    let mut batch = StoreBatch::default();
    batch.put_raw(Key::PendingRotation, &pending);
    ctx.store.apply(batch).await?;
    crate::state::failpoint::hit("rotation.after_persist");

    if !finish_pending_rotation(ctx).await? {
        return Err(ClientError::RotationRefused);
    }
    let moved = move_groups(ctx).await?;
    let waiting = still_on_previous(ctx)?;
    if let Err(e) = crate::keypackages::top_up_key_packages(ctx).await {
        tracing::warn!(kind = %e.kind(), "could not publish new KeyPackages; will retry at the next sync");
    }
    Ok(RotationReport {
        old_identity_key: hex::encode(old.record().identity_key.to_bytes()),
        new_identity_key: hex::encode(identity.public_key().to_bytes()),
        conversations_moved: moved,
        conversations_waiting: waiting,
    })
}

/// Settles a rotation saved before the relay's answer was known: sent (again) to the relay;
/// adopted if the relay holds its new record, dropped if it holds another one. Returns
/// whether a rotation was adopted. An unreachable relay leaves it pending.
pub(crate) async fn finish_pending_rotation(ctx: &mut Ctx<'_>) -> Result<bool, ClientError> {
    let Some(pending) = ctx.store.get_raw(Key::PendingRotation)? else {
        return Ok(false);
    };
    let corrupt = || ClientError::from(StoreError::Corrupt("pending rotation"));
    let (identity, rest) = pending.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let (inbox, rotation) = rest.split_first_chunk::<32>().ok_or_else(corrupt)?;
    let rotation = Rotation::decode_and_verify(rotation).map_err(|_| corrupt())?;
    let relay = ctx.one_off_relay().await?;
    let adopted = match relay.rotate(rotation.as_bytes()).await {
        Ok(()) => true,
        // Already done (by our earlier attempt), or another record is held: the relay's
        // record says which.
        Err(RelayError::EpochConflict) => {
            let held = relay.lookup(&ctx.session.handle).await?;
            held == rotation.new_record().as_bytes()
        }
        Err(e @ RelayError::Unreachable(_)) => return Err(e.into()),
        Err(_) => false,
    };
    crate::state::failpoint::hit("rotation.after_rpc");
    let mut batch = StoreBatch::default();
    batch.remove(Key::PendingRotation);
    if !adopted {
        ctx.store.apply(batch).await?;
        return Ok(false);
    }
    let identity = IdentitySecretKey::from_bytes(identity);
    let inbox = InboxSecretKey::from_bytes(*inbox);
    let previous = PreviousKeys {
        identity: std::mem::replace(&mut ctx.session.identity, identity),
        inbox: std::mem::replace(&mut ctx.session.inbox, inbox),
        until_ms: ctx.now_ms().saturating_add(KEEP_PREVIOUS_MS),
    };
    let mut secrets = Zeroizing::new(Vec::with_capacity(64));
    secrets.extend_from_slice(&ctx.session.identity.to_bytes()[..]);
    secrets.extend_from_slice(&ctx.session.inbox.to_bytes()[..]);
    let mut settings = settings(ctx.store)?.ok_or(ClientError::NotInitialized)?;
    settings.identity_key = hex::encode(ctx.session.identity.public_key().to_bytes());
    // Every KeyPackage held was signed by the old key (the relay dropped them): new ones at
    // the next top-up, the last-resort one included.
    settings.key_packages_rotated_at_ms = None;
    settings.last_resort_published = false;
    batch.put_raw(Key::Identity, &secrets);
    batch.put_raw(Key::PreviousIdentity, &encode_previous_keys(&previous));
    batch.put_raw(Key::OwnRecord, rotation.new_record().as_bytes());
    batch.put(Key::Settings, &settings)?;
    ctx.store.apply(batch).await?;
    ctx.session.mls.replace_identity(&ctx.session.identity);
    ctx.session.previous = Some(previous);
    Ok(true)
}

/// Moves every active group whose leaf still holds the previous key; returns how many moved.
/// A group that cannot be moved now (relay unreachable, commits racing) is left for the next
/// sync.
pub(crate) async fn move_groups(ctx: &mut Ctx<'_>) -> Result<usize, ClientError> {
    if ctx.session.previous.is_none() {
        return Ok(0);
    }
    let mut moved = 0;
    for conv in ctx.conversations()? {
        if !conv.active || !ctx.session.mls.on_previous_identity(&conv.group_id)? {
            continue;
        }
        match membership::move_to_current_identity(ctx, &conv.group_id).await {
            Ok(()) => moved += 1,
            Err(e) if e.is_transient() => return Err(e),
            Err(e) => {
                tracing::warn!(kind = %e.kind(), "a conversation could not move to our new key");
                tracing::debug!(error = %e, "conversation not moved");
            }
        }
    }
    Ok(moved)
}

/// Active groups whose leaf still holds the previous key.
fn still_on_previous(ctx: &Ctx<'_>) -> Result<usize, ClientError> {
    if ctx.session.previous.is_none() {
        return Ok(0);
    }
    let mut count = 0;
    for conv in ctx.conversations()? {
        if conv.active && ctx.session.mls.on_previous_identity(&conv.group_id)? {
            count += 1;
        }
    }
    Ok(count)
}

/// At each sync: a rotation left pending, groups left to move, and forgetting the previous
/// keys once their time is up.
pub(crate) async fn continue_rotation(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    finish_pending_rotation(ctx).await?;
    move_groups(ctx).await?;
    let expired = ctx
        .session
        .previous
        .as_ref()
        .is_some_and(|p| p.until_ms <= ctx.now_ms());
    if expired {
        let mut batch = StoreBatch::default();
        batch.remove(Key::PreviousIdentity);
        ctx.store.apply(batch).await?;
        ctx.session.previous = None;
        ctx.session.mls.forget_previous_identity();
    }
    Ok(())
}
