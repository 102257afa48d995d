//! Helpers of the limits, metrics and flood tests: a relay with chosen limits, clients bound
//! to a chosen loopback source address, and inbox round trips.

#![allow(
    dead_code,
    unreachable_pub,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;

use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::DepositRequest;
use parley_relay::{LimitsConfig, Metrics, Relay, RelayConfig, RelayError, TlsSetting};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Channel, Endpoint};
use tonic::Status;

/// The address well-behaved test clients connect from.
pub const CALM: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 1));
/// The address flooding test clients connect from.
pub const FLOODER: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(127, 0, 0, 2));

/// A plaintext relay with chosen limits, serving in the background.
pub struct LimitedRelay {
    pub addr: SocketAddr,
    pub metrics: Metrics,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), RelayError>>,
}

impl LimitedRelay {
    pub async fn start(dir: &Path, limits: LimitsConfig) -> LimitedRelay {
        let relay = Relay::open(RelayConfig {
            data_dir: dir.to_owned(),
            tls: TlsSetting::Plaintext,
            limits,
            ..Default::default()
        })
        .unwrap();
        let metrics = relay.metrics();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(relay.serve(listener, async move {
            let _ = stopped.await;
        }));
        LimitedRelay {
            addr,
            metrics,
            stop: Some(stop),
            task,
        }
    }

    /// A new connection from `source` (a loopback address).
    pub async fn channel_from(&self, source: IpAddr) -> Channel {
        Endpoint::from_shared(format!("http://{}", self.addr))
            .unwrap()
            .local_address(Some(source))
            .connect()
            .await
            .unwrap()
    }

    pub async fn directory(&self, source: IpAddr) -> DirectoryClient<Channel> {
        DirectoryClient::new(self.channel_from(source).await)
    }

    pub async fn inbox(&self, source: IpAddr) -> InboxClient<Channel> {
        InboxClient::new(self.channel_from(source).await)
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        tokio::time::timeout(Duration::from_secs(20), self.task)
            .await
            .expect("relay did not shut down in time")
            .unwrap()
            .unwrap();
    }
}

/// Limits that never get in the way, to be tightened one at a time.
pub fn generous() -> LimitsConfig {
    LimitsConfig {
        source_requests_per_second: 0,
        key_package_claims_per_minute: 0,
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
