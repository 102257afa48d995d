//! The passphrase that unlocks a store.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// A passphrase. Wiped when dropped; never printed, cloned or compared.
#[derive(Zeroize, ZeroizeOnDrop)]
pub struct Passphrase(String);

impl Passphrase {
    /// Takes ownership of the text (the caller's `String` is moved, not copied).
    pub fn new(text: String) -> Passphrase {
        Passphrase(text)
    }

    /// Whether the passphrase is empty (callers refuse to create a store with one).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}
