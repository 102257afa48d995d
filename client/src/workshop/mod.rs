//! Workshops: the Track II room as linked MLS conversations (the plenary, a caucus per side,
//! the facilitators' room), whose roster and policies live in every room's group context;
//! the single negotiating text; and the record for the official track.

pub(crate) mod attribution;
pub(crate) mod change;
pub(crate) mod create;
pub mod diff;
pub mod export;
pub(crate) mod locate;
pub(crate) mod negotiating;
pub(crate) mod record;
pub mod text;
pub(crate) mod vetting;
pub(crate) mod view;
