//! Argon2id cost parameters, recorded in the wrapped key so a store can be opened with the
//! parameters it was created with.

use argon2::{Algorithm, Argon2, Params, Version};

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory, in KiB.
    pub memory_kib: u32,
    /// Number of passes over the memory.
    pub passes: u32,
    /// Degree of parallelism.
    pub lanes: u32,
}

/// Why KDF parameters were refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParamsError {
    /// A parameter is outside the accepted range.
    #[error("the key derivation parameters are out of range (memory {min_memory_kib}..={max_memory_kib} KiB, passes {min_passes}..={max_passes}, lanes {min_lanes}..={max_lanes})", min_memory_kib = KdfParams::MIN_MEMORY_KIB, max_memory_kib = KdfParams::MAX_MEMORY_KIB, min_passes = KdfParams::MIN_PASSES, max_passes = KdfParams::MAX_PASSES, min_lanes = KdfParams::MIN_LANES, max_lanes = KdfParams::MAX_LANES)]
    OutOfRange,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane.
    fn default() -> Self {
        KdfParams {
            memory_kib: 64 * 1024,
            passes: 3,
            lanes: 1,
        }
    }
}

impl KdfParams {
    /// Least memory accepted; low enough for [`KdfParams::insecure_for_tests`].
    pub const MIN_MEMORY_KIB: u32 = 1024;
    /// Most memory accepted (4 GiB): a forged header must not make opening exhaust memory.
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    /// Fewest passes accepted.
    pub const MIN_PASSES: u32 = 1;
    /// Most passes accepted, so that a forged header cannot make opening take hours.
    pub const MAX_PASSES: u32 = 64;
    /// Fewest lanes accepted.
    pub const MIN_LANES: u32 = 1;
    /// Most lanes accepted.
    pub const MAX_LANES: u32 = 16;
    /// Length of the encoded parameters.
    pub(crate) const ENCODED_LEN: usize = 12;

    /// 1 MiB and 1 pass: only for tests, which create many stores.
    pub fn insecure_for_tests() -> KdfParams {
        KdfParams {
            memory_kib: 1024,
            passes: 1,
            lanes: 1,
        }
    }

    /// Checks the parameters against the accepted ranges.
    pub fn validate(&self) -> Result<(), ParamsError> {
        let ok = (Self::MIN_MEMORY_KIB..=Self::MAX_MEMORY_KIB).contains(&self.memory_kib)
            && (Self::MIN_PASSES..=Self::MAX_PASSES).contains(&self.passes)
            && (Self::MIN_LANES..=Self::MAX_LANES).contains(&self.lanes);
        if ok {
            Ok(())
        } else {
            Err(ParamsError::OutOfRange)
        }
    }

    /// memory_kib | passes | lanes, each u32 big-endian.
    pub(crate) fn encode(&self) -> [u8; Self::ENCODED_LEN] {
        let mut out = [0u8; Self::ENCODED_LEN];
        out[..4].copy_from_slice(&self.memory_kib.to_be_bytes());
        out[4..8].copy_from_slice(&self.passes.to_be_bytes());
        out[8..].copy_from_slice(&self.lanes.to_be_bytes());
        out
    }

    /// Decodes and validates.
    pub(crate) fn decode(bytes: &[u8; Self::ENCODED_LEN]) -> Result<KdfParams, ParamsError> {
        let word =
            |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
        let params = KdfParams {
            memory_kib: word(0),
            passes: word(4),
            lanes: word(8),
        };
        params.validate()?;
        Ok(params)
    }

    /// The Argon2id (v0x13) instance for these parameters with a 32-byte output.
    pub(crate) fn argon2(&self) -> Result<Argon2<'static>, ParamsError> {
        self.validate()?;
        let params = Params::new(self.memory_kib, self.passes, self.lanes, Some(32))
            .map_err(|_| ParamsError::OutOfRange)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }
}
