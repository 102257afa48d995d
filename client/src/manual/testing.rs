//! # Testing an application
//!
//! Run a real relay on a loopback port (the workspace's `parley-testkit` does it in one
//! line) and point clients at it with `http://127.0.0.1:PORT`, which needs no certificate.
//! Give each client its own temporary home directory, and cheap key derivation
//! ([`KdfParams::insecure_for_tests`](crate::KdfParams::insecure_for_tests)) so tests stay
//! fast.
//!
//! Time is read through a [`Clock`](crate::Clock) that the
//! [builder](crate::ClientBuilder::clock) and the relay accept, so a test can move it instead
//! of sleeping: timestamps, KeyPackage lifetimes, and the relay's challenge and replay
//! windows all follow it.
//!
//! One limit: OpenMLS checks KeyPackage lifetimes against the operating system's clock as
//! well. A KeyPackage is accepted only if both the client's clock and the real time fall in
//! its lifetime (twelve weeks from its creation, and an hour before), so a test that moves
//! clocks far from the real time can show KeyPackages refused
//! ([`ClientError::ContactKeysExpired`](crate::ClientError::ContactKeysExpired)) but not
//! accepted.
