//! Joining groups: a Welcome is staged first so the client can vet the group's members
//! against its pinned identities, then turned into a group.

use openmls::prelude::tls_codec::*;
use openmls::prelude::{MlsMessageBodyIn, MlsMessageIn, StagedWelcome};
use openmls_traits::OpenMlsProvider;

use super::context::Context;
use super::engine::{group_id_of, join_config, Mls, SUITE};
use super::errors::MlsError;
use super::members::{collect_members, Member};
use super::GroupId;
use crate::workshop::WorkshopSpec;

/// A decrypted, validated Welcome not yet turned into a group.
pub struct IncomingWelcome {
    group_id: GroupId,
    members: Vec<Member>,
    sender: Option<Member>,
    workshop: Option<WorkshopSpec>,
    staged: Box<StagedWelcome>,
}

impl IncomingWelcome {
    /// The id of the group the Welcome is for.
    pub fn group_id(&self) -> GroupId {
        self.group_id
    }

    /// All members of the group (us included); check each against its pinned identity.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    /// The member who added us.
    pub fn sender(&self) -> Option<&Member> {
        self.sender.as_ref()
    }

    /// The workshop the group is a room of, if it is one.
    pub fn workshop(&self) -> Option<&WorkshopSpec> {
        self.workshop.as_ref()
    }
}

impl std::fmt::Debug for IncomingWelcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingWelcome")
            .field("members", &self.members)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl Mls {
    /// Decrypts and validates a Welcome (TLS-serialized `MlsMessageOut`) with one of our
    /// KeyPackages. The Welcome may be for a group we were removed from (we are added back);
    /// one for a group we are still in fails with [`MlsError::GroupExists`]. This consumes that KeyPackage's private keys in the state (unless it is
    /// the last-resort one), so callers abandoning the join should `discard_changes`.
    pub fn stage_welcome(&mut self, welcome: &[u8]) -> Result<IncomingWelcome, MlsError> {
        self.stage_welcome_replacing(welcome, &[])
    }

    /// [`Mls::stage_welcome`], where a Welcome for one of `left` (groups we asked to leave,
    /// whose state stays active until an admin's commit we no longer read removes us) also
    /// replaces the old state: we are added back.
    pub fn stage_welcome_replacing(
        &mut self,
        welcome: &[u8],
        left: &[GroupId],
    ) -> Result<IncomingWelcome, MlsError> {
        let message =
            MlsMessageIn::tls_deserialize_exact_bytes(welcome).map_err(|_| MlsError::Malformed)?;
        let MlsMessageBodyIn::Welcome(welcome) = message.extract() else {
            return Err(MlsError::Malformed);
        };
        if welcome.ciphersuite() != SUITE {
            return Err(MlsError::UnsupportedCiphersuite);
        }
        let builder = StagedWelcome::build_from_welcome(&self.provider, &join_config(), welcome)?;
        let group_id = group_id_of(
            builder
                .processed_welcome()
                .unverified_group_info()
                .group_id(),
        )?;
        // A group we were removed from can be joined again (someone added us back): its old
        // state goes, so nothing of the earlier membership mixes with the new one. Until the
        // caller takes the changes, `discard_changes` brings the old state back.
        match self.take_group(&group_id) {
            Ok(group) if group.is_active() && !left.contains(&group_id) => {
                self.keep(group_id, group);
                return Err(MlsError::GroupExists);
            }
            // Taken out of the kept groups for good: the storage no longer holds it.
            Ok(mut group) => group
                .delete(self.provider.storage())
                .map_err(|_| MlsError::Internal("deleting a left group"))?,
            Err(_) => {}
        }
        let staged = builder.build()?;
        if group_id_of(staged.group_context().group_id())? != group_id {
            return Err(MlsError::InvalidMessage);
        }
        let members = collect_members(staged.members())?;
        let sender = staged
            .welcome_sender()
            .ok()
            .map(Member::from_leaf)
            .transpose()?;
        // A group whose context we cannot read is not joined: we could not tell who may
        // change it.
        let workshop = Context::read(staged.group_context().extensions())?.workshop;
        Ok(IncomingWelcome {
            group_id,
            members,
            sender,
            workshop,
            staged: Box::new(staged),
        })
    }

    /// Joins the group of a staged Welcome; returns its id.
    pub fn join(&mut self, welcome: IncomingWelcome) -> Result<GroupId, MlsError> {
        if self.has_group(&welcome.group_id) {
            return Err(MlsError::GroupExists);
        }
        let group = welcome.staged.into_group(&self.provider)?;
        self.keep(welcome.group_id, group);
        Ok(welcome.group_id)
    }
}
