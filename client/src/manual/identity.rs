//! # Identity, relay and store
//!
//! A [`Client`](crate::Client) is one person on one relay. It is opened with
//! [`Client::builder`](crate::Client::builder): a home directory, a passphrase, and (for a
//! new identity) the relay's address and the SHA-256 fingerprint of its certificate, which
//! the relay's operator hands out. The builder checks everything in
//! [`build`](crate::ClientBuilder::build): a malformed address or fingerprint fails there
//! with [`ClientError::InvalidRelay`](crate::ClientError::InvalidRelay), a wrong passphrase
//! with [`ClientError::WrongPassphrase`](crate::ClientError::WrongPassphrase), before
//! anything is written.
//!
//! A tool that speaks the relay's gRPC protocol itself (a monitor, a load generator) trusts
//! the relay exactly as the client does with [`pinned_tls_config`](crate::pinned_tls_config):
//! the certificate whose fingerprint was handed out, and no other.
//!
//! [`Client::register`](crate::Client::register) creates the identity: an Ed25519 identity
//! key (which signs everything the person does) and an X25519 inbox key (which others seal
//! invitations to), published in a signed directory record under the person's
//! [`Handle`](crate::Handle). A handle is first come, first served on a relay; only the
//! relay's operator can free it (after a lost laptop), and whoever registers it next shows
//! as a CHANGED key to everyone who knew the old one.
//!
//! Everything in the home directory is encrypted under a random store key, which the
//! passphrase unlocks (Argon2id, 64 MiB by default); record keys are keyed hashes, so the
//! files name no handle, group or message. One process at a time may open a home directory.
//!
//! The relay is contacted only when an operation needs it. It is trusted with availability
//! only: every record it serves is checked against signatures and pins, and everything it
//! stores is padded ciphertext.
