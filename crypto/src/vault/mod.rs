//! The client's encrypted local store, sans-I/O: a passphrase unlocks a random store key, and
//! the store key seals every value and hashes every record key.
//!
//! - [`WrappedKey`]: the store key encrypted under Argon2id(passphrase), with the KDF
//!   parameters and salt in a versioned header; the only record the client keeps in the clear.
//! - [`Vault`]: made from the unwrapped [`StoreKey`]; seals values (XChaCha20-Poly1305, bound
//!   to their record key) and turns ids into keyed hashes so that no handle or name shows on
//!   disk.

mod hkdf;
mod params;
mod passphrase;
mod sealed;
mod store_key;
mod wrapped;

pub use params::{KdfParams, ParamsError};
pub use passphrase::Passphrase;
pub use sealed::{OpenError, SealError, Vault, KEY_HASH_LEN, SEALED_OVERHEAD};
pub use store_key::StoreKey;
pub use wrapped::{UnwrapError, WrapError, WrappedKey, WRAPPED_KEY_LEN};
