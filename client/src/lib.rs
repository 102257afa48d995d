//! The Parley client library: local state, the relay connection, and the conversation API.
//!
//! A [`Client`] is one identity (a handle on one relay) and its conversations. Every
//! conversation, 1:1 included, is an MLS group; the relay only ever sees padded ciphertext.
//! Contacts' identity keys are pinned on first use and checked for every member of every
//! conversation; a change blocks the conversations the contact is in instead of being
//! accepted silently. The [`manual`] explains the model: identities and pins, conversations
//! and their names, events, unread marks and errors.
//!
//! ```no_run
//! use parley_client::{Client, Handle, Passphrase};
//!
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // Everything under the home directory is encrypted under a key the passphrase unlocks.
//! let alice = Client::builder()
//!     .home("/tmp/alice")
//!     .passphrase(Passphrase::new("alice's long passphrase".to_owned()))
//!     .relay("https://relay.example:4433")
//!     .relay_fingerprint("3f1c…the 64 hex digits the relay printed…")
//!     .build()
//!     .await?;
//! alice.register(&"alice".parse::<Handle>()?).await?;
//!
//! let bob = Client::builder()
//!     .home("/tmp/bob")
//!     .passphrase(Passphrase::new("bob's long passphrase".to_owned()))
//!     .relay("https://relay.example:4433")
//!     .build()
//!     .await?;
//! let bob_handle: Handle = "bob".parse()?;
//! bob.register(&bob_handle).await?;
//!
//! // Alice starts a 1:1 simply by writing to Bob; Bob may be offline.
//! alice.send_text(&bob_handle.clone().into(), "hi Bob").await?;
//!
//! // Later Bob syncs: he joins the conversation and reads it.
//! for message in bob.sync().await?.written() {
//!     println!("{}: {}", message.sender, message.text().unwrap_or_default());
//! }
//! // A name typed by a person goes through the one resolver.
//! let to_alice = bob.resolve("alice").await?;
//! bob.send_text(&to_alice, "hi Alice").await?;
//!
//! // Compare this in person to rule out a relay that swapped keys.
//! println!("{}", alice.safety_number(&bob_handle).await?);
//! # Ok(())
//! # }
//! ```
//!
//! For live updates, [`Client::events`] yields new entries, membership changes and alerts
//! as the relay pushes them.

#![forbid(unsafe_code)]

mod api;
mod builder;
mod client;
mod events;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
mod keypackages;
pub mod manual;
mod pending;
mod receive;
mod registration;
mod retention;
mod rotation;
mod send;
mod state;
mod sync;
#[cfg(feature = "test-support")]
mod test_support;
mod trust;
pub mod workshop;

pub use api::alert::Alert;
pub use api::conversation::{
    ConversationId, ConversationInfo, ConversationKind, ConversationState, GroupId, GroupIdError,
    MemberInfo,
};
pub use api::document::{DocumentInfo, DocumentMeta, Transfer};
pub use api::error::{ClientError, CryptoError, RelayError, StoreError};
pub use api::event::{Event, SyncReport};
pub use api::fingerprint::Fingerprint;
pub use api::message::{Message, MessageBody, MessageId, Sender};
pub use api::outbox::{OutboxReport, QueuedMessage, SendOutcome};
pub use api::proxy_url::{ProxyUrl, ProxyUrlError};
pub use api::relay_url::{RelayUrl, DEFAULT_PORT};
pub use api::trust::{
    ContactInfo, GroupCode, QuarantinedMessage, RotationReport, SafetyNumberView, WhoAmI,
};
pub use api::verification::Verification;
pub use api::workshop::{
    attribution_promise, Attribution, Participant, Role, Room, RosterEdit, Side, TextCommentInfo,
    TextVersionInfo, Workshop, WorkshopPlan, WorkshopRoom,
};
pub use api::workshop_error::WorkshopError;
pub use builder::ClientBuilder;
pub use client::Client;
pub use parley_crypto::clock::Clock;
pub use parley_crypto::handle::{Handle, HandleError};
pub use parley_crypto::retention::{Retention, RetentionError};
pub use parley_crypto::vault::{KdfParams, Passphrase};
pub use state::clock::SystemClock;
pub use state::relay::tls::pinned_tls_config;
