//! The manual: how the library is meant to be used, and why it behaves as it does.
//!
//! This module holds no code; each part is a chapter. Three runnable programs in
//! `client/examples/` show the API end to end: `send_once` (send one message and exit),
//! `echo_bot` (follow events and answer), and `verified_group` (create a group only from
//! verified contacts and print its code); `cargo test` runs them against a test relay.
//!
//! - [`identity`]: a client, its handle, the relay, and the encrypted store.
//! - [`trust`]: pinned keys, safety numbers, group codes, and what a changed key blocks.
//! - [`conversations`]: 1:1s and groups, their names, the one resolver, membership.
//! - [`receiving`]: sync, the event stream, unread marks.
//! - [`workshops`]: Track II workshops: rooms, roster, the negotiating text, the record.
//! - [`errors`]: what fails, what to show, what to retry.
//! - [`testing`]: running against a relay in tests, and moving time.

pub mod conversations;
pub mod errors;
pub mod identity;
pub mod receiving;
pub mod testing;
pub mod trust;
pub mod workshops;
