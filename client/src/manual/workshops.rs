//! # Workshops
//!
//! A workshop is a set of linked groups, its rooms: the plenary (everyone), one caucus per
//! side (that side and the facilitators) and the facilitators' room. The roster (each
//! person's [`Role`](crate::Role)) and the plenary's [`Attribution`](crate::Attribution)
//! policy live in every room's MLS group context, so every member's software holds the same
//! roster and refuses a change from anyone but a facilitator. The facilitator's guide is
//! `docs/WORKSHOPS.md`; the wire format is section 17 of `docs/PROTOCOL.md`.
//!
//! - [`Client::create_workshop`](crate::Client::create_workshop) makes every room from a
//!   [`WorkshopPlan`](crate::WorkshopPlan) (we must be one of its facilitators; at least two
//!   sides) and returns the plenary. Any room's [`ConversationId`](crate::ConversationId)
//!   then stands for the workshop.
//! - [`Client::workshop`](crate::Client::workshop) and
//!   [`Client::workshops`](crate::Client::workshops) describe it as the plenary's state says
//!   ([`Workshop`](crate::Workshop)): rooms, roster with verification status, policies, and
//!   [`Workshop::problems`](crate::Workshop::problems), the rooms that disagree with the
//!   plenary (a change not finished) or that we are missing.
//! - [`Client::change_workshop`](crate::Client::change_workshop) makes a
//!   [`RosterEdit`](crate::RosterEdit) (facilitators only, never to their own place): one
//!   commit per room, the plenary last, each announced as
//!   [`MessageBody::RosterChanged`](crate::MessageBody::RosterChanged). Made again after it
//!   was cut short, the same edit finishes it.
//! - The negotiating text: [`Client::propose_text`](crate::Client::propose_text)
//!   (facilitators; each version carries the previous version's hash),
//!   [`Client::negotiating_text`](crate::Client::negotiating_text),
//!   [`Client::text_versions`](crate::Client::text_versions),
//!   [`Client::text_diff`](crate::Client::text_diff),
//!   [`Client::comment_text`](crate::Client::comment_text) and
//!   [`Client::text_comments`](crate::Client::text_comments).
//! - [`Client::export_workshop`](crate::Client::export_workshop) returns the record as
//!   Markdown (facilitators) and tells the plenary
//!   ([`MessageBody::RecordExported`](crate::MessageBody::RecordExported)).
//!
//! Under the `side` and `none` policies a plenary message is stored under the side or role
//! ([`Sender::Attributed`](crate::Sender::Attributed)), never the handle, our own included.
//! MLS still authenticates every sender to every member's software: the policy binds honest
//! clients and their record, as [`attribution_promise`](crate::attribution_promise) tells
//! the user in plain words. Failures specific to workshops are
//! [`WorkshopError`](crate::WorkshopError)s inside
//! [`ClientError::Workshop`](crate::ClientError::Workshop).
