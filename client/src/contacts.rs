//! Contacts: directory records pinned on first use, and checking members against them.

use parley_crypto::directory::SignedRecord;
use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxPublicKey;
use parley_crypto::mls::Member;
use parley_crypto::safety_number::SafetyNumber;

use crate::client::Ctx;
use crate::error::{crypto, ClientError};
use crate::relay::RelayError;
use crate::store::records::Contact;
use crate::store::{Key, StoreBatch};

impl Contact {
    pub(crate) fn inbox_key(&self) -> InboxPublicKey {
        InboxPublicKey::from_bytes(self.inbox_key)
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
    /// A different identity key is refused (never silently replaced).
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
        let fresh = Contact {
            handle: handle.to_string(),
            identity_key: record.identity_key.to_bytes(),
            inbox_key: record.inbox_key.to_bytes(),
            record_version: record.record_version,
        };
        match self.pinned(handle)? {
            Some(pinned) if pinned.identity_key != fresh.identity_key => Err(self
                .refuse(ClientError::KeyChanged(handle.to_string()))
                .await),
            // Same identity: a newer record (e.g. a rotated inbox key) replaces the pin.
            Some(pinned) if pinned.record_version >= fresh.record_version => Ok(pinned),
            _ => {
                let mut batch = StoreBatch::default();
                batch.put(Key::Contact(handle), &fresh)?;
                self.store.apply(batch).await?;
                Ok(fresh)
            }
        }
    }

    /// Checks that a group member's leaf key is the pinned identity key of its handle
    /// (looking unknown handles up first). Does not record an alert: callers do.
    pub(crate) async fn verify_member(&mut self, member: &Member) -> Result<(), ClientError> {
        let expected = if member.handle == self.session.handle {
            self.session.identity.public_key().to_bytes()
        } else {
            match self.contact(&member.handle).await {
                Ok(contact) => contact.identity_key,
                Err(ClientError::UnknownContact(h)) => return Err(ClientError::UntrustedMember(h)),
                Err(e) => return Err(e),
            }
        };
        if member.identity_key.to_bytes() != expected {
            return Err(ClientError::KeyChanged(member.handle.to_string()));
        }
        Ok(())
    }

    /// The safety number shared with `handle`.
    pub(crate) async fn safety_number(&mut self, handle: &str) -> Result<String, ClientError> {
        let peer =
            Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))?;
        let contact = self.contact(&peer).await?;
        let theirs = parley_crypto::identity::IdentityPublicKey::from_bytes(&contact.identity_key)
            .map_err(crypto)?;
        let ours = self.session.identity.public_key();
        Ok(SafetyNumber::compute((&self.session.handle, &ours), (&peer, &theirs)).grouped())
    }
}
