//! The agreed retention in the group context: reading it, changing it by a commit, and
//! dropping the secrets of past epochs once what they protected has expired. A member whose
//! leaf does not list the extension (software from before it) makes the change fail with
//! [`MlsError::RetentionUnsupported`].

use openmls::prelude::{
    CreateCommitError, CreateGroupContextExtProposalError,
    GroupContextExtensionsProposalValidationError, MlsGroup,
};
use openmls::treesync::errors::LeafNodeValidationError;
use openmls_rust_crypto::MemoryStorageError;
use openmls_traits::OpenMlsProvider;

use super::context::Context;
use super::engine::{join_config, join_config_keeping, Mls};
use super::errors::MlsError;
use super::group::OutgoingCommit;
use super::GroupId;
use crate::retention::Retention;

impl Mls {
    /// The group's agreed retention.
    pub fn retention(&self, group_id: &GroupId) -> Result<Retention, MlsError> {
        self.with_group(group_id, |group| {
            Ok(Context::read(group.extensions())?.retention)
        })
    }

    /// Stages a commit changing the group's retention (every member processes it, and the
    /// client tells them). [`MlsError::RetentionUnsupported`] if a member's leaf does not
    /// list the extension.
    pub fn set_retention(
        &mut self,
        group_id: &GroupId,
        retention: Retention,
    ) -> Result<OutgoingCommit, MlsError> {
        self.with_active(group_id, |group| {
            let current = Context::read(group.extensions())?;
            // In a workshop's room a policy is the facilitators' to change.
            if current.workshop.is_some() {
                self.require_admin(&current)?;
            }
            // The admins stay as they are: only the retention changes.
            let extensions = Context {
                retention,
                ..current
            }
            .extensions()?;
            let (commit, welcome, _) = group
                .update_group_context_extensions(&self.provider, extensions, self.signer_for(group))
                .map_err(retention_error)?;
            self.outgoing(group, group_id, &commit, welcome.as_ref())
        })
    }

    /// Drops the secrets of every past epoch of the group at once (they would otherwise be
    /// kept for three more epochs, to read late messages): called once everything sent in
    /// those epochs has expired.
    pub fn forget_past_epochs(&mut self, group_id: &GroupId) -> Result<(), MlsError> {
        self.with_active(group_id, |group: &mut MlsGroup| {
            let storage = self.provider.storage();
            // Shrinking the window drops the stored past epochs now; widening it again only
            // lets later epochs be kept.
            group.set_configuration(storage, &join_config_keeping(0))?;
            group.set_configuration(storage, &join_config())?;
            Ok(())
        })
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
