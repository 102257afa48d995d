//! The agreed retention in the group context: reading it, changing it by a commit, and
//! dropping the secrets of past epochs once what they protected has expired.
//!
//! Every leaf of ours (KeyPackages and the leaf of a group we create) lists the retention
//! extension among its capabilities: RFC 9420 lets a group context carry an extension only
//! if every member supports it, so a member whose leaf lacks it (software from before this
//! feature) makes the change fail with [`MlsError::RetentionUnsupported`] instead of being
//! silently left out.

use openmls::prelude::{
    Capabilities, CreateCommitError, CreateGroupContextExtProposalError, Extension, ExtensionType,
    Extensions, GroupContext, GroupContextExtensionsProposalValidationError, MlsGroup,
    RequiredCapabilitiesExtension, UnknownExtension,
};
use openmls::treesync::errors::LeafNodeValidationError;
use openmls_rust_crypto::MemoryStorageError;
use openmls_traits::OpenMlsProvider;

use super::engine::{join_config, join_config_keeping, Mls};
use super::errors::MlsError;
use super::group::OutgoingCommit;
use super::GroupId;
use crate::retention::{Retention, RETENTION_EXTENSION_TYPE};

/// The capabilities of every leaf of ours: the retention extension, and `LastResort` for
/// a last-resort KeyPackage (an extension a KeyPackage carries must be listed too).
pub(crate) fn leaf_capabilities(last_resort: bool) -> Capabilities {
    let mut extensions = vec![ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)];
    if last_resort {
        extensions.push(ExtensionType::LastResort);
    }
    Capabilities::builder().extensions(extensions).build()
}

/// The extension that makes every member's leaf support the retention: RFC 9420 (and
/// OpenMLS) accept an application's group context extension only when the group's required
/// capabilities list it.
fn required_capabilities() -> Extension {
    Extension::RequiredCapabilities(RequiredCapabilitiesExtension::new(
        &[ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)],
        &[],
        &[],
    ))
}

/// The group context extensions that say `retention`: the required capabilities, and the
/// retention unless it is [`Retention::Off`].
pub(crate) fn context_extensions(
    retention: Retention,
) -> Result<Extensions<GroupContext>, MlsError> {
    let mut extensions = vec![required_capabilities()];
    if let Retention::After(_) = retention {
        extensions.push(Extension::Unknown(
            RETENTION_EXTENSION_TYPE,
            UnknownExtension(retention.encode().to_vec()),
        ));
    }
    Extensions::from_vec(extensions).map_err(|_| MlsError::Internal("retention extension"))
}

/// The retention a group context says; an undecodable value is refused, not read as off.
pub(crate) fn retention_in(extensions: &Extensions<GroupContext>) -> Result<Retention, MlsError> {
    match extensions.unknown(RETENTION_EXTENSION_TYPE) {
        None => Ok(Retention::Off),
        Some(UnknownExtension(bytes)) => {
            Retention::decode(bytes).map_err(|_| MlsError::InvalidRetention)
        }
    }
}

/// Whether the group context extensions hold nothing but what [`context_extensions`]
/// writes: a member may change the retention, not make the group require other things.
pub(crate) fn only_retention(extensions: &Extensions<GroupContext>) -> bool {
    let required = required_capabilities();
    extensions.iter().all(|e| {
        *e == required || e.extension_type() == ExtensionType::Unknown(RETENTION_EXTENSION_TYPE)
    })
}

impl Mls {
    /// The group's agreed retention.
    pub fn retention(&self, group_id: &GroupId) -> Result<Retention, MlsError> {
        retention_in(self.load(group_id)?.extensions())
    }

    /// Stages a commit changing the group's retention (every member processes it, and the
    /// client tells them). [`MlsError::RetentionUnsupported`] if a member's leaf does not
    /// list the extension.
    pub fn set_retention(
        &mut self,
        group_id: &GroupId,
        retention: Retention,
    ) -> Result<OutgoingCommit, MlsError> {
        let mut group = self.load_active(group_id)?;
        let extensions = context_extensions(retention)?;
        let (commit, welcome, _) = group
            .update_group_context_extensions(&self.provider, extensions, self.signer_for(&group))
            .map_err(retention_error)?;
        self.outgoing(&group, group_id, &commit, welcome.as_ref())
    }

    /// Drops the secrets of every past epoch of the group at once (they would otherwise be
    /// kept for three more epochs, to read late messages): called once everything sent in
    /// those epochs has expired.
    pub fn forget_past_epochs(&mut self, group_id: &GroupId) -> Result<(), MlsError> {
        let mut group: MlsGroup = self.load_active(group_id)?;
        let storage = self.provider.storage();
        // Shrinking the window drops the stored past epochs now; widening it again only
        // lets later epochs be kept.
        group.set_configuration(storage, &join_config_keeping(0))?;
        group.set_configuration(storage, &join_config())?;
        Ok(())
    }
}

fn retention_error(e: CreateGroupContextExtProposalError<MemoryStorageError>) -> MlsError {
    match e {
        CreateGroupContextExtProposalError::MlsGroupStateError(s) => s.into(),
        CreateGroupContextExtProposalError::StorageError(_) => MlsError::Storage,
        CreateGroupContextExtProposalError::LeafNodeValidation(
            LeafNodeValidationError::UnsupportedExtensions,
        )
        | CreateGroupContextExtProposalError::KeyPackageExtensionSupport(_) => {
            MlsError::RetentionUnsupported
        }
        CreateGroupContextExtProposalError::CreateCommitError(
            CreateCommitError::GroupContextExtensionsProposalValidationError(
                GroupContextExtensionsProposalValidationError::RequiredExtensionNotSupportedByAllMembers,
            ),
        ) => MlsError::RetentionUnsupported,
        _ => MlsError::Internal("changing the retention"),
    }
}
