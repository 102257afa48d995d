//! `idle`: registered clients holding their inbox subscription open and doing nothing.

use crate::relay::RelayTarget;
use crate::report::Report;

/// Opens `subscribers` idle subscriptions and measures the relay.
pub(crate) async fn run(
    relay: &RelayTarget,
    subscribers: usize,
    seconds: u64,
) -> anyhow::Result<Report> {
    let _ = (relay, subscribers, seconds);
    anyhow::bail!("idle: not built yet")
}
