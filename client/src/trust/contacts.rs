//! Contacts: directory records pinned on first use, and checking members against them.
//!
//! A pinned identity key is never replaced behind the user's back: another key, whether the
//! directory shows it or a group member carries it, is kept aside as the contact's changed
//! key and the contact turns CHANGED until the user accepts or verifies the new key.

use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_crypto::mls::Member;

use super::rotation::{adopt_rotation, endorsed_by_pin};
use crate::api::alert::Alert;
use crate::api::error::{ClientError, RelayError};
use crate::state::store::records::{ChangedKey, Contact};
use crate::state::store::{Key, StoreBatch};
use crate::state::Ctx;

/// The pinned record of `handle`, looking it up and pinning it if it is new to us.
pub(crate) async fn contact(ctx: &mut Ctx<'_>, handle: &Handle) -> Result<Contact, ClientError> {
    match ctx.pinned(handle)? {
        Some(contact) => Ok(contact),
        None => refresh_contact(ctx, handle).await,
    }
}

/// Looks `handle` up on the relay and checks the answer against the pin; pins it if new.
/// A different identity key is never adopted: it is recorded as the contact's changed key
/// and reported as [`ClientError::KeyChanged`].
pub(crate) async fn refresh_contact(
    ctx: &mut Ctx<'_>,
    handle: &Handle,
) -> Result<Contact, ClientError> {
    let relay = ctx.one_off_relay().await?;
    let (bytes, rotations) = relay
        .lookup_with_rotations(handle)
        .await
        .map_err(|e| match e {
            RelayError::NotFound => ClientError::UnknownContact(handle.clone()),
            other => other.into(),
        })?;
    adopt_record(ctx, handle, &bytes, &rotations).await
}

/// Unpins `handle`, pinned by the delivery that was just refused (it was a stranger before
/// it): only what we accept from a stranger pins them.
pub(crate) async fn forget_stranger(ctx: &mut Ctx<'_>, handle: &Handle) -> Result<(), ClientError> {
    if ctx.pinned(handle)?.is_none() {
        return Ok(());
    }
    let mut batch = StoreBatch::default();
    batch.remove(Key::Contact(handle));
    ctx.store.apply(batch).await?;
    Ok(())
}

/// Checks a signed directory record of `handle` (from the directory, or carried by a
/// delivery) against the pin, exactly as a lookup's answer: pinned if new, a newer record of
/// the same identity replaces the pin, a record that `rotations` (the directory's, empty for
/// a carried record) show the pinned key endorsed replaces it as a rotation; any other
/// identity key is never adopted but recorded as the contact's changed key and reported as
/// [`ClientError::KeyChanged`].
pub(crate) async fn adopt_record(
    ctx: &mut Ctx<'_>,
    handle: &Handle,
    bytes: &[u8],
    rotations: &[Vec<u8>],
) -> Result<Contact, ClientError> {
    let signed = match SignedRecord::decode_and_verify(bytes) {
        Ok(signed) if signed.record().handle == *handle => signed,
        _ => {
            return Err(ctx
                .refuse(ClientError::UntrustedMember(handle.clone()))
                .await)
        }
    };
    let record = signed.record();
    let identity_key = record.identity_key.to_bytes();
    let inbox_key = record.inbox_key.to_bytes();
    match ctx.pinned(handle)? {
        // A record of a key the contact rotated away from, older than the pin: the relay
        // rolled the record back. The pin stays.
        Some(pinned)
            if pinned.previous_keys.contains(&identity_key)
                && record.record_version < pinned.record_version =>
        {
            Ok(pinned)
        }
        Some(pinned)
            if pinned.identity_key != identity_key
                && endorsed_by_pin(&pinned, &signed, rotations) =>
        {
            adopt_rotation(ctx, handle, pinned, &signed).await
        }
        Some(pinned) if pinned.identity_key != identity_key => {
            let seen = ChangedKey {
                identity_key,
                inbox_key: Some(inbox_key),
                record_version: record.record_version,
            };
            Err(record_changed_key(ctx, handle, pinned, seen).await)
        }
        // The directory serves the pinned key again: the change it showed before is
        // withdrawn. Adopting it now would hand a relay that flips keys the pin, so the
        // pinned key stays and the user is told what happened.
        Some(mut pinned) if pinned.changed.is_some() => {
            pinned.changed = None;
            let mut batch = StoreBatch::default();
            batch.put(Key::Contact(handle), &pinned)?;
            ctx.store.apply(batch).await?;
            ctx.alert(Alert::KeyChangeWithdrawn {
                handle: handle.clone(),
            })
            .await;
            Ok(pinned)
        }
        // Same identity: a newer record (e.g. a rotated inbox key) replaces the pin; the
        // same one is kept, now with its bytes if the pin had none.
        Some(mut pinned) if pinned.record_version >= record.record_version => {
            if pinned.record.is_none() && pinned.record_version == record.record_version {
                pinned.record = Some(bytes.to_vec());
                let mut batch = StoreBatch::default();
                batch.put(Key::Contact(handle), &pinned)?;
                ctx.store.apply(batch).await?;
            }
            Ok(pinned)
        }
        pinned => {
            let (verified, changed) = pinned.map_or((false, None), |p| (p.verified, p.changed));
            let fresh = Contact {
                handle: handle.to_string(),
                identity_key,
                inbox_key,
                record_version: record.record_version,
                verified,
                changed,
                record: Some(bytes.to_vec()),
                previous_keys: Vec::new(),
            };
            let mut batch = StoreBatch::default();
            batch.put(Key::Contact(handle), &fresh)?;
            ctx.store.apply(batch).await?;
            Ok(fresh)
        }
    }
}

/// Keeps `pinned` as it is, records `seen` as its changed key and alerts the user the first
/// time this key shows up. Returns the error to report.
pub(crate) async fn record_changed_key(
    ctx: &mut Ctx<'_>,
    handle: &Handle,
    mut pinned: Contact,
    seen: ChangedKey,
) -> ClientError {
    let previous = pinned.changed.as_ref();
    let new_key = previous.is_none_or(|c| c.identity_key != seen.identity_key);
    // A directory record carries the inbox key a group member does not show.
    let more_detail = seen.inbox_key.is_some()
        && previous
            .is_some_and(|c| c.inbox_key.is_none() || c.record_version < seen.record_version);
    if new_key || more_detail {
        pinned.changed = Some(seen);
        let mut batch = StoreBatch::default();
        let saved = match batch.put(Key::Contact(handle), &pinned) {
            Ok(()) => ctx.store.apply(batch).await,
            Err(e) => Err(e),
        };
        if let Err(e) = saved {
            return e.into();
        }
    }
    if new_key {
        ctx.alert(Alert::KeyChanged {
            handle: handle.clone(),
        })
        .await;
    }
    ClientError::KeyChanged(handle.clone())
}

/// Checks that a group member's leaf key is the pinned identity key of its handle
/// (looking unknown handles up first). A different key is recorded as the contact's
/// changed key. Does not record a refusal alert: callers do.
pub(crate) async fn verify_member(ctx: &mut Ctx<'_>, member: &Member) -> Result<(), ClientError> {
    if member.handle == ctx.session.handle {
        if member.identity_key.to_bytes() != ctx.session.identity.public_key().to_bytes() {
            return Err(ClientError::KeyChanged(member.handle.clone()));
        }
        return Ok(());
    }
    let contact = match contact(ctx, &member.handle).await {
        Ok(contact) => contact,
        Err(ClientError::UnknownContact(h)) => return Err(ClientError::UntrustedMember(h)),
        Err(e) => return Err(e),
    };
    let key = member.identity_key.to_bytes();
    if key != contact.identity_key {
        let record_version = contact.record_version;
        let seen = ChangedKey {
            identity_key: key,
            inbox_key: None,
            record_version,
        };
        return Err(record_changed_key(ctx, &member.handle, contact, seen).await);
    }
    Ok(())
}
