//! What Parley keeps in a group's context: the agreed retention; for groups made since
//! roles exist, the admins; for the rooms of a workshop, the workshop (its rooms, roster and
//! policies); with the required-capabilities extension that makes every member's leaf support
//! them.
//!
//! Every leaf of ours (KeyPackages and the leaf of a group we create) lists the extensions
//! among its capabilities: RFC 9420 lets a group context carry an extension only if every
//! member supports it, so a member whose leaf lacks one (software from before it) makes the
//! change fail instead of being silently left out.

use openmls::prelude::{
    Capabilities, Extension, ExtensionType, Extensions, GroupContext,
    RequiredCapabilitiesExtension, UnknownExtension,
};

use super::errors::MlsError;
use crate::retention::{Retention, RETENTION_EXTENSION_TYPE};
use crate::roles::{GroupRoles, ROLES_EXTENSION_TYPE};
use crate::workshop::{WorkshopSpec, WORKSHOP_EXTENSION_TYPE};

/// The capabilities of every leaf of ours: the retention, roles and workshop extensions, and
/// `LastResort` for a last-resort KeyPackage (an extension a KeyPackage carries must be
/// listed too).
pub(crate) fn leaf_capabilities(last_resort: bool) -> Capabilities {
    let mut extensions = vec![
        ExtensionType::Unknown(RETENTION_EXTENSION_TYPE),
        ExtensionType::Unknown(ROLES_EXTENSION_TYPE),
        ExtensionType::Unknown(WORKSHOP_EXTENSION_TYPE),
    ];
    if last_resort {
        extensions.push(ExtensionType::LastResort);
    }
    Capabilities::builder().extensions(extensions).build()
}

/// The required capabilities of a group with (or, made before roles, without) admins, and
/// of a workshop's room.
fn required_capabilities(with_roles: bool, with_workshop: bool) -> Extension {
    let mut required = vec![ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)];
    if with_roles {
        required.push(ExtensionType::Unknown(ROLES_EXTENSION_TYPE));
    }
    if with_workshop {
        required.push(ExtensionType::Unknown(WORKSHOP_EXTENSION_TYPE));
    }
    Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(&required, &[], &[]))
}

/// What a group context says, as Parley reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Context {
    /// How long messages live.
    pub(crate) retention: Retention,
    /// The admins; `None` for a group made before roles (anyone may change it) and for a
    /// workshop's room (its facilitators change it).
    pub(crate) roles: Option<GroupRoles>,
    /// The workshop this group is a room of.
    pub(crate) workshop: Option<WorkshopSpec>,
}

impl Context {
    /// The group context extensions that say this.
    pub(crate) fn extensions(&self) -> Result<Extensions<GroupContext>, MlsError> {
        let mut extensions = vec![required_capabilities(
            self.roles.is_some(),
            self.workshop.is_some(),
        )];
        if let Retention::After(_) = self.retention {
            extensions.push(Extension::Unknown(
                RETENTION_EXTENSION_TYPE,
                UnknownExtension(self.retention.encode().to_vec()),
            ));
        }
        if let Some(roles) = &self.roles {
            extensions.push(Extension::Unknown(
                ROLES_EXTENSION_TYPE,
                UnknownExtension(roles.encode()),
            ));
        }
        if let Some(workshop) = &self.workshop {
            extensions.push(Extension::Unknown(
                WORKSHOP_EXTENSION_TYPE,
                UnknownExtension(workshop.encode()),
            ));
        }
        Extensions::from_vec(extensions).map_err(|_| MlsError::Internal("group context"))
    }

    /// Reads group context extensions; an undecodable retention or list of admins is
    /// refused, not read as absent.
    pub(crate) fn read(extensions: &Extensions<GroupContext>) -> Result<Context, MlsError> {
        let retention = match extensions.unknown(RETENTION_EXTENSION_TYPE) {
            None => Retention::Off,
            Some(UnknownExtension(bytes)) => {
                Retention::decode(bytes).map_err(|_| MlsError::InvalidRetention)?
            }
        };
        let roles = extensions
            .unknown(ROLES_EXTENSION_TYPE)
            .map(|UnknownExtension(bytes)| GroupRoles::decode(bytes))
            .transpose()
            .map_err(|_| MlsError::InvalidRoles)?;
        let workshop = extensions
            .unknown(WORKSHOP_EXTENSION_TYPE)
            .map(|UnknownExtension(bytes)| WorkshopSpec::decode(bytes))
            .transpose()
            .map_err(|_| MlsError::InvalidWorkshop)?;
        if roles.is_some() && workshop.is_some() {
            // A room's facilitators are its admins: two lists could disagree.
            return Err(MlsError::InvalidWorkshop);
        }
        Ok(Context {
            retention,
            roles,
            workshop,
        })
    }

    /// Whether `handle` may change who is in the group and what its context says: an admin,
    /// a facilitator of a workshop's room, anyone in a group made before roles.
    pub(crate) fn may_change(&self, handle: &crate::handle::Handle) -> bool {
        match (&self.roles, &self.workshop) {
            (Some(roles), _) => roles.is_admin(handle),
            (None, Some(workshop)) => {
                matches!(
                    workshop.role_of(handle),
                    Some(crate::workshop::Role::Facilitator)
                )
            }
            (None, None) => true,
        }
    }

    /// Who may change the group (see [`Context::may_change`]); `None` if anyone may.
    pub(crate) fn changers(&self) -> Option<Vec<crate::handle::Handle>> {
        match (&self.roles, &self.workshop) {
            (Some(roles), _) => Some(roles.admins().to_vec()),
            (None, Some(workshop)) => Some(workshop.facilitators()),
            (None, None) => None,
        }
    }

    /// Reads the extensions a member proposes for a group that says `self`: they must hold
    /// nothing but what [`Context::extensions`] writes, and keep the group with admins if it
    /// had them and without if it had none (a member may change the retention or the admins,
    /// not make the group require other things, nor drop or bring in roles). A workshop's
    /// room stays the same room of the same workshop: only its roster and policies change.
    pub(crate) fn read_proposed(
        &self,
        extensions: &Extensions<GroupContext>,
    ) -> Result<Context, MlsError> {
        let with_roles = self.roles.is_some();
        let with_workshop = self.workshop.is_some();
        let required = required_capabilities(with_roles, with_workshop);
        let known = extensions.iter().all(|e| {
            *e == required
                || e.extension_type() == ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)
                || (with_roles
                    && e.extension_type() == ExtensionType::Unknown(ROLES_EXTENSION_TYPE))
                || (with_workshop
                    && e.extension_type() == ExtensionType::Unknown(WORKSHOP_EXTENSION_TYPE))
        });
        let proposed = Context::read(extensions)?;
        if !known
            || proposed.roles.is_some() != with_roles
            || proposed.workshop.is_some() != with_workshop
        {
            return Err(MlsError::UnsupportedProposal);
        }
        if let (Some(now), Some(then)) = (&self.workshop, &proposed.workshop) {
            if !same_room(now, then) {
                return Err(MlsError::UnsupportedProposal);
            }
        }
        Ok(proposed)
    }
}

/// Whether two specs describe the same room of the same workshop (its roster and policies
/// may differ): a commit must not turn a caucus into the plenary, nor move it to another
/// workshop, nor change which groups are its rooms.
fn same_room(now: &WorkshopSpec, then: &WorkshopSpec) -> bool {
    now.id() == then.id()
        && now.room() == then.room()
        && now.sides() == then.sides()
        && now.rooms() == then.rooms()
}
