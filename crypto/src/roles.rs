//! Who may change a group: its admins, named in the MLS group context.
//!
//! The admins are part of the group context (extension [`ROLES_EXTENSION_TYPE`], from the
//! private-use range of RFC 9420), so every member holds the same list and only a commit
//! that every member processes can change it; every member's software refuses a commit that
//! adds or removes someone, or changes the list, unless an admin sent it. The relay sees
//! none of it. A group created before roles existed has no such extension and keeps the
//! old rule: any member may change it.
//!
//! Encoding: `u8 count` (1..=255), then per admin, in ascending order of handle and each once,
//! `u8 length` and the handle's bytes.

use crate::handle::Handle;

/// The MLS extension type carrying the admins in the group context (RFC 9420 section 17.3
/// reserves 0xF000..=0xFFFF for private use).
pub const ROLES_EXTENSION_TYPE: u16 = 0xF0A2;

/// Why an encoded list of admins is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RolesError {
    /// The bytes end before the list does, or go on after it.
    #[error("the list of admins is cut short or has bytes after it")]
    BadLength,
    /// No admin: a group must keep at least one.
    #[error("a group keeps at least one admin")]
    NoAdmin,
    /// More admins than the encoding holds (255).
    #[error("a group has at most 255 admins")]
    TooMany,
    /// An entry that is not a valid handle.
    #[error("an admin's handle is not valid")]
    BadHandle,
    /// Entries out of order or repeated (one encoding per list).
    #[error("admins are listed once each, in order")]
    NotCanonical,
}

/// The admins of a group: never empty, each handle once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRoles {
    admins: Vec<Handle>,
}

impl GroupRoles {
    /// A group whose only admin is `creator`.
    pub fn created_by(creator: Handle) -> GroupRoles {
        GroupRoles {
            admins: vec![creator],
        }
    }

    /// The admins, in order of handle.
    pub fn admins(&self) -> &[Handle] {
        &self.admins
    }

    /// Whether `handle` is an admin.
    pub fn is_admin(&self, handle: &Handle) -> bool {
        self.admins.binary_search(handle).is_ok()
    }

    /// These roles with `handle` an admin too.
    pub fn with_admin(&self, handle: Handle) -> Result<GroupRoles, RolesError> {
        let mut admins = self.admins.clone();
        if let Err(at) = admins.binary_search(&handle) {
            admins.insert(at, handle);
        }
        GroupRoles::from_admins(admins)
    }

    /// These roles without `handle` (who is leaving the group, say); refused if no admin
    /// would be left.
    pub fn without(&self, handle: &Handle) -> Result<GroupRoles, RolesError> {
        GroupRoles::from_admins(
            self.admins
                .iter()
                .filter(|h| *h != handle)
                .cloned()
                .collect(),
        )
    }

    /// The admins of `self` that `earlier` did not have.
    pub fn promoted_since(&self, earlier: &GroupRoles) -> Vec<Handle> {
        self.admins
            .iter()
            .filter(|h| !earlier.is_admin(h))
            .cloned()
            .collect()
    }

    fn from_admins(mut admins: Vec<Handle>) -> Result<GroupRoles, RolesError> {
        admins.sort();
        admins.dedup();
        if admins.is_empty() {
            return Err(RolesError::NoAdmin);
        }
        if admins.len() > usize::from(u8::MAX) {
            return Err(RolesError::TooMany);
        }
        Ok(GroupRoles { admins })
    }

    /// The extension's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(1 + self.admins.len() * 16);
        // Bounded by from_admins and by the handle rules (at most 32 bytes each).
        out.push(u8::try_from(self.admins.len()).unwrap_or(u8::MAX));
        for handle in &self.admins {
            let bytes = handle.as_str().as_bytes();
            out.push(u8::try_from(bytes.len()).unwrap_or(u8::MAX));
            out.extend_from_slice(bytes);
        }
        out
    }

    /// Reads the extension's bytes; anything but the one canonical encoding of a valid list
    /// is refused.
    pub fn decode(bytes: &[u8]) -> Result<GroupRoles, RolesError> {
        let (&count, mut rest) = bytes.split_first().ok_or(RolesError::BadLength)?;
        if count == 0 {
            return Err(RolesError::NoAdmin);
        }
        let mut admins: Vec<Handle> = Vec::with_capacity(usize::from(count));
        for _ in 0..count {
            let (&len, tail) = rest.split_first().ok_or(RolesError::BadLength)?;
            let len = usize::from(len);
            if tail.len() < len {
                return Err(RolesError::BadLength);
            }
            let (name, tail) = tail.split_at(len);
            let name = std::str::from_utf8(name).map_err(|_| RolesError::BadHandle)?;
            let handle = Handle::parse(name).map_err(|_| RolesError::BadHandle)?;
            if handle.as_str() != name {
                return Err(RolesError::NotCanonical);
            }
            if admins.last().is_some_and(|last| *last >= handle) {
                return Err(RolesError::NotCanonical);
            }
            admins.push(handle);
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(RolesError::BadLength);
        }
        Ok(GroupRoles { admins })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn handle(name: &str) -> Handle {
        Handle::parse(name).unwrap()
    }

    #[test]
    fn admins_round_trip_in_one_encoding() {
        let roles = GroupRoles::created_by(handle("carol"))
            .with_admin(handle("alice"))
            .unwrap()
            .with_admin(handle("alice"))
            .unwrap();
        assert_eq!(roles.admins(), [handle("alice"), handle("carol")]);
        let bytes = roles.encode();
        assert_eq!(bytes, b"\x02\x05alice\x05carol");
        assert_eq!(GroupRoles::decode(&bytes).unwrap(), roles);
        assert!(roles.is_admin(&handle("carol")));
        assert!(!roles.is_admin(&handle("bob")));
        let fewer = roles.without(&handle("carol")).unwrap();
        assert_eq!(fewer.admins(), [handle("alice")]);
        assert_eq!(fewer.without(&handle("alice")), Err(RolesError::NoAdmin));
        assert_eq!(roles.promoted_since(&fewer), [handle("carol")]);
    }

    #[test]
    fn every_other_encoding_is_refused() {
        assert_eq!(GroupRoles::decode(b""), Err(RolesError::BadLength));
        assert_eq!(GroupRoles::decode(b"\x00"), Err(RolesError::NoAdmin));
        assert_eq!(
            GroupRoles::decode(b"\x01\x05alic"),
            Err(RolesError::BadLength)
        );
        assert_eq!(
            GroupRoles::decode(b"\x01\x05alicex"),
            Err(RolesError::BadLength)
        );
        assert_eq!(
            GroupRoles::decode(b"\x02\x05carol\x05alice"),
            Err(RolesError::NotCanonical)
        );
        assert_eq!(
            GroupRoles::decode(b"\x02\x05alice\x05alice"),
            Err(RolesError::NotCanonical)
        );
        assert_eq!(
            GroupRoles::decode(b"\x01\x02\xff\xfe"),
            Err(RolesError::BadHandle)
        );
        assert_eq!(GroupRoles::decode(b"\x01\x01 "), Err(RolesError::BadHandle));
    }
}
