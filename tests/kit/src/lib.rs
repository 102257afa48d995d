//! The test kit of Parley's test suites: one real relay on loopback ([`TestRelay`]), a
//! clock that moves only when a test moves it ([`ManualClock`]), and a person with real keys
//! for tests below the client ([`TestUser`]).
//!
//! A [`TestRelay`] is `parley_relay::Relay::open` plus `Relay::serve` on `127.0.0.1`, on a
//! multi-thread tokio runtime of its own. It therefore keeps answering while a synchronous
//! test blocks on the `parley` binary, and it can be started, stopped and restarted from a
//! `#[tokio::test]` (whatever the flavor) as well.
//!
//! ```no_run
//! # async fn example() {
//! use std::time::Duration;
//! use parley_testkit::{ManualClock, TestRelay};
//!
//! let clock = ManualClock::new();
//! let mut relay = TestRelay::builder().plaintext().clock(clock.clone()).start();
//! let _channel = relay.channel().await;
//! clock.advance(Duration::from_secs(120));
//! relay.restart().await;
//! # }
//! ```

#![forbid(unsafe_code)]
// Test support: a set-up that cannot be done fails the test that asked for it, with a message
// naming what failed, as an assertion in the test body would.
#![allow(clippy::expect_used, clippy::panic)]

mod blocking;
mod builder;
mod channel;
mod clock;
mod files;
pub mod postgres;
mod recorder;
mod relay;
mod serving;
mod socks;
mod user;

pub use builder::TestRelayBuilder;
pub use clock::{now_ms, ManualClock};
/// The relay's limits, for [`TestRelayBuilder::limits`].
pub use parley_relay::LimitsConfig;
pub use recorder::{ConnectionLog, ConnectionRecorder, Touch};
pub use relay::TestRelay;
pub use socks::{ProxiedConnection, SocksProxy};
pub use user::{challenge_for, TestUser};
