//! # Conversations and their names
//!
//! Every conversation is an MLS group. The API names a conversation by a
//! [`ConversationId`](crate::ConversationId): a 1:1 by the other person's
//! [`Handle`](crate::Handle), a group by its [`GroupId`](crate::GroupId). A group can
//! therefore never stand for a person, whatever it is called.
//!
//! People type names, and [`Client::resolve`](crate::Client::resolve) is the one place that
//! turns them into ids:
//!
//! - `@bob` is the person bob;
//! - `alice/talks` is the group alice added us to under the name "talks" (the inviter is
//!   the authenticated sender of the invitation, and handles contain no `/`, so nobody else
//!   can make such a name); our own groups also answer to `me/name`;
//! - a bare `bob` is the 1:1 with bob or our group called "bob", whichever exists. When both
//!   exist, or when bob is a handle we have no 1:1 with while someone else's group carries
//!   that name, the name is refused with
//!   [`ClientError::AmbiguousName`](crate::ClientError::AmbiguousName), which lists what to
//!   type instead. It is never resolved silently.
//!
//! Local names, as [`Client::conversations`](crate::Client::conversations) lists them, follow
//! the same rule: our groups by their name, others' as `inviter/name`, 1:1s by the handle.
//! The same group may be `alice/team` for one member and `bob/team` for another whom bob
//! added.
//!
//! A 1:1 has exactly two members and never grows: clients refuse a commit that adds to one.
//! When two people start a 1:1 with each other at the same moment, both hold two groups;
//! both are read, their histories are shown as one, and both sides send to the lower group
//! id, so they converge.
//!
//! Joining a conversation and every change of its members are entries of its history
//! ([`MessageBody::Joined`](crate::MessageBody::Joined),
//! [`MessageBody::MembershipChanged`](crate::MessageBody::MembershipChanged)), shown to every
//! member in the same order as the messages around them. Anyone may be removed and added
//! back; the group then continues for them from the moment they are back.
//!
//! Only a group's admins change who is in it. The creator starts as the only admin;
//! [`Client::promote`](crate::Client::promote) makes another
//! ([`MessageBody::Promoted`](crate::MessageBody::Promoted) tells everyone), and
//! [`Client::admins`](crate::Client::admins) lists them. Adding, removing or promoting as
//! anyone else fails with [`ClientError::NotAdmin`](crate::ClientError::NotAdmin), which names
//! whom to ask; a commit doing so from a member's modified software is refused by every
//! other member's client. Anyone may [`leave`](crate::Client::leave_group): the others see
//! that they left, and the next admin to sync removes them. The only admin of a group others
//! are still in must promote someone first
//! ([`ClientError::LastAdmin`](crate::ClientError::LastAdmin)). 1:1s have no admins.
//!
//! A conversation can become read-only: a group we were removed from, or a 1:1 retired after
//! the person's key changed and the new key was accepted (listed as `bob (old key)`; the
//! person is written to under their handle, in a new 1:1). Its history stays readable.
//! [`ConversationInfo::state`](crate::ConversationInfo::state) says so, so that an application
//! offers no way to write there (a half-typed message must not wait in a box that cannot
//! send); [`Client::send_text`](crate::Client::send_text) refuses such a send in any case,
//! with [`ClientError::NotAMember`](crate::ClientError::NotAMember) or
//! [`ClientError::Retired`](crate::ClientError::Retired).
