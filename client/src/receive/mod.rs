//! Receiving: the inbox (invitations), the group logs (messages and commits), and what is
//! held or set aside on the way. Above trust and pending commits; below sending, which
//! reads a group before posting to it.

pub(crate) mod document;
pub(crate) mod group_log;
pub(crate) mod held;
pub(crate) mod inbox;
pub(crate) mod sender;
