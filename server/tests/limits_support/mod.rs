//! Helpers of the limits, metrics and flood tests: clients bound to a chosen loopback source
//! address, limits that stay out of the way, and inbox round trips.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::IpAddr;
use std::path::Path;
use std::time::Duration;

use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::DepositRequest;
use parley_relay::LimitsConfig;
use parley_testkit::TestRelay;
use tonic::transport::Channel;
use tonic::Status;

/// The address well-behaved test clients connect from.
pub const CALM: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
/// The address flooding test clients connect from.
pub const FLOODER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// Clients on a new connection from a chosen loopback source address, which the relay's
/// per-source limits count apart.
pub trait FromSource {
    /// A Directory client connected from `source`.
    async fn directory_from(&self, source: IpAddr) -> DirectoryClient<Channel>;
    /// An Inbox client connected from `source`.
    async fn inbox_from(&self, source: IpAddr) -> InboxClient<Channel>;
}

impl FromSource for TestRelay {
    async fn directory_from(&self, source: IpAddr) -> DirectoryClient<Channel> {
        DirectoryClient::new(self.channel_from(source).await)
    }

    async fn inbox_from(&self, source: IpAddr) -> InboxClient<Channel> {
        InboxClient::new(self.channel_from(source).await)
    }
}

/// A plaintext relay with `limits`, the relay of the limits tests.
pub fn limited(limits: LimitsConfig) -> TestRelay {
    TestRelay::builder().plaintext().limits(limits).start()
}

/// [`limited`], keeping its data in `dir`: for the tests that look at the files or open the
/// same data again.
pub fn relay_in(dir: &Path, limits: LimitsConfig) -> TestRelay {
    TestRelay::builder()
        .plaintext()
        .limits(limits)
        .data_dir(dir)
        .start()
}

/// Limits that never get in the way, to be tightened one at a time.
pub fn generous() -> LimitsConfig {
    LimitsConfig {
        source_requests_per_second: 0,
        key_package_claims_per_minute: 0,
        key_package_claims_per_source_per_minute: 0,
        ..LimitsConfig::default()
    }
}

pub async fn deposit(
    inbox: &mut InboxClient<Channel>,
    handle: &str,
    envelope: Vec<u8>,
) -> Result<(), Status> {
    inbox
        .deposit(DepositRequest {
            handle: handle.into(),
            envelope,
        })
        .await
        .map(|_| ())
}

/// The `p`-th percentile (0-100) of `samples`, which it sorts.
pub fn percentile(samples: &mut [Duration], p: f64) -> Duration {
    samples.sort();
    let rank = ((p / 100.0) * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Bytes of the files under `dir`.
pub fn disk_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                disk_bytes(&entry.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

/// Calls of a flooding client, by outcome.
#[derive(Default)]
pub struct CallCounts {
    pub ok: std::sync::atomic::AtomicU64,
    pub exhausted: std::sync::atomic::AtomicU64,
    pub other: std::sync::atomic::AtomicU64,
}

impl CallCounts {
    /// Counts one call's outcome.
    pub fn count<T>(&self, result: &Result<T, Status>) {
        let counter = match result {
            Ok(_) => &self.ok,
            Err(status) if status.code() == tonic::Code::ResourceExhausted => &self.exhausted,
            Err(_) => &self.other,
        };
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    }
}
