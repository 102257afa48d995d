//! The conversation engine over OpenMLS (feature `mls`).
//!
//! Every conversation is an MLS group with ciphersuite
//! `MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519`, ciphertext-only wire format and
//! padded content; Welcomes carry the ratchet tree. A leaf's credential is a BasicCredential
//! holding the member's handle, and its signature key is the member's Ed25519 identity key.
//!
//! The caller never sees OpenMLS types: messages are bytes (group log entries and
//! KeyPackages are padded frames of exactly a bucket; a Welcome is padded with the invitation
//! that carries it), members are [`Member`]s, and all state lives in a key/value map the
//! caller persists through [`Mls::take_changes`].

mod context;
mod engine;
mod epoch_cache;
mod errors;
mod frames;
mod group;
mod incoming;
mod key_package;
mod members;
mod retention;
mod storage;
mod tracked_storage;
mod welcome;
mod workshop;

pub use engine::Mls;
pub use errors::MlsError;
pub use group::OutgoingCommit;
pub use incoming::{Incoming, IncomingCommit};
pub use key_package::{KeyPackageLifetime, KEY_PACKAGE_CLOCK_SKEW, KEY_PACKAGE_LIFETIME};
pub use members::Member;
pub use welcome::IncomingWelcome;

/// The IANA code point of Parley's only ciphersuite,
/// `MLS_128_DHKEMX25519_CHACHA20POLY1305_SHA256_Ed25519`.
pub const CIPHERSUITE: u16 = 0x0003;

/// A group id: 32 random bytes chosen by the group's creator.
pub type GroupId = [u8; 32];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ciphersuite_code_point_matches_openmls() {
        assert_eq!(engine::SUITE as u16, CIPHERSUITE);
    }
}
