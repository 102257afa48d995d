//! The public types of the library: what the [`Client`](crate::Client) takes and returns.
//! Plain data with validation, no I/O; every other module builds on them.

pub(crate) mod alert;
mod as_text;
pub(crate) mod conversation;
pub(crate) mod document;
pub(crate) mod error;
pub(crate) mod event;
pub(crate) mod fingerprint;
mod handle_list;
mod host_port;
pub(crate) mod message;
pub(crate) mod outbox;
pub(crate) mod proxy_url;
pub(crate) mod relay_url;
pub(crate) mod trust;
pub(crate) mod verification;
pub(crate) mod workshop;
pub(crate) mod workshop_error;
