//! Operations on groups we are a member of: creation, our own commits (add, remove; merged
//! or aborted after the relay's verdict), sending, and state queries.

use openmls::prelude::tls_codec::*;
use openmls::prelude::{
    AddMembersError, CreateCommitError, CreateMessageError, Extensions, GroupContext,
    GroupId as MlsGroupId, KeyPackage, LeafNodeIndex, LeafNodeParameters, MlsGroup,
    MlsGroupCreateConfig, MlsMessageOut, NewGroupError, NewSignerBundle, RemoveMembersError,
    SelfUpdateError,
};
use openmls_rust_crypto::MemoryStorageError;
use openmls_traits::OpenMlsProvider;
use std::sync::Arc;

use super::context::{leaf_capabilities, Context};
use super::engine::{access_key_from, join_config, Mls, PAST_EPOCHS, SUITE};
use super::errors::MlsError;
use super::frames::bucket_frame;
use super::members::{collect_members, Member};
use super::GroupId;
use crate::access::AccessKey;
use crate::handle::Handle;
use crate::retention::Retention;
use crate::roles::GroupRoles;

/// A commit of ours, staged locally, to be sent to the relay. Merge it with
/// [`Mls::merge_own_commit`] once the relay accepted it, or drop it with
/// [`Mls::abort_own_commit`] if the relay refused it.
pub struct OutgoingCommit {
    /// N: the epoch the commit starts from (the relay's compare-and-swap value).
    pub epoch: u64,
    /// The commit as a padded frame, ready to be posted to the group log.
    pub commit: Vec<u8>,
    /// The Welcome for the added members (TLS-serialized `MlsMessageOut`), if any. Not padded
    /// here: it travels inside an invitation, which [`crate::envelope::seal_invitation`]
    /// pads to one length for groups of up to a hundred members.
    pub welcome: Option<Vec<u8>>,
    /// The relay access key of epoch N+1, which the commit request announces.
    pub next_access_key: AccessKey,
}

impl std::fmt::Debug for OutgoingCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingCommit")
            .field("epoch", &self.epoch)
            .field("commit_len", &self.commit.len())
            .field("welcome_len", &self.welcome.as_ref().map(Vec::len))
            .field("next_access_key", &self.next_access_key.public_key())
            .finish()
    }
}

impl Mls {
    /// Creates a group with us as its only member and only admin, and `retention` in its
    /// context; returns the access key of epoch 0.
    pub fn create_group(
        &mut self,
        group_id: GroupId,
        retention: Retention,
    ) -> Result<AccessKey, MlsError> {
        let roles = Some(GroupRoles::created_by(self.handle.clone()));
        self.create_with(
            group_id,
            Context {
                retention,
                roles,
                workshop: None,
            },
        )
    }

    /// Creates a group for a 1:1 conversation: no admins, so that either of the two may
    /// close it (nobody can add a third: the client refuses any add to a 1:1).
    pub fn create_direct(
        &mut self,
        group_id: GroupId,
        retention: Retention,
    ) -> Result<AccessKey, MlsError> {
        self.create_with(
            group_id,
            Context {
                retention,
                roles: None,
                workshop: None,
            },
        )
    }

    pub(crate) fn create_with(
        &mut self,
        group_id: GroupId,
        context: Context,
    ) -> Result<AccessKey, MlsError> {
        if self.has_group(&group_id) {
            return Err(MlsError::GroupExists);
        }
        let config = MlsGroupCreateConfig::builder()
            .ciphersuite(SUITE)
            .wire_format_policy(join_config().wire_format_policy())
            .padding_size(join_config().padding_size())
            .max_past_epochs(PAST_EPOCHS)
            .use_ratchet_tree_extension(true)
            .capabilities(leaf_capabilities(false))
            .with_group_context_extensions(context.extensions()?)
            .build();
        let group = MlsGroup::new_with_group_id(
            &self.provider,
            &self.signer,
            &config,
            MlsGroupId::from_slice(&group_id),
            self.credential(),
        )
        .map_err(|e| match e {
            NewGroupError::GroupAlreadyExists => MlsError::GroupExists,
            NewGroupError::StorageError(_) => MlsError::Storage,
            _ => MlsError::Internal("group creation"),
        })?;
        let access_key = self.group_access_key(&group, &group_id)?;
        self.keep(group_id, group);
        Ok(access_key)
    }

    /// Stages a commit adding the owners of `key_packages` (each fully validated first).
    pub fn add_members(
        &mut self,
        group_id: &GroupId,
        key_packages: &[Vec<u8>],
    ) -> Result<OutgoingCommit, MlsError> {
        if key_packages.is_empty() {
            return Err(MlsError::EmptyInput);
        }
        self.with_active(group_id, |group| {
            let context = Context::read(group.extensions())?;
            self.require_admin(&context)?;
            let mut present = collect_members(group.members())?;
            let (parsed, newcomers): (Vec<KeyPackage>, Vec<Member>) = self
                .parse_newcomers(key_packages, &present)?
                .into_iter()
                .unzip();
            present.extend(newcomers);
            if let Some(spec) = &context.workshop {
                let handles: Vec<Handle> = present.iter().map(|m| m.handle.clone()).collect();
                super::workshop::check_roster(spec, &handles)?;
            }
            let (commit, welcome, _) = group
                .add_members(&self.provider, self.signer_for(group), &parsed)
                .map_err(add_error)?;
            self.outgoing(group, group_id, &commit, Some(&welcome))
        })
    }

    /// Stages a commit removing the members with these handles; an admin among them stops
    /// being one in the same commit.
    pub fn remove_members(
        &mut self,
        group_id: &GroupId,
        handles: &[Handle],
    ) -> Result<OutgoingCommit, MlsError> {
        if handles.is_empty() {
            return Err(MlsError::EmptyInput);
        }
        self.with_active(group_id, |group| {
            let context = Context::read(group.extensions())?;
            self.require_admin(&context)?;
            let mut leaves = Vec::with_capacity(handles.len());
            let mut roles = context.roles.clone();
            for handle in handles {
                let index = self.leaf_to_remove(group, handle)?;
                if !leaves.contains(&index) {
                    leaves.push(index);
                }
                if let Some(current) = &roles {
                    if current.is_admin(handle) {
                        roles = Some(
                            current
                                .without(handle)
                                .map_err(|_| MlsError::AdminsNotMembers)?,
                        );
                    }
                }
            }
            if roles == context.roles {
                let (commit, welcome, _) = group
                    .remove_members(&self.provider, self.signer_for(group), &leaves)
                    .map_err(remove_error)?;
                return self.outgoing(group, group_id, &commit, welcome.as_ref());
            }
            let extensions = Context { roles, ..context }.extensions()?;
            self.commit_with(
                group,
                group_id,
                leaves,
                Vec::new(),
                extensions,
                "removing an admin",
            )
        })
    }

    /// The leaf of the member `handle`, to be removed by a commit of ours; never our own.
    pub(crate) fn leaf_to_remove(
        &self,
        group: &MlsGroup,
        handle: &Handle,
    ) -> Result<LeafNodeIndex, MlsError> {
        if *handle == self.handle {
            return Err(MlsError::CannotRemoveSelf);
        }
        group
            .members()
            .find(|m| matches!(Member::from_openmls(m), Ok(member) if member.handle == *handle))
            .map(|m| m.index)
            .ok_or_else(|| MlsError::UnknownMember(handle.clone()))
    }

    /// Stages one commit removing `leaves`, adding `adds` and setting the group context to
    /// `extensions` (the change itself named by `what` in errors).
    pub(crate) fn commit_with(
        &self,
        group: &mut MlsGroup,
        group_id: &GroupId,
        leaves: Vec<LeafNodeIndex>,
        adds: Vec<KeyPackage>,
        extensions: Extensions<GroupContext>,
        what: &'static str,
    ) -> Result<OutgoingCommit, MlsError> {
        let signer = self.signer_for(group);
        let bundle = group
            .commit_builder()
            .propose_removals(leaves)
            .propose_adds(adds)
            .propose_group_context_extensions(extensions)
            .map_err(|_| MlsError::Internal(what))?
            .load_psks(self.provider.storage())
            .map_err(|_| MlsError::Internal(what))?
            .build(self.provider.rand(), self.provider.crypto(), signer, |_| {
                true
            })
            .map_err(|_| MlsError::Internal(what))?
            .stage_commit(&self.provider)
            .map_err(|_| MlsError::Internal(what))?;
        let welcome = bundle.to_welcome_msg();
        let (commit, _, _) = bundle.into_contents();
        self.outgoing(group, group_id, &commit, welcome.as_ref())
    }

    /// Who may change the group: its admins, or a workshop room's facilitators; `None` for
    /// a group made before roles (anyone may change it).
    pub fn admins(&self, group_id: &GroupId) -> Result<Option<Vec<Handle>>, MlsError> {
        self.with_group(group_id, |group| {
            Ok(Context::read(group.extensions())?.changers())
        })
    }

    /// Stages a commit making the member `handle` an admin too (admins only).
    pub fn promote(
        &mut self,
        group_id: &GroupId,
        handle: &Handle,
    ) -> Result<OutgoingCommit, MlsError> {
        self.with_active(group_id, |group| {
            let context = Context::read(group.extensions())?;
            self.require_admin(&context)?;
            let roles = context.roles.as_ref().ok_or(MlsError::NoRoles)?;
            if !collect_members(group.members())?
                .iter()
                .any(|m| m.handle == *handle)
            {
                return Err(MlsError::UnknownMember(handle.clone()));
            }
            let promoted = roles
                .with_admin(handle.clone())
                .map_err(|_| MlsError::AdminsNotMembers)?;
            let extensions = Context {
                roles: Some(promoted),
                ..context
            }
            .extensions()?;
            let (commit, welcome, _) = group
                .update_group_context_extensions(&self.provider, extensions, self.signer_for(group))
                .map_err(|_| MlsError::Internal("promoting a member"))?;
            self.outgoing(group, group_id, &commit, welcome.as_ref())
        })
    }

    /// A proposal removing ourselves, as a padded frame for the group log: we ask to leave,
    /// and an admin's next commit removes us (a member cannot commit its own removal).
    pub fn leave(&mut self, group_id: &GroupId) -> Result<Vec<u8>, MlsError> {
        self.with_active(group_id, |group| {
            let message = group
                .leave_group(&self.provider, self.signer_for(group))
                .map_err(|e| match e {
                    openmls::prelude::LeaveGroupError::GroupStateError(s) => MlsError::from(s),
                    openmls::prelude::LeaveGroupError::StorageError(_) => MlsError::Storage,
                    _ => MlsError::Internal("leaving"),
                })?;
            frame(&message)
        })
    }

    /// Refuses a change only admins (a room's facilitators) may make when we are not one.
    pub(crate) fn require_admin(&self, context: &Context) -> Result<(), MlsError> {
        if context.may_change(&self.handle) {
            Ok(())
        } else if context.workshop.is_some() {
            Err(MlsError::NotFacilitator(self.handle.clone()))
        } else {
            Err(MlsError::NotAdmin(self.handle.clone()))
        }
    }

    /// Whether our leaf in this group still carries the identity a key rotation replaced.
    pub fn on_previous_identity(&self, group_id: &GroupId) -> Result<bool, MlsError> {
        self.with_active(group_id, |group| {
            let Some((key, _)) = &self.previous else {
                return Ok(false);
            };
            Ok(group
                .own_leaf_node()
                .is_some_and(|leaf| leaf.signature_key().as_slice() == key.to_bytes().as_slice()))
        })
    }

    /// Stages a commit moving our leaf to the current identity key (after a rotation): signed
    /// by the previous key, so members see the pinned key endorse the new one.
    pub fn move_to_current_identity(
        &mut self,
        group_id: &GroupId,
    ) -> Result<OutgoingCommit, MlsError> {
        self.with_active(group_id, |group| {
            let Some((_, previous)) = &self.previous else {
                return Err(MlsError::NoPreviousIdentity);
            };
            let bundle = group
                .self_update_with_new_signer(
                    &self.provider,
                    previous,
                    NewSignerBundle {
                        signer: &self.signer,
                        credential_with_key: self.credential(),
                    },
                    LeafNodeParameters::builder()
                        .with_credential_with_key(self.credential())
                        .build(),
                )
                .map_err(|e| match e {
                    SelfUpdateError::GroupStateError(s) => s.into(),
                    SelfUpdateError::StorageError(_) => MlsError::Storage,
                    _ => MlsError::Internal("moving to the current identity"),
                })?;
            self.outgoing(group, group_id, bundle.commit(), None)
        })
    }

    /// Merges our pending commit, after the relay accepted it: the group moves to N+1.
    pub fn merge_own_commit(&mut self, group_id: &GroupId) -> Result<(), MlsError> {
        self.with_active(group_id, |group| {
            if group.pending_commit().is_none() {
                return Err(MlsError::NoPendingCommit);
            }
            group
                .merge_pending_commit(&self.provider)
                .map_err(|_| MlsError::Internal("merging own commit"))
        })
    }

    /// Drops our pending commit, after the relay refused it; the group stays at epoch N.
    /// Doing so without a pending commit is harmless.
    pub fn abort_own_commit(&mut self, group_id: &GroupId) -> Result<(), MlsError> {
        self.with_group(group_id, |group| {
            group.clear_pending_commit(self.provider.storage())?;
            Ok(())
        })
    }

    /// Encrypts an application message; returns the padded frame to post to the group log.
    pub fn encrypt(&mut self, group_id: &GroupId, payload: &[u8]) -> Result<Vec<u8>, MlsError> {
        self.with_active(group_id, |group| {
            let message = group
                .create_message(&self.provider, self.signer_for(group), payload)
                .map_err(|e| match e {
                    CreateMessageError::GroupStateError(s) => MlsError::from(s),
                    _ => MlsError::Internal("message creation"),
                })?;
            frame(&message)
        })
    }

    /// The group's members, in leaf order (us included).
    pub fn members(&self, group_id: &GroupId) -> Result<Vec<Member>, MlsError> {
        self.with_group(group_id, |group| {
            let members = self
                .members
                .get_or_derive(group_id, group, || collect_members(group.members()))?;
            Ok(members.as_ref().clone())
        })
    }

    /// The member in the group's first leaf: its creator, unless the creator was removed
    /// and the leaf is empty (`None`) or was given to someone added later.
    pub fn founder(&self, group_id: &GroupId) -> Result<Option<Member>, MlsError> {
        self.with_group(group_id, |group| {
            group
                .member_at(LeafNodeIndex::new(0))
                .map(|m| Member::from_openmls(&m))
                .transpose()
        })
    }

    /// The group's current epoch.
    pub fn epoch(&self, group_id: &GroupId) -> Result<u64, MlsError> {
        self.with_group(group_id, |group| Ok(group.epoch().as_u64()))
    }

    /// Whether we are still a member; false once we merged a commit removing us.
    pub fn is_active(&self, group_id: &GroupId) -> Result<bool, MlsError> {
        self.with_group(group_id, |group| Ok(group.is_active()))
    }

    /// The relay access key of the current epoch (derived once per epoch, then shared).
    pub fn access_key(&self, group_id: &GroupId) -> Result<Arc<AccessKey>, MlsError> {
        self.with_active(group_id, |group| {
            self.access_keys
                .get_or_derive(group_id, group, || self.group_access_key(group, group_id))
        })
    }

    /// The current epoch's authenticator, which members can compare out of band to detect
    /// a split view of the group.
    pub fn epoch_authenticator(&self, group_id: &GroupId) -> Result<Vec<u8>, MlsError> {
        self.with_active(group_id, |group| {
            Ok(group.epoch_authenticator().as_slice().to_vec())
        })
    }

    fn group_access_key(
        &self,
        group: &MlsGroup,
        group_id: &GroupId,
    ) -> Result<AccessKey, MlsError> {
        access_key_from(
            |label, context, len| {
                group
                    .export_secret(self.provider.crypto(), label, context, len)
                    .map_err(|_| MlsError::NotAMember)
            },
            group_id,
        )
    }

    /// Packages a freshly staged commit. The next access key comes straight from the
    /// staged commit's exporter: it is the secret the group will have after merging, so no
    /// scratch copy of the state is needed.
    pub(crate) fn outgoing(
        &self,
        group: &MlsGroup,
        group_id: &GroupId,
        commit: &MlsMessageOut,
        welcome: Option<&MlsMessageOut>,
    ) -> Result<OutgoingCommit, MlsError> {
        let staged = group
            .pending_commit()
            .ok_or(MlsError::Internal("staging commit"))?;
        let next_access_key = access_key_from(
            |label, context, len| {
                staged
                    .export_secret(self.provider.crypto(), label, context, len)
                    .map_err(|_| MlsError::Internal("exporter of staged commit"))
            },
            group_id,
        )?;
        let welcome = welcome
            .map(|w| {
                w.tls_serialize_detached()
                    .map_err(|_| MlsError::Internal("welcome encoding"))
            })
            .transpose()?;
        Ok(OutgoingCommit {
            epoch: group.epoch().as_u64(),
            commit: frame(commit)?,
            welcome,
            next_access_key,
        })
    }
}

/// A handshake or application message as a padded frame for the group log.
fn frame(message: &MlsMessageOut) -> Result<Vec<u8>, MlsError> {
    let bytes = message
        .tls_serialize_detached()
        .map_err(|_| MlsError::Internal("message encoding"))?;
    bucket_frame(&bytes)
}

fn add_error(e: AddMembersError<MemoryStorageError>) -> MlsError {
    match e {
        AddMembersError::GroupStateError(s) => s.into(),
        AddMembersError::StorageError(_) => MlsError::Storage,
        // The key packages' leaves clash with the group (e.g. an identity already in it).
        AddMembersError::CreateCommitError(CreateCommitError::ProposalValidationError(_)) => {
            MlsError::InvalidKeyPackage
        }
        _ => MlsError::Internal("adding members"),
    }
}

fn remove_error(e: RemoveMembersError<MemoryStorageError>) -> MlsError {
    match e {
        RemoveMembersError::GroupStateError(s) => s.into(),
        RemoveMembersError::StorageError(_) => MlsError::Storage,
        RemoveMembersError::CreateCommitError(CreateCommitError::CannotRemoveSelf) => {
            MlsError::CannotRemoveSelf
        }
        _ => MlsError::Internal("removing members"),
    }
}
