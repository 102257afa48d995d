//! Pinned contacts as the store holds them, and the verification status they give senders
//! and members. Read-only: looking keys up and deciding about changes is [`crate::trust`].

use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxPublicKey;
use parley_crypto::mls::Member;

use crate::api::conversation::MemberInfo;
use crate::api::error::ClientError;
use crate::api::verification::Verification;
use crate::state::store::records::Contact;
use crate::state::Ctx;

impl Contact {
    /// The pinned inbox key.
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
    pub(crate) fn require_unchanged(&self, handle: &Handle) -> Result<(), ClientError> {
        match self.changed {
            Some(_) => Err(ClientError::KeyChanged(handle.clone())),
            None => Ok(()),
        }
    }
}

impl Ctx<'_> {
    /// The pinned record of `handle`, if any.
    pub(crate) fn pinned(&self, handle: &Handle) -> Result<Option<Contact>, ClientError> {
        Ok(self.store.contact(handle.as_str())?)
    }

    /// The current status of `handle` as a message sender or member: ourselves are verified,
    /// a handle never pinned is unverified.
    pub(crate) fn status_of(&self, handle: &Handle) -> Verification {
        if *handle == self.session.handle {
            return Verification::Verified;
        }
        self.pinned(handle)
            .ok()
            .flatten()
            .map_or(Verification::Unverified, |c| c.status())
    }

    /// The status of a group member: its contact's, or CHANGED if the member's key is not the
    /// pinned one.
    pub(crate) fn member_status(&self, member: &Member) -> Verification {
        if member.handle == self.session.handle {
            return Verification::Verified;
        }
        match self.pinned(&member.handle) {
            // A leaf still on a key the contact rotated away from: theirs, not moved yet.
            Ok(Some(contact))
                if contact.identity_key != member.identity_key.to_bytes()
                    && !contact
                        .previous_keys
                        .contains(&member.identity_key.to_bytes()) =>
            {
                Verification::Changed
            }
            Ok(Some(contact)) => contact.status(),
            _ => Verification::Unverified,
        }
    }

    /// A member as the API shows it, with its current status.
    pub(crate) fn member_info(&self, member: &Member) -> MemberInfo {
        MemberInfo {
            handle: member.handle.clone(),
            identity_key: hex::encode(member.identity_key.to_bytes()),
            status: self.member_status(member),
        }
    }
}
