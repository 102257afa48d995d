//! Why a workshop operation failed, worded for the person using the application.

use parley_crypto::handle::Handle;

/// Why a workshop operation failed. Each message is one sentence meant for the end user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkshopError {
    /// The conversation named is not a room of a workshop.
    #[error("\"{0}\" is not a workshop")]
    NotAWorkshop(String),
    /// Only the workshop's facilitators may change its rooms, roster, policies and text.
    #[error(
        "only a facilitator of {workshop} can do this; ask {}",
        super::handle_list::list_handles(facilitators)
    )]
    NotFacilitator {
        /// The workshop, by its plenary's local name.
        workshop: String,
        /// Its facilitators.
        facilitators: Vec<Handle>,
    },
    /// Whoever creates a workshop facilitates it.
    #[error("you must be one of the facilitators of a workshop you create (add yourself to --facilitators)")]
    CreatorNotFacilitator,
    /// The plan or the change does not describe a valid workshop.
    #[error("{0}")]
    InvalidPlan(String),
    /// The person is not in the workshop's roster.
    #[error("{0} is not in this workshop")]
    NotInRoster(Handle),
    /// The person is in the roster already.
    #[error("{handle} is already in this workshop, as {role}")]
    AlreadyInRoster {
        /// Who.
        handle: Handle,
        /// Their role.
        role: String,
    },
    /// We are not in one of the workshop's rooms we need for the change (a facilitator is in
    /// all of them).
    #[error("you are not in the room {0} of this workshop, so the change cannot be made there")]
    MissingRoom(String),
    /// No version of the negotiating text has been published yet.
    #[error("no version of the negotiating text has been published in {0} yet")]
    NoText(String),
    /// There is no such version.
    #[error("there is no version {version} of the text (the latest is {latest})")]
    UnknownVersion {
        /// The version asked for.
        version: u32,
        /// The latest one.
        latest: u32,
    },
    /// The version has no such paragraph.
    #[error(
        "version {version} of the text has {paragraphs} paragraphs; there is no paragraph {para}"
    )]
    UnknownParagraph {
        /// The version.
        version: u32,
        /// The paragraph asked for.
        para: u32,
        /// How many it has.
        paragraphs: usize,
    },
    /// Another facilitator published this version number first; ours was not taken by
    /// anyone.
    #[error("another facilitator published version {0} first, so yours was not taken; read it, then publish yours again")]
    TextConflict(u32),
    /// A workshop's room cannot be started again as a plain group.
    #[error("{0} is a room of a workshop and cannot be started again as a plain group; a facilitator can create a new workshop")]
    NotRecreatable(String),
    /// Observers read the plenary; they do not speak in it.
    #[error("observers read the plenary of {0}; they do not write in it")]
    ObserverSilent(String),
    /// The text is longer than a version may be.
    #[error(
        "the text is longer than {0} bytes; shorten it (texts that size do not go inline yet)"
    )]
    TextTooLong(usize),
}
