//! Sending: messages and membership changes. The top layer below the public front: it reads
//! a group (receive) before posting to it, and checks members (trust) before writing.

pub(crate) mod document;
pub(crate) mod leave;
pub(crate) mod membership;
pub(crate) mod message;
pub(crate) mod outbox;
pub(crate) mod recreate;
