//! Parley's cryptography, sans-I/O: it takes bytes, an RNG and the time, and returns bytes
//! and state. No sockets, no disk, no clock, no OS randomness it was not handed.
//!
//! The relay uses this crate without the `mls` feature (it never links OpenMLS); the client
//! enables `mls` for the conversation engine.

#![forbid(unsafe_code)]

pub mod access;
pub mod auth;
pub mod clock;
pub mod directory;
pub mod document;
pub mod envelope;
pub mod group_code;
pub mod handle;
pub mod identity;
pub mod inbox_message;
pub mod padding;
pub mod payload;
pub mod retention;
pub mod roles;
pub mod rotation;
pub mod safety_number;
pub mod vault;
pub mod workshop;

#[cfg(feature = "mls")]
pub mod mls;
