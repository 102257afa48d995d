//! # Errors
//!
//! Every operation returns a [`ClientError`](crate::ClientError), whose `Display` is one
//! sentence for the end user and whose [`source`](std::error::Error::source) keeps the cause
//! (a [`RelayError`](crate::RelayError), a [`StoreError`](crate::StoreError), a
//! [`CryptoError`](crate::CryptoError)).
//!
//! What to do with them:
//!
//! - [`RelayUnreachable`](crate::ClientError::RelayUnreachable): nothing was sent; try again
//!   later. A commit whose answer was lost is settled by the next sync.
//! - [`KeyChanged`](crate::ClientError::KeyChanged),
//!   [`MemberKeyChanged`](crate::ClientError::MemberKeyChanged),
//!   [`UntrustedMember`](crate::ClientError::UntrustedMember): someone may be impersonating
//!   a contact. Show it loudly; see [`trust`](super::trust).
//! - [`AmbiguousName`](crate::ClientError::AmbiguousName): ask the person which one they
//!   meant; the error lists the names to use.
//! - [`Busy`](crate::ClientError::Busy): others kept changing the group; try again.
//! - Everything else is a mistake in the request (an unknown conversation, an empty message)
//!   or a damaged store.
