//! Processing group log entries: application messages are decrypted; commits are staged and
//! described (who is added, who is removed) so the client can vet every new leaf against the
//! identity it pinned for that handle before merging.

use openmls::prelude::tls_codec::*;
use openmls::prelude::{
    ContentType, LeafNodeIndex, MlsGroup, MlsMessageIn, ProcessedMessage, ProcessedMessageContent,
    Proposal, Sender, StagedCommit,
};

use super::context::Context;
use super::engine::Mls;
use super::errors::MlsError;
use super::frames::open_bucket_frame;
use super::members::{collect_members, Member};
use super::GroupId;
use crate::handle::Handle;
use crate::retention::Retention;
use crate::workshop::{RosterChange, WorkshopSpec};

/// What a processed group log entry turned out to be.
pub enum Incoming {
    /// An application message: its authenticated sender and plaintext payload.
    Application {
        /// The member that sent (and signed) the message.
        sender: Member,
        /// The decrypted payload (an encoded `Payload`).
        payload: Vec<u8>,
    },
    /// A commit of another member, staged but not merged.
    Commit(IncomingCommit),
    /// A member asks to leave (a proposal removing itself): an admin's commit removes it.
    LeaveRequest(Member),
    /// Nothing to act on: a standalone proposal (Parley sends none), or a message of our
    /// own echoed by the relay (it cannot be decrypted by its author).
    Ignored,
}

impl std::fmt::Debug for Incoming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // The payload is plaintext: only its size may show up in logs.
            Incoming::Application { sender, payload } => f
                .debug_struct("Application")
                .field("sender", sender)
                .field("payload_len", &payload.len())
                .finish(),
            Incoming::Commit(commit) => f.debug_tuple("Commit").field(commit).finish(),
            Incoming::LeaveRequest(member) => f.debug_tuple("LeaveRequest").field(member).finish(),
            Incoming::Ignored => f.write_str("Ignored"),
        }
    }
}

/// A staged commit of another member: inspect it, then merge it with
/// [`Mls::merge_incoming_commit`] (or drop it to refuse the new epoch).
pub struct IncomingCommit {
    group_id: GroupId,
    epoch: u64,
    sender: Option<Member>,
    added: Vec<Member>,
    removed: Vec<Member>,
    rekeyed: Option<Member>,
    retention: Option<Retention>,
    promoted: Vec<Handle>,
    workshop: Option<Box<WorkshopSpec>>,
    roster_changes: Vec<RosterChange>,
    staged: Box<StagedCommit>,
}

impl IncomingCommit {
    /// The committer (None for a commit by a non-member, which Parley does not accept
    /// anyway).
    pub fn sender(&self) -> Option<&Member> {
        self.sender.as_ref()
    }

    /// The members this commit adds; check each against the pinned identity of its handle.
    pub fn added(&self) -> &[Member] {
        &self.added
    }

    /// The members this commit removes.
    pub fn removed(&self) -> &[Member] {
        &self.removed
    }

    /// The committer's new leaf if this commit moves it to another identity key (same
    /// handle): a key rotation, signed by the key it replaces. Check the new key against the
    /// directory's rotations from the pinned one before merging.
    pub fn rekeyed(&self) -> Option<&Member> {
        self.rekeyed.as_ref()
    }

    /// The group's new retention if this commit changes it (tell the members).
    pub fn retention(&self) -> Option<Retention> {
        self.retention
    }

    /// The members this commit makes admins (tell the members).
    pub fn promoted(&self) -> &[Handle] {
        &self.promoted
    }

    /// The room's workshop after this commit, if it changes it (its roster or policies).
    pub fn workshop(&self) -> Option<&WorkshopSpec> {
        self.workshop.as_deref()
    }

    /// What this commit changes in the workshop's roster and policies (tell the room).
    pub fn roster_changes(&self) -> &[RosterChange] {
        &self.roster_changes
    }

    /// Whether this commit removes us from the group.
    pub fn removes_us(&self) -> bool {
        self.staged.self_removed()
    }

    /// N: the epoch the commit starts from; merging moves the group to N+1.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
}

impl std::fmt::Debug for IncomingCommit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncomingCommit")
            .field("epoch", &self.epoch)
            .field("sender", &self.sender)
            .field("added", &self.added)
            .field("removed", &self.removed)
            .field("rekeyed", &self.rekeyed)
            .field("retention", &self.retention)
            .field("promoted", &self.promoted)
            .field("roster_changes", &self.roster_changes)
            .field("removes_us", &self.removes_us())
            .finish_non_exhaustive()
    }
}

impl Mls {
    /// Processes one group log entry (a padded frame). Entries of another epoch, entries
    /// already processed and malformed or forged entries yield typed errors.
    pub fn process(
        &mut self,
        group_id: &GroupId,
        padded_frame: &[u8],
    ) -> Result<Incoming, MlsError> {
        let bytes = open_bucket_frame(padded_frame)?;
        let message = MlsMessageIn::tls_deserialize_exact_bytes(bytes)
            .map_err(|_| MlsError::Malformed)?
            .try_into_protocol_message()
            .map_err(|_| MlsError::Malformed)?;
        if message.group_id().as_slice() != group_id.as_slice() {
            return Err(MlsError::WrongGroup);
        }
        self.with_active(group_id, |group| {
            // The relay only accepts posts in the current epoch, so an entry of another epoch was
            // displaced (reordered or delayed). Application messages of the last few epochs are
            // still readable; a commit or a message from the future never is.
            let past = message.epoch() < group.epoch();
            if message.epoch() > group.epoch()
                || (past && message.content_type() != ContentType::Application)
            {
                return Err(MlsError::WrongEpoch);
            }
            let processed = group.process_message(&self.provider, message)?;
            if past {
                return past_application(group, processed);
            }
            let epoch = processed.epoch().as_u64();
            let sender_index = match processed.sender() {
                Sender::Member(index) => Some(*index),
                _ => None,
            };
            match processed.into_content() {
                ProcessedMessageContent::ApplicationMessage(message) => {
                    let index = sender_index.ok_or(MlsError::InvalidMessage)?;
                    Ok(Incoming::Application {
                        sender: member_at(group, index)?,
                        payload: message.into_bytes(),
                    })
                }
                ProcessedMessageContent::StagedCommitMessage(staged) => {
                    let sender = sender_index.map(|i| member_at(group, i)).transpose()?;
                    describe_commit(group, *group_id, epoch, sender, staged).map(Incoming::Commit)
                }
                // Never stored: a proposal left in the store would ride along in our next commit.
                // Only a member's request to remove itself means anything to Parley.
                ProcessedMessageContent::ProposalMessage(queued) => {
                    match (queued.proposal(), sender_index) {
                        (Proposal::Remove(remove), Some(index)) if remove.removed() == index => {
                            Ok(Incoming::LeaveRequest(member_at(group, index)?))
                        }
                        _ => Err(MlsError::UnsupportedProposal),
                    }
                }
                _ => Ok(Incoming::Ignored),
            }
        })
    }

    /// Merges a commit returned by [`Mls::process`] (after the client vetted its members):
    /// the group moves to the next epoch, or becomes inactive if the commit removes us.
    pub fn merge_incoming_commit(
        &mut self,
        group_id: &GroupId,
        commit: IncomingCommit,
    ) -> Result<(), MlsError> {
        if commit.group_id != *group_id {
            return Err(MlsError::WrongGroup);
        }
        self.with_active(group_id, |group| {
            if group.epoch().as_u64() != commit.epoch {
                return Err(MlsError::WrongEpoch);
            }
            group
                .merge_staged_commit(&self.provider, *commit.staged)
                .map_err(|_| MlsError::Internal("merging commit"))
        })
    }
}

/// An application message of a past epoch, attributed to its sender only if that sender
/// still holds the same leaf: the current tree is all we can name members from, and a leaf
/// taken over since (a removal, then an add) must not lend its new owner's name.
fn past_application(group: &MlsGroup, processed: ProcessedMessage) -> Result<Incoming, MlsError> {
    let Sender::Member(index) = *processed.sender() else {
        return Err(MlsError::InvalidMessage);
    };
    let current = group.member_at(index).ok_or(MlsError::WrongEpoch)?;
    if current.credential != *processed.credential() {
        return Err(MlsError::WrongEpoch);
    }
    let sender = Member::from_openmls(&current)?;
    match processed.into_content() {
        ProcessedMessageContent::ApplicationMessage(message) => Ok(Incoming::Application {
            sender,
            payload: message.into_bytes(),
        }),
        _ => Err(MlsError::WrongEpoch),
    }
}

fn member_at(group: &MlsGroup, index: LeafNodeIndex) -> Result<Member, MlsError> {
    let member = group.member_at(index).ok_or(MlsError::InvalidMessage)?;
    Member::from_openmls(&member)
}

/// Lists who a commit adds and removes, and refuses what Parley never does: changing an
/// existing member's handle, changing a member's identity key other than in its own commit's
/// path (a rotation, which [`IncomingCommit::rekeyed`] reports), group context extensions
/// other than the retention, the admins and the workshop, and proposals beyond
/// add/remove/update/extensions. In a group with admins, only an admin may add, remove or
/// change the admins, and every admin after the commit is a member. In a workshop's room only
/// a facilitator may change anything (who is in it, the roster, a policy, the retention), and
/// after the commit everyone in it belongs there by the roster.
fn describe_commit(
    group: &MlsGroup,
    group_id: GroupId,
    epoch: u64,
    sender: Option<Member>,
    staged: Box<StagedCommit>,
) -> Result<IncomingCommit, MlsError> {
    let current = Context::read(group.extensions())?;
    let mut added = Vec::new();
    let mut removed = Vec::new();
    let mut proposed = None;
    for queued in staged.queued_proposals() {
        match queued.proposal() {
            Proposal::Add(add) => added.push(Member::from_leaf(add.key_package().leaf_node())?),
            Proposal::Remove(remove) => removed.push(member_at(group, remove.removed())?),
            Proposal::Update(update) => {
                let Sender::Member(index) = queued.sender() else {
                    return Err(MlsError::UnsupportedProposal);
                };
                same_identity(
                    &member_at(group, *index)?,
                    &Member::from_leaf(update.leaf_node())?,
                )?;
            }
            Proposal::GroupContextExtensions(proposal) => {
                if sender.is_none() || proposed.is_some() {
                    return Err(MlsError::UnsupportedProposal);
                }
                proposed = Some(current.read_proposed(proposal.extensions())?);
            }
            _ => return Err(MlsError::UnsupportedProposal),
        }
    }
    let retention = proposed
        .as_ref()
        .map(|p| p.retention)
        .filter(|r| *r != current.retention);
    // A retention change comes alone, so that members are told of it as such.
    if retention.is_some() && !(added.is_empty() && removed.is_empty()) {
        return Err(MlsError::UnsupportedProposal);
    }
    let changes_context = proposed
        .as_ref()
        .is_some_and(|p| p.roles != current.roles || p.workshop != current.workshop);
    let changes_room = !added.is_empty() || !removed.is_empty() || changes_context;
    if changes_room || retention.is_some() {
        let committer = sender.as_ref().ok_or(MlsError::UnsupportedProposal)?;
        let is_workshop = current.workshop.is_some();
        // In a workshop every change of the room or its policies is the facilitators'; in
        // a plain group the retention stays anyone's to change, the roster the admins'.
        if (changes_room || is_workshop) && !current.may_change(&committer.handle) {
            return Err(if is_workshop {
                MlsError::NotFacilitator(committer.handle.clone())
            } else {
                MlsError::NotAdmin(committer.handle.clone())
            });
        }
    }
    let staying: Vec<Member> = collect_members(group.members())?
        .into_iter()
        .filter(|m| !removed.contains(m))
        .collect();
    let promoted = match &current.roles {
        None => Vec::new(),
        Some(roles) => {
            let after = proposed
                .as_ref()
                .and_then(|p| p.roles.clone())
                .unwrap_or_else(|| roles.clone());
            if after
                .admins()
                .iter()
                .any(|admin| !staying.iter().any(|m| m.handle == *admin))
            {
                return Err(MlsError::AdminsNotMembers);
            }
            after.promoted_since(roles)
        }
    };
    let (workshop, roster_changes) = match &current.workshop {
        None => (None, Vec::new()),
        Some(before) => {
            let after = proposed
                .and_then(|p| p.workshop)
                .unwrap_or_else(|| before.clone());
            let members: Vec<Handle> = staying
                .iter()
                .chain(added.iter())
                .map(|m| m.handle.clone())
                .collect();
            super::workshop::check_roster(&after, &members)?;
            let changes = after.changes_since(before);
            if after == *before {
                (None, changes)
            } else {
                (Some(Box::new(after)), changes)
            }
        }
    };
    let mut rekeyed = None;
    if let Some(leaf) = staged.update_path_leaf_node() {
        let committer = sender.as_ref().ok_or(MlsError::UnsupportedProposal)?;
        let new = Member::from_leaf(leaf)?;
        if new.handle != committer.handle {
            return Err(MlsError::IdentityChanged);
        }
        if new.identity_key != committer.identity_key {
            rekeyed = Some(new);
        }
    }
    Ok(IncomingCommit {
        group_id,
        epoch,
        sender,
        added,
        removed,
        rekeyed,
        retention,
        promoted,
        workshop,
        roster_changes,
        staged,
    })
}

fn same_identity(old: &Member, new: &Member) -> Result<(), MlsError> {
    if old == new {
        Ok(())
    } else {
        Err(MlsError::IdentityChanged)
    }
}
