//! Trust: pinning contacts' keys on first use, checking every member against the pins,
//! and the user's decisions about changed keys (verify, accept). Above the state layer;
//! below pending commits, receiving and sending, which all check members through it.

pub(crate) mod contacts;
pub(crate) mod own_record;
pub(crate) mod rekey;
pub(crate) mod rotation;
pub(crate) mod verification;
