//! The random key a store is encrypted under.

use rand_core::CryptoRngCore;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// Length of a store key.
pub(crate) const STORE_KEY_LEN: usize = 32;

/// The 32-byte random key of one store. Wiped when dropped; never printed, cloned or compared.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct StoreKey([u8; STORE_KEY_LEN]);

impl StoreKey {
    /// Draws a fresh key.
    pub fn generate(rng: &mut impl CryptoRngCore) -> StoreKey {
        let mut key = StoreKey([0u8; STORE_KEY_LEN]);
        rng.fill_bytes(&mut key.0);
        key
    }

    /// The raw key, for tests that search the disk for it (`test-support` feature only).
    #[cfg(feature = "test-support")]
    #[doc(hidden)]
    pub fn expose_for_tests(&self) -> [u8; STORE_KEY_LEN] {
        self.0
    }

    pub(crate) fn from_bytes(bytes: [u8; STORE_KEY_LEN]) -> StoreKey {
        StoreKey(bytes)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; STORE_KEY_LEN] {
        &self.0
    }
}
