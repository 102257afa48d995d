//! # Trust: pins, safety numbers, group codes
//!
//! The first time a client meets a handle (a message from them, an invitation, a lookup),
//! it pins the identity key the directory shows (trust on first use). From then on every
//! key is checked against the pin: a directory record, a KeyPackage, every member of every
//! group. A different key is never adopted silently: the contact turns
//! [`Verification::Changed`](crate::Verification::Changed), an
//! [`Alert::KeyChanged`](crate::Alert::KeyChanged) is raised, and
//!
//! - nothing is sent to them, nor to any conversation they are in (a 1:1 fails with
//!   [`ClientError::KeyChanged`](crate::ClientError::KeyChanged), a group with
//!   [`ClientError::MemberKeyChanged`](crate::ClientError::MemberKeyChanged)), and they
//!   cannot be added anywhere;
//! - what they send with the new key is held, unread, until the user decides.
//!
//! The user decides after comparing the 60-digit safety number
//! ([`Client::verification`](crate::Client::verification)) in person or on a call:
//! [`Client::confirm_verified`](crate::Client::confirm_verified) when the digits match, or
//! [`Client::accept_new_key`](crate::Client::accept_new_key) to take the key unverified.
//! Either retires the 1:1s that hold the old key (kept read-only as "`bob (old key)`", and
//! closed at the relay so the other side stops using them) and processes what was held.
//! A group that holds the old key stays blocked until the member is removed and added again.
//!
//! [`Client::group_code`](crate::Client::group_code) gives one code over a whole roster and
//! MLS epoch, for a room to compare at once: members who see the same code see the same
//! members with the same keys. If the relay shows members different histories, their codes
//! differ, and clients that keep failing to read their current epoch raise
//! [`Alert::ForkSuspected`](crate::Alert::ForkSuspected).
