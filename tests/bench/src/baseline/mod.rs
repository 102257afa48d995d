//! Baselines measured in the same run as the figures they are held against.

pub(crate) mod aead;
pub(crate) mod disk_flush;
pub(crate) mod openmls;
pub(crate) mod sled;
pub(crate) mod tonic_unary;
