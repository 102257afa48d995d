//! Our KeyPackages on the relay: the initial batch and the top-up, and claiming others'.

use std::time::Duration;

use parley_crypto::handle::Handle;
use parley_crypto::mls::MlsError;

use crate::api::error::{ClientError, RelayError};
use crate::state::session::settings;
use crate::state::store::records::{Contact, Settings};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

/// How many one-time KeyPackages we aim to keep on the relay.
const TARGET: u32 = 25;
/// Below this many we publish more.
const LOW_WATER: u32 = 20;
/// How often every KeyPackage of ours on the relay, the last-resort one included, is
/// replaced by fresh ones: a third of their lifetime
/// ([`parley_crypto::mls::KEY_PACKAGE_LIFETIME`], twelve weeks), so that a client that
/// syncs at least once in eight weeks never leaves only expired ones to be claimed.
pub(crate) const ROTATE_EVERY: Duration = Duration::from_secs(28 * 24 * 60 * 60);

/// Keeps our KeyPackages on the relay claimable: every [`ROTATE_EVERY`] all of them (the
/// last-resort one included) are replaced by fresh ones; in between, one-time ones are
/// topped up to [`TARGET`] when fewer than [`LOW_WATER`] are left. Cheap when nothing is
/// needed (one query).
pub(crate) async fn top_up_key_packages(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    let settings = settings(ctx.store)?.ok_or(ClientError::NotInitialized)?;
    let now_ms = ctx.now_ms();
    let rotate_every = u64::try_from(ROTATE_EVERY.as_millis()).unwrap_or(u64::MAX);
    let due = settings
        .key_packages_rotated_at_ms
        .is_none_or(|at| now_ms.saturating_sub(at) >= rotate_every);
    if due {
        return rotate(ctx, settings, now_ms).await;
    }
    let relay = ctx.owner_relay().await?;
    // An empty publish is the relay's way of telling how many are left.
    let available = relay
        .publish_key_packages(&ctx.session.handle, &ctx.session.identity, &[], None)
        .await?;
    if available >= LOW_WATER && settings.last_resort_published {
        return Ok(());
    }
    let count = usize::try_from(TARGET.saturating_sub(available)).unwrap_or(0);
    let mls = &mut ctx.session.mls;
    let fresh = if count > 0 {
        mls.generate_key_packages(count, false, now_ms)?
    } else {
        Vec::new()
    };
    let last_resort = if settings.last_resort_published {
        None
    } else {
        mls.generate_key_packages(1, true, now_ms)?
            .into_iter()
            .next()
    };
    // The private halves must be on disk before the relay can hand out the public ones.
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    ctx.store.apply(batch).await?;

    relay
        .publish_key_packages(
            &ctx.session.handle,
            &ctx.session.identity,
            &fresh,
            last_resort.as_deref(),
        )
        .await?;
    if last_resort.is_some() {
        let mut batch = StoreBatch::default();
        batch.put(
            Key::Settings,
            &Settings {
                last_resort_published: true,
                ..settings
            },
        )?;
        ctx.store.apply(batch).await?;
    }
    tracing::debug!(published = fresh.len(), "KeyPackages topped up");
    Ok(())
}

/// Replaces all our KeyPackages on the relay with [`TARGET`] fresh ones and a fresh
/// last-resort one, valid from `now_ms`.
async fn rotate(ctx: &mut Ctx<'_>, settings: Settings, now_ms: u64) -> Result<(), ClientError> {
    let target = usize::try_from(TARGET).unwrap_or(0);
    let mls = &mut ctx.session.mls;
    let fresh = mls.generate_key_packages(target, false, now_ms)?;
    let last_resort = mls
        .generate_key_packages(1, true, now_ms)?
        .into_iter()
        .next()
        .ok_or(MlsError::Internal("no last-resort KeyPackage made"))?;
    let mut batch = StoreBatch::default();
    ctx.stage_mls(&mut batch);
    ctx.store.apply(batch).await?;

    let relay = ctx.owner_relay().await?;
    relay
        .rotate_key_packages(
            &ctx.session.handle,
            &ctx.session.identity,
            &fresh,
            &last_resort,
        )
        .await?;
    let mut batch = StoreBatch::default();
    batch.put(
        Key::Settings,
        &Settings {
            last_resort_published: true,
            key_packages_rotated_at_ms: Some(now_ms),
            ..settings
        },
    )?;
    ctx.store.apply(batch).await?;
    tracing::debug!(published = fresh.len(), "KeyPackages rotated");
    Ok(())
}

/// Claims one KeyPackage of `handle` and checks it belongs to the pinned identity.
pub(crate) async fn claim_key_package(
    ctx: &mut Ctx<'_>,
    handle: &Handle,
    contact: &Contact,
) -> Result<Vec<u8>, ClientError> {
    let relay = ctx.one_off_relay().await?;
    let key_package = relay.claim_key_package(handle).await.map_err(|e| match e {
        RelayError::NotFound => ClientError::ContactUnavailable(handle.clone()),
        other => other.into(),
    })?;
    let member = match ctx
        .session
        .mls
        .inspect_key_package(&key_package, ctx.now_ms())
    {
        Ok(member) => member,
        // Stale keys are a quiet contact (or a wrong clock), not an attack: no alert.
        Err(MlsError::KeyPackageExpired | MlsError::KeyPackageNotYetValid) => {
            return Err(ClientError::ContactKeysExpired(handle.clone()))
        }
        Err(_) => {
            return Err(ctx
                .refuse(ClientError::UntrustedMember(handle.clone()))
                .await)
        }
    };
    if member.handle != *handle {
        return Err(ctx
            .refuse(ClientError::UntrustedMember(handle.clone()))
            .await);
    }
    if member.identity_key.to_bytes() != contact.identity_key {
        return Err(ctx.refuse(ClientError::KeyChanged(handle.clone())).await);
    }
    Ok(key_package)
}
