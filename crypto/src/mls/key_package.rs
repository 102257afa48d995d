//! KeyPackages: creating ours with a lifetime read from the caller's clock, and checking
//! others' against it.
//!
//! OpenMLS also checks lifetimes against the operating system's clock when it parses a
//! KeyPackage; the checks here use the time the caller was given, so that a client's
//! injected clock (and a test's) decides what is expired.

use std::time::Duration;

use openmls::prelude::tls_codec::*;
use openmls::prelude::{
    KeyPackage, Lifetime, MlsMessageBodyIn, MlsMessageIn, MlsMessageOut, ProtocolVersion,
};
use openmls_traits::OpenMlsProvider;

use super::context::leaf_capabilities;
use super::engine::{Mls, SUITE};
use super::errors::MlsError;
use super::frames::{bucket_frame, open_bucket_frame};
use super::members::Member;

/// How long a KeyPackage of ours is valid: OpenMLS's default, twelve weeks.
pub const KEY_PACKAGE_LIFETIME: Duration = Duration::from_secs(84 * 24 * 60 * 60);
/// How far before its creation a KeyPackage is already valid, so that a contact whose clock
/// is a little behind ours can still use it.
pub const KEY_PACKAGE_CLOCK_SKEW: Duration = Duration::from_secs(60 * 60);

/// When a KeyPackage may be used, in whole seconds since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPackageLifetime {
    /// The first second it is valid.
    pub not_before_secs: u64,
    /// The first second it is no longer valid.
    pub not_after_secs: u64,
}

impl KeyPackageLifetime {
    /// The lifetime of a KeyPackage created at `now_ms`.
    pub fn starting_at(now_ms: u64) -> KeyPackageLifetime {
        let now = now_ms / 1000;
        KeyPackageLifetime {
            not_before_secs: now.saturating_sub(KEY_PACKAGE_CLOCK_SKEW.as_secs()),
            not_after_secs: now.saturating_add(KEY_PACKAGE_LIFETIME.as_secs()),
        }
    }

    /// Whether a KeyPackage with this lifetime may be used at `now_ms`.
    pub fn check(&self, now_ms: u64) -> Result<(), MlsError> {
        let now = now_ms / 1000;
        if now >= self.not_after_secs {
            Err(MlsError::KeyPackageExpired)
        } else if now < self.not_before_secs {
            Err(MlsError::KeyPackageNotYetValid)
        } else {
            Ok(())
        }
    }
}

impl Mls {
    /// Creates `count` KeyPackages (TLS-serialized `MlsMessageOut`s, each a padded frame of
    /// exactly a bucket, as the relay requires) valid from `now_ms`
    /// (less [`KEY_PACKAGE_CLOCK_SKEW`]) for [`KEY_PACKAGE_LIFETIME`]; with `last_resort`
    /// they are marked as last-resort packages, which survive being used for a join.
    pub fn generate_key_packages(
        &mut self,
        count: usize,
        last_resort: bool,
        now_ms: u64,
    ) -> Result<Vec<Vec<u8>>, MlsError> {
        let lifetime = KeyPackageLifetime::starting_at(now_ms);
        (0..count)
            .map(|_| {
                let mut builder = KeyPackage::builder().key_package_lifetime(Lifetime::init(
                    lifetime.not_before_secs,
                    lifetime.not_after_secs,
                ));
                // A KeyPackage extension must be listed in its leaf's capabilities, or the
                // package fails validation; the retention one lets groups agree on one.
                builder = builder.leaf_node_capabilities(leaf_capabilities(last_resort));
                if last_resort {
                    builder = builder.mark_as_last_resort();
                }
                let bundle = builder
                    .build(SUITE, &self.provider, &self.signer, self.credential())
                    .map_err(|_| MlsError::Internal("key package creation"))?;
                let bytes = MlsMessageOut::from(bundle.key_package().clone())
                    .tls_serialize_detached()
                    .map_err(|_| MlsError::Internal("key package encoding"))?;
                bucket_frame(&bytes)
            })
            .collect()
    }

    /// Validates a KeyPackage (signatures, Parley's ciphersuite, and its lifetime at `now_ms`)
    /// and returns the handle of its credential and its leaf signature key.
    pub fn inspect_key_package(&self, bytes: &[u8], now_ms: u64) -> Result<Member, MlsError> {
        let key_package = self.parse_key_package(bytes)?;
        lifetime_of(&key_package).check(now_ms)?;
        Member::from_leaf(key_package.leaf_node())
    }

    /// The lifetime a valid KeyPackage declares.
    pub fn key_package_lifetime(&self, bytes: &[u8]) -> Result<KeyPackageLifetime, MlsError> {
        Ok(lifetime_of(&self.parse_key_package(bytes)?))
    }

    /// Parses and validates the KeyPackages of people to add, with the member each names;
    /// refused if one's handle or identity is already among `present` or another
    /// newcomer's: members are addressed by handle, so a second leaf for either must not
    /// get in.
    pub(crate) fn parse_newcomers(
        &self,
        frames: &[Vec<u8>],
        present: &[Member],
    ) -> Result<Vec<(KeyPackage, Member)>, MlsError> {
        let mut newcomers: Vec<(KeyPackage, Member)> = Vec::with_capacity(frames.len());
        for frame in frames {
            let key_package = self.parse_key_package(frame)?;
            let member = Member::from_leaf(key_package.leaf_node())?;
            if present
                .iter()
                .chain(newcomers.iter().map(|(_, m)| m))
                .any(|m| m.handle == member.handle || m.identity_key == member.identity_key)
            {
                return Err(MlsError::AlreadyMember(member.handle));
            }
            newcomers.push((key_package, member));
        }
        Ok(newcomers)
    }

    /// Parses and fully validates a KeyPackage given as a padded frame (OpenMLS checks its
    /// lifetime against the system clock too).
    pub(crate) fn parse_key_package(&self, frame: &[u8]) -> Result<KeyPackage, MlsError> {
        let bytes = open_bucket_frame(frame)?;
        let message =
            MlsMessageIn::tls_deserialize_exact_bytes(bytes).map_err(|_| MlsError::Malformed)?;
        let MlsMessageBodyIn::KeyPackage(key_package) = message.extract() else {
            return Err(MlsError::Malformed);
        };
        let key_package = key_package.validate(self.provider.crypto(), ProtocolVersion::Mls10)?;
        if key_package.ciphersuite() != SUITE {
            return Err(MlsError::UnsupportedCiphersuite);
        }
        Ok(key_package)
    }
}

/// The lifetime of a parsed KeyPackage.
fn lifetime_of(key_package: &KeyPackage) -> KeyPackageLifetime {
    let lifetime = key_package.life_time();
    KeyPackageLifetime {
        not_before_secs: lifetime.not_before(),
        not_after_secs: lifetime.not_after(),
    }
}
