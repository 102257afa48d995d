//! The Parley relay: a gRPC server that stores only ciphertext.
//!
//! It keeps the signed directory records of handles, one-time MLS KeyPackages, per-handle
//! inboxes of sealed envelopes and per-group logs guarded by per-epoch access keys. It holds no
//! secret of any user: every record and envelope is opaque to it, and every request that needs
//! authority carries a signature it can check against public keys it already stores.
//!
//! ```no_run
//! # async fn run() -> Result<(), parley_relay::RelayError> {
//! use parley_relay::{Relay, RelayConfig, TlsSetting};
//!
//! let relay = Relay::open(RelayConfig {
//!     data_dir: "./parley-relay-data".into(),
//!     tls: TlsSetting::SelfSigned,
//!     ..Default::default()
//! })?;
//! println!("pin {:?}", relay.tls_fingerprint());
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:7443").await?;
//! relay.serve(listener, async { let _ = tokio::signal::ctrl_c().await; }).await
//! # }
//! ```

#![forbid(unsafe_code)]

mod clock;
mod compaction;
mod config;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod health;
mod incoming;
mod limits;
pub mod logging;
mod metrics;
mod notify;
#[cfg(feature = "observe")]
pub mod observe;
mod relay;
mod retention;
mod service;
pub mod settings;
mod shutdown;
mod store;
mod tls;
mod tls_reload;

pub use clock::SystemClock;
pub use compaction::{compact, probe_postgres, release_handle, release_handle_postgres};
pub use config::{RelayConfig, StoreSetting, TlsSetting};
pub use error::RelayError;
pub use limits::{InvalidLimit, LimitsConfig};
pub use metrics::{serve_metrics, Metrics};
pub use relay::Relay;
pub use store::{Compacted, FlushPolicy, Released, StoreProbe};
pub use tls::{check_tls, TlsError};
pub use tls_reload::TlsReloader;
