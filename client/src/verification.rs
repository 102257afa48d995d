//! Verification: comparing safety numbers and group codes out of band, and deciding about
//! changed identity keys.
//!
//! A contact is UNVERIFIED when pinned on first use, VERIFIED once the user confirmed the
//! safety number, and CHANGED while the directory or a group shows another identity key for
//! it. A CHANGED contact's 1:1 cannot be written to, nor can they be added to a group, until
//! the user accepts the new key or verifies it.

use std::fmt;

use parley_crypto::group_code::GroupCode as RosterCode;
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentityPublicKey;
use parley_crypto::safety_number::SafetyNumber;

use crate::client::Ctx;
use crate::conversations::MemberInfo;
use crate::error::{crypto, ClientError};
use crate::store::records::{ChangedKey, Contact, Conversation, StoredKind};
use crate::store::{Key, StoreBatch};

/// How far a contact's identity key is trusted.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
// Serialized as displayed, so JSON output and screens use the same words.
#[serde(rename_all = "lowercase")]
pub enum Verification {
    /// Pinned on first use; safety numbers not compared yet.
    Unverified,
    /// The user compared safety numbers and confirmed them.
    Verified,
    /// Another identity key appeared for this handle; sending to them is blocked until the
    /// user accepts or verifies it.
    #[serde(rename = "CHANGED")]
    Changed,
}

impl fmt::Display for Verification {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verification::Unverified => "unverified",
            Verification::Verified => "verified",
            // Upper case so that it stands out wherever it is shown.
            Verification::Changed => "CHANGED",
        })
    }
}

/// A pinned contact as listed by [`crate::Client::contacts`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactInfo {
    /// The contact's handle.
    pub handle: String,
    /// The pinned identity public key, hex (the key in use, not a changed one).
    pub identity_key: String,
    /// How far the key is trusted.
    pub status: Verification,
}

/// The safety number shared with a contact, as shown by [`crate::Client::verification`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafetyNumberView {
    /// The contact's handle.
    pub handle: String,
    /// The 60 digits as 12 groups of 5 separated by spaces.
    pub grouped: String,
    /// The 60 digits without separators.
    pub digits: String,
    /// The contact's status. When CHANGED, the number is computed with the new key: it is the
    /// number to compare before accepting it.
    pub status: Verification,
}

/// The code over a conversation's whole roster and MLS epoch, as shown by
/// [`crate::Client::group_code`]. Members in step see the same code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCode {
    /// The conversation's local name.
    pub conversation: String,
    /// The 60 digits as 12 groups of 5 separated by spaces.
    pub grouped: String,
    /// The 60 digits without separators.
    pub digits: String,
    /// The MLS epoch the code is for; it changes with every membership change.
    pub epoch: u64,
    /// The members the code covers, us included, sorted by handle.
    pub members: Vec<MemberInfo>,
}

fn parse_handle(handle: &str) -> Result<Handle, ClientError> {
    Handle::parse(handle).map_err(|_| ClientError::InvalidHandle(handle.to_owned()))
}

impl Ctx<'_> {
    /// Pinned contacts of every conversation, sorted by handle.
    pub(crate) fn contact_infos(&self) -> Result<Vec<ContactInfo>, ClientError> {
        let mut handles: Vec<Handle> = Vec::new();
        for conv in self.conversations()? {
            if conv.kind == StoredKind::Direct {
                if let Ok(handle) = Handle::parse(conv.peer()) {
                    handles.push(handle);
                }
            }
            if let Ok(members) = self.session.mls.members(&conv.group_id) {
                handles.extend(members.into_iter().map(|m| m.handle));
            }
        }
        handles.sort();
        handles.dedup();
        let mut infos = Vec::new();
        for handle in handles {
            if handle == self.session.handle {
                continue;
            }
            if let Some(contact) = self.pinned(&handle)? {
                infos.push(ContactInfo {
                    handle: contact.handle.clone(),
                    identity_key: hex::encode(contact.identity_key),
                    status: contact.status(),
                });
            }
        }
        Ok(infos)
    }

    /// The contact of `handle` as the directory shows it now (pinning it if new); the stored
    /// one when the relay cannot answer, or when the answer is a changed key (then recorded).
    async fn current_contact(&mut self, handle: &Handle) -> Result<Contact, ClientError> {
        match self.refresh_contact(handle).await {
            Ok(contact) => Ok(contact),
            Err(e) if matches!(e, ClientError::KeyChanged(_)) || e.is_transient() => {
                self.pinned(handle)?.ok_or(e)
            }
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn verification(
        &mut self,
        handle: &str,
    ) -> Result<SafetyNumberView, ClientError> {
        let peer = parse_handle(handle)?;
        if peer == self.session.handle {
            return Err(ClientError::CannotMessageSelf);
        }
        let contact = self.current_contact(&peer).await?;
        let theirs = contact
            .changed
            .as_ref()
            .map_or(contact.identity_key, |c| c.identity_key);
        let theirs = IdentityPublicKey::from_bytes(&theirs).map_err(crypto)?;
        let ours = self.session.identity.public_key();
        let number = SafetyNumber::compute((&self.session.handle, &ours), (&peer, &theirs));
        Ok(SafetyNumberView {
            handle: peer.to_string(),
            grouped: number.grouped(),
            digits: number.digits().to_owned(),
            status: contact.status(),
        })
    }

    /// The safety number shared with `handle` for the key in use (the pinned one, even while
    /// CHANGED), 12 groups of 5 digits. Looks the handle up only if it is not pinned yet.
    pub(crate) async fn safety_number(&mut self, handle: &str) -> Result<String, ClientError> {
        let peer = parse_handle(handle)?;
        let contact = self.contact(&peer).await?;
        let theirs = IdentityPublicKey::from_bytes(&contact.identity_key).map_err(crypto)?;
        let ours = self.session.identity.public_key();
        Ok(SafetyNumber::compute((&self.session.handle, &ours), (&peer, &theirs)).grouped())
    }

    pub(crate) async fn confirm_verified(&mut self, handle: &str) -> Result<(), ClientError> {
        let peer = parse_handle(handle)?;
        if peer == self.session.handle {
            return Err(ClientError::CannotMessageSelf);
        }
        let contact = self.contact(&peer).await?;
        self.decide(&peer, contact, true).await
    }

    pub(crate) async fn accept_new_key(&mut self, handle: &str) -> Result<(), ClientError> {
        let peer = parse_handle(handle)?;
        let contact = self
            .pinned(&peer)?
            .ok_or_else(|| ClientError::UnknownContact(peer.to_string()))?;
        if contact.changed.is_none() {
            // Nothing to accept: the pinned key stays, and so does its status.
            return Ok(());
        }
        self.decide(&peer, contact, false).await
    }

    /// Adopts the contact's changed key if there is one, sets `verified`, and retires 1:1s
    /// that still hold the old key: they keep their history under "`<handle> (old key)`",
    /// are never sent to again, and are closed at the relay (the old key is removed from
    /// them) so that the peer's side stops using them too. The next message to the handle
    /// starts a new 1:1.
    async fn decide(
        &mut self,
        peer: &Handle,
        mut contact: Contact,
        verified: bool,
    ) -> Result<(), ClientError> {
        if let Some(ChangedKey {
            identity_key,
            inbox_key,
            record_version,
        }) = contact.changed.take()
        {
            contact.identity_key = identity_key;
            match inbox_key {
                Some(inbox_key) => {
                    contact.inbox_key = inbox_key;
                    contact.record_version = record_version;
                }
                // Seen in a group only: let the next directory record of this identity
                // replace the old inbox key whatever its version.
                None => contact.record_version = 0,
            }
            let stale = self.stale_directs(peer, &identity_key)?;
            contact.verified = verified;
            let mut batch = StoreBatch::default();
            batch.put(Key::Contact(peer), &contact)?;
            let mut names = self.names()?;
            for conv in &stale {
                let retired = Conversation {
                    name: names.unique(&format!("{} (old key)", conv.peer())),
                    retired: true,
                    close_pending: true,
                    ..conv.clone()
                };
                self.stage_conversation(&mut batch, &retired)?;
                names.add(retired);
            }
            self.store.apply(batch).await?;
            self.close_retired_directs().await?;
            match self.release_held(peer).await {
                // The next sync releases them.
                Err(e) if e.is_transient() => tracing::debug!(error = %e, "held deliveries wait"),
                other => other?,
            }
            return Ok(());
        }
        contact.verified = verified;
        let mut batch = StoreBatch::default();
        batch.put(Key::Contact(peer), &contact)?;
        self.store.apply(batch).await?;
        Ok(())
    }

    /// Closes every retired 1:1 whose closing did not reach the relay yet. An unreachable
    /// relay leaves them for the next sync; they are never sent to meanwhile.
    pub(crate) async fn close_retired_directs(&mut self) -> Result<(), ClientError> {
        let pending: Vec<Conversation> = self
            .conversations()?
            .into_iter()
            .filter(|c| c.retired && c.close_pending)
            .collect();
        for conv in pending {
            match self.close_retired(&conv).await {
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

    /// Active 1:1s with `peer` whose member `peer` has another identity key than `key`.
    fn stale_directs(
        &self,
        peer: &Handle,
        key: &[u8; 32],
    ) -> Result<Vec<Conversation>, ClientError> {
        let mut stale = Vec::new();
        for conv in self.conversations()? {
            if !conv.is_live_direct() {
                continue;
            }
            let Ok(members) = self.session.mls.members(&conv.group_id) else {
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

    pub(crate) fn group_code(&self, name: &str) -> Result<GroupCode, ClientError> {
        let conv = self.require_conversation(name)?;
        if !conv.active {
            return Err(self.not_a_member());
        }
        let gid = conv.group_id;
        let mut members = self.session.mls.members(&gid).map_err(crypto)?;
        members.sort_by(|a, b| a.handle.cmp(&b.handle));
        let authenticator = self.session.mls.epoch_authenticator(&gid).map_err(crypto)?;
        let epoch = self.session.mls.epoch(&gid).map_err(crypto)?;
        let roster: Vec<(&Handle, &IdentityPublicKey)> = members
            .iter()
            .map(|m| (&m.handle, &m.identity_key))
            .collect();
        let code = RosterCode::compute(&roster, &authenticator);
        Ok(GroupCode {
            conversation: self.display_name(&conv)?,
            grouped: code.grouped(),
            digits: code.digits().to_owned(),
            epoch,
            members: members.iter().map(|m| self.member_info(m)).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_words_are_the_same_on_screen_and_in_json() {
        for (status, word) in [
            (Verification::Unverified, "unverified"),
            (Verification::Verified, "verified"),
            (Verification::Changed, "CHANGED"),
        ] {
            assert_eq!(status.to_string(), word);
            assert_eq!(
                serde_json::to_value(status).unwrap(),
                serde_json::Value::from(word)
            );
        }
    }
}
