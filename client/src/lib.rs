//! The Parley client library: local state, the relay connection, and the conversation API.
//!
//! A [`Client`] is one identity (a handle on one relay) and its conversations. Every
//! conversation, 1:1 included, is an MLS group; the relay only ever sees padded ciphertext.
//! Contacts' identity keys are pinned on first use and checked for every member of every
//! conversation; a change blocks the conversation instead of being accepted silently.
//!
//! ```no_run
//! use parley_client::{Client, Passphrase};
//!
//! # async fn demo() -> Result<(), parley_client::ClientError> {
//! // Everything under the home directory is encrypted under a key the passphrase unlocks.
//! let alice = Client::builder()
//!     .home("/tmp/alice")
//!     .passphrase(Passphrase::new("alice's long passphrase".to_owned()))
//!     .relay("https://relay.example:4433")
//!     .relay_fingerprint("3f1c…the 64 hex digits the relay printed…")
//!     .build()
//!     .await?;
//! alice.register("alice").await?;
//!
//! let bob = Client::builder()
//!     .home("/tmp/bob")
//!     .passphrase(Passphrase::new("bob's long passphrase".to_owned()))
//!     .relay("https://relay.example:4433")
//!     .build()
//!     .await?;
//! bob.register("bob").await?;
//!
//! // Alice starts a 1:1 simply by writing to Bob's handle; Bob may be offline.
//! alice.send_text("bob", "hi Bob").await?;
//!
//! // Later Bob syncs: he joins the conversation (named "alice" on his side) and reads it.
//! for message in bob.sync().await? {
//!     println!("{}: {}", message.sender, message.text);
//! }
//! bob.send_text("alice", "hi Alice").await?;
//!
//! // Compare this in person to rule out a relay that swapped keys.
//! println!("{}", alice.safety_number("bob").await?);
//! # Ok(())
//! # }
//! ```
//!
//! For live updates, [`Client::events`] yields new messages, membership changes and alerts
//! as the relay pushes them.

#![forbid(unsafe_code)]

mod builder;
mod client;
mod clock;
mod commits;
mod contacts;
mod conversations;
mod error;
mod events;
mod failpoint;
mod groups;
mod held;
mod identity;
mod inbox;
mod keypackages;
mod message;
mod migration;
mod naming;
mod quarantine;
mod sending;
mod store;
#[cfg(feature = "test-support")]
mod test_support;
mod unread;
mod verification;

pub mod relay;

pub use builder::ClientBuilder;
pub use client::Client;
pub use conversations::{ConversationInfo, ConversationKind, MemberInfo};
pub use error::ClientError;
pub use events::Event;
pub use identity::WhoAmI;
pub use message::{Message, MessageBody, MessageId};
pub use parley_crypto::vault::{KdfParams, Passphrase};
pub use quarantine::QuarantinedMessage;
pub use relay::RelayError;
pub use store::StoreError;
pub use verification::{ContactInfo, GroupCode, SafetyNumberView, Verification};
