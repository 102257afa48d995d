//! The rooms of a workshop: groups whose context carries the workshop (its rooms, roster and
//! policies, see [`crate::workshop`]). Only a facilitator changes a room; a change of the
//! roster and the matching change of who is in the room go in one commit, so that every
//! member always finds the room holding only people the roster puts there.

use openmls::prelude::{KeyPackage, LeafNodeIndex};

use super::context::Context;
use super::engine::Mls;
use super::errors::MlsError;
use super::group::OutgoingCommit;
use super::members::{collect_members, Member};
use super::GroupId;
use crate::access::AccessKey;
use crate::handle::Handle;
use crate::retention::Retention;
use crate::workshop::{Role, WorkshopSpec};

/// Refuses a room that would hold someone its workshop's roster does not put in it.
pub(crate) fn check_roster(spec: &WorkshopSpec, members: &[Handle]) -> Result<(), MlsError> {
    let expected = spec.expected_members();
    match members.iter().find(|m| !expected.contains(m)) {
        Some(stranger) => Err(MlsError::NotInRoster(stranger.clone())),
        None => Ok(()),
    }
}

impl Mls {
    /// Creates the room of a workshop that `spec` describes (its `room`), with us, a
    /// facilitator, as its only member; returns the access key of epoch 0.
    pub fn create_workshop_room(
        &mut self,
        group_id: GroupId,
        retention: Retention,
        spec: WorkshopSpec,
    ) -> Result<AccessKey, MlsError> {
        if spec.role_of(&self.handle) != Some(&Role::Facilitator) {
            return Err(MlsError::NotFacilitator(self.handle.clone()));
        }
        if spec.room_id(spec.room()) != Some(group_id) {
            return Err(MlsError::InvalidWorkshop);
        }
        self.create_with(
            group_id,
            Context {
                retention,
                roles: None,
                workshop: Some(spec),
            },
        )
    }

    /// The workshop a group is a room of, as its context says; `None` for other groups.
    pub fn workshop(&self, group_id: &GroupId) -> Result<Option<WorkshopSpec>, MlsError> {
        self.with_group(group_id, |group| {
            Ok(Context::read(group.extensions())?.workshop)
        })
    }

    /// Stages one commit (facilitators only) that gives the room the roster and policies of
    /// `spec`, adds the owners of `key_packages` and removes the members `remove`; refused
    /// if the room would then hold someone the roster does not put in it.
    pub fn change_workshop(
        &mut self,
        group_id: &GroupId,
        spec: WorkshopSpec,
        key_packages: &[Vec<u8>],
        remove: &[Handle],
    ) -> Result<OutgoingCommit, MlsError> {
        self.with_active(group_id, |group| {
            let context = Context::read(group.extensions())?;
            if context.workshop.is_none() {
                return Err(MlsError::NotAWorkshop);
            }
            self.require_admin(&context)?;
            let present = collect_members(group.members())?;
            let mut leaves: Vec<LeafNodeIndex> = Vec::with_capacity(remove.len());
            for handle in remove {
                let index = self.leaf_to_remove(group, handle)?;
                if !leaves.contains(&index) {
                    leaves.push(index);
                }
            }
            let mut after: Vec<Handle> = present
                .iter()
                .map(|m| m.handle.clone())
                .filter(|h| !remove.contains(h))
                .collect();
            let (parsed, newcomers): (Vec<KeyPackage>, Vec<Member>) = self
                .parse_newcomers(key_packages, &present)?
                .into_iter()
                .unzip();
            after.extend(newcomers.into_iter().map(|m| m.handle));
            check_roster(&spec, &after)?;
            let extensions = Context {
                workshop: Some(spec),
                ..context
            }
            // Checked against the current context as every member will: the same room of the
            // same workshop.
            .extensions()?;
            Context::read(group.extensions())?.read_proposed(&extensions)?;
            self.commit_with(
                group,
                group_id,
                leaves,
                parsed,
                extensions,
                "changing a workshop room",
            )
        })
    }
}
