//! Our KeyPackages on the relay: the initial batch and the top-up, and claiming others'.

use parley_crypto::handle::Handle;
use parley_crypto::mls::MlsError;

use crate::api::error::{ClientError, RelayError};
use crate::state::session::settings;
use crate::state::store::records::Contact;
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

/// How many one-time KeyPackages we aim to keep on the relay.
const TARGET: u32 = 25;
/// Below this many we publish more.
const LOW_WATER: u32 = 20;

/// Publishes KeyPackages until the relay holds [`TARGET`], plus a last-resort one if the
/// relay has none of ours yet. Cheap when nothing is needed (one query).
pub(crate) async fn top_up_key_packages(ctx: &mut Ctx<'_>) -> Result<(), ClientError> {
    let mut settings = settings(ctx.store)?.ok_or(ClientError::NotInitialized)?;
    let relay = ctx.owner_relay().await?;
    // An empty publish is the relay's way of telling how many are left.
    let available = relay
        .publish_key_packages(&ctx.session.handle, &ctx.session.identity, &[], None)
        .await?;
    if available >= LOW_WATER && settings.last_resort_published {
        return Ok(());
    }
    let count = usize::try_from(TARGET.saturating_sub(available)).unwrap_or(0);
    let now_ms = ctx.now_ms();
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
        settings.last_resort_published = true;
        let mut batch = StoreBatch::default();
        batch.put(Key::Settings, &settings)?;
        ctx.store.apply(batch).await?;
    }
    tracing::debug!(published = fresh.len(), "KeyPackages topped up");
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
