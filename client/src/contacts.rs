//! Contacts: directory records pinned on first use, and checking members against them.
//!
//! A pinned identity key is never replaced behind the user's back: another key, whether the
//! directory shows it or a group member carries it, is kept aside as the contact's changed
//! key and the contact turns CHANGED until the user accepts or verifies the new key.

use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxPublicKey;
use parley_crypto::mls::Member;

use crate::client::Ctx;
use crate::error::ClientError;
use crate::relay::RelayError;
use crate::store::records::{ChangedKey, Contact};
use crate::store::{Key, StoreBatch};
use crate::verification::Verification;

impl Contact {
    pub(crate) fn inbox_key(&self) -> InboxPublicKey {
        InboxPublicKey::from_bytes(self.inbox_key)
    }

    /// The contact's status as the user sees it.
    pub(crate) fn status(&self) -> Verification {
        match (&self.changed, self.verified) {
            (Some(_), _) => Verification::Changed,
            (None, true) => Verification::Verified,
            (None, false) => Verification::Unverified,
        }
    }

    /// Refuses to act for a CHANGED contact until the user decided about the new key.
    pub(crate) fn require_unchanged(&self) -> Result<(), ClientError> {
        match self.changed {
            Some(_) => Err(ClientError::KeyChanged(self.handle.clone())),
            None => Ok(()),
        }
    }
}

impl Ctx<'_> {
    /// The pinned record of `handle`, if any.
    pub(crate) fn pinned(&self, handle: &Handle) -> Result<Option<Contact>, ClientError> {
        Ok(self.store.get(Key::Contact(handle))?)
    }

    /// The pinned record of `handle`, looking it up and pinning it if it is new to us.
    pub(crate) async fn contact(&mut self, handle: &Handle) -> Result<Contact, ClientError> {
        match self.pinned(handle)? {
            Some(contact) => Ok(contact),
            None => self.refresh_contact(handle).await,
        }
    }

    /// Looks `handle` up on the relay and checks the answer against the pin; pins it if new.
    /// A different identity key is never adopted: it is recorded as the contact's changed key
    /// and reported as [`ClientError::KeyChanged`].
    pub(crate) async fn refresh_contact(
        &mut self,
        handle: &Handle,
    ) -> Result<Contact, ClientError> {
        let relay = self.relay().await?;
        let bytes = relay.lookup(handle).await.map_err(|e| match e {
            RelayError::NotFound => ClientError::UnknownContact(handle.to_string()),
            other => other.into(),
        })?;
        let signed = match SignedRecord::decode_and_verify(&bytes) {
            Ok(signed) if signed.record().handle == *handle => signed,
            _ => {
                return Err(self
                    .refuse(ClientError::UntrustedMember(handle.to_string()))
                    .await)
            }
        };
        let record = signed.record();
        let identity_key = record.identity_key.to_bytes();
        let inbox_key = record.inbox_key.to_bytes();
        match self.pinned(handle)? {
            Some(pinned) if pinned.identity_key != identity_key => {
                let seen = ChangedKey {
                    identity_key,
                    inbox_key: Some(inbox_key),
                    record_version: record.record_version,
                };
                Err(self.record_changed_key(handle, pinned, seen).await)
            }
            // The directory serves the pinned key again: the change it showed before is
            // withdrawn. Adopting it now would hand a relay that flips keys the pin, so the
            // pinned key stays and the user is told what happened.
            Some(mut pinned) if pinned.changed.is_some() => {
                pinned.changed = None;
                let mut batch = StoreBatch::default();
                batch.put(Key::Contact(handle), &pinned)?;
                self.store.apply(batch).await?;
                self.alert(format!(
                    "the relay serves {handle}'s pinned identity key again; the change it showed \
                     earlier was withdrawn (the relay may have been tampering)"
                ))
                .await;
                Ok(pinned)
            }
            // Same identity: a newer record (e.g. a rotated inbox key) replaces the pin.
            Some(pinned) if pinned.record_version >= record.record_version => Ok(pinned),
            pinned => {
                let (verified, changed) = pinned.map_or((false, None), |p| (p.verified, p.changed));
                let fresh = Contact {
                    handle: handle.to_string(),
                    identity_key,
                    inbox_key,
                    record_version: record.record_version,
                    verified,
                    changed,
                };
                let mut batch = StoreBatch::default();
                batch.put(Key::Contact(handle), &fresh)?;
                self.store.apply(batch).await?;
                Ok(fresh)
            }
        }
    }

    /// Keeps `pinned` as it is, records `seen` as its changed key and alerts the user the first
    /// time this key shows up. Returns the error to report.
    pub(crate) async fn record_changed_key(
        &mut self,
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
                Ok(()) => self.store.apply(batch).await,
                Err(e) => Err(e),
            };
            if let Err(e) = saved {
                return e.into();
            }
        }
        if new_key {
            self.alert(format!(
                "{handle}'s identity key has changed; sending to {handle} is blocked until you \
                 compare safety numbers with them, or accept the new key"
            ))
            .await;
        }
        ClientError::KeyChanged(handle.to_string())
    }

    /// Checks that a group member's leaf key is the pinned identity key of its handle
    /// (looking unknown handles up first). A different key is recorded as the contact's
    /// changed key. Does not record a refusal alert: callers do.
    pub(crate) async fn verify_member(&mut self, member: &Member) -> Result<(), ClientError> {
        if member.handle == self.session.handle {
            if member.identity_key.to_bytes() != self.session.identity.public_key().to_bytes() {
                return Err(ClientError::KeyChanged(member.handle.to_string()));
            }
            return Ok(());
        }
        let contact = match self.contact(&member.handle).await {
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
            return Err(self.record_changed_key(&member.handle, contact, seen).await);
        }
        Ok(())
    }

    /// The current status of `handle` as a message sender or member: ourselves are verified,
    /// a handle never pinned is unverified.
    pub(crate) fn status_of(&self, handle: &str) -> Verification {
        if handle == self.session.handle.as_str() {
            return Verification::Verified;
        }
        let pinned = Handle::parse(handle)
            .ok()
            .and_then(|h| self.pinned(&h).ok().flatten());
        pinned.map_or(Verification::Unverified, |c| c.status())
    }

    /// The status of a group member: its contact's, or CHANGED if the member's key is not the
    /// pinned one.
    pub(crate) fn member_status(&self, member: &Member) -> Verification {
        if member.handle == self.session.handle {
            return Verification::Verified;
        }
        match self.pinned(&member.handle) {
            Ok(Some(contact)) if contact.identity_key != member.identity_key.to_bytes() => {
                Verification::Changed
            }
            Ok(Some(contact)) => contact.status(),
            _ => Verification::Unverified,
        }
    }
}
