//! `idle`: registered clients holding their inbox subscription open and doing nothing, each
//! on its own TLS connection as the client's owner connection is: what one costs the relay.
//!
//! The subscribers speak the wire directly (register, a signed challenge, `Inbox.Subscribe`,
//! as the client library does), without a client store each: ten thousand encrypted stores
//! would measure this machine's disk, not the relay. Their connections come from addresses
//! spread over 127.0.0.0/8, as many people's would.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use futures::{stream, StreamExt, TryStreamExt};
use parley_crypto::auth::{body, owner_transcript, OwnerMethod};
use parley_crypto::handle::Handle;
use parley_crypto::identity::IdentitySecretKey;
use parley_crypto::mls::Mls;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::{
    ChallengeRequest, OwnerAuth, PublishKeyPackagesRequest, SubscribeInboxRequest,
};
use rand::Rng;
use tokio::task::JoinHandle;
use tonic::transport::Channel;

use crate::pinned;
use crate::relay::RelayTarget;
use crate::report::{Figure, Report};

/// Subscribers set up at once.
const PARALLEL_SETUP: usize = 32;
/// Source addresses the connections are spread over (127.0.1.1 onwards): one address
/// has only so many ephemeral ports.
const SOURCES: u32 = 250;
/// The target: what one idle subscriber may cost the relay's resident set.
const TARGET_BYTES: f64 = 64.0 * 1024.0;
/// One-time KeyPackages a client keeps published (`TARGET` in client/src/keypackages.rs).
const KEY_PACKAGES: usize = 25;
/// Time for the relay to settle after the last subscription opened.
const SETTLE: Duration = Duration::from_secs(2);

/// Opens `subscribers` idle subscriptions (their owners' KeyPackages published first when
/// `key_packages`), measures the relay, stays idle `seconds`.
pub(crate) async fn run(
    relay: &RelayTarget,
    subscribers: usize,
    seconds: u64,
    key_packages: bool,
) -> anyhow::Result<Report> {
    if subscribers == 0 {
        bail!("--subscribers must be at least 1");
    }
    let before = relay.usage();
    let subscriptions_before = relay
        .metric("parley_active_streams", "kind=\"inbox\"")
        .await?;
    let run: u32 = rand::thread_rng().gen();
    let opened = Arc::new(AtomicUsize::new(0));
    let held: Vec<Subscriber> = stream::iter(0..subscribers)
        .map(|i| {
            let opened = opened.clone();
            async move {
                let source = source_address(i);
                let handle = format!("i{run:08x}n{i}");
                let subscriber = subscribe(relay, source, &handle, key_packages).await?;
                opened.fetch_add(1, Ordering::Relaxed);
                anyhow::Ok(subscriber)
            }
        })
        .buffer_unordered(PARALLEL_SETUP)
        .try_collect()
        .await?;
    tokio::time::sleep(SETTLE).await;
    let open_now = relay
        .metric("parley_active_streams", "kind=\"inbox\"")
        .await?;
    let loaded = relay.usage();
    tokio::time::sleep(Duration::from_secs(seconds.max(1))).await;
    let idle_end = relay.usage();
    let still_open = held.iter().filter(|s| !s.task.is_finished()).count();

    let mut report = Report::new("idle", super::relay_name(relay));
    report.parameter("subscribers", subscribers);
    report.parameter("idle_seconds", seconds.max(1));
    report.parameter("key_packages", key_packages);
    report.push(Figure::plain(
        "subscriptions held open",
        still_open as f64,
        "",
    ));
    if let (Some(before), Some(after)) = (subscriptions_before, open_now) {
        report.push(Figure::plain(
            "open subscriptions at the relay",
            after - before,
            "",
        ));
    }
    if let (Some(before), Some(loaded), Some(idle_end)) = (before, loaded, idle_end) {
        let per = (loaded.rss_bytes.saturating_sub(before.rss_bytes)) as f64 / subscribers as f64;
        report.push(Figure::plain(
            "relay resident set before",
            before.rss_bytes as f64 / f64::from(1 << 20),
            "MiB",
        ));
        report.push(Figure::plain(
            "relay resident set with them",
            loaded.rss_bytes as f64 / f64::from(1 << 20),
            "MiB",
        ));
        report.push(
            Figure::plain("relay resident set per subscriber", per / 1024.0, "KiB").target(
                format!("<= {} KiB", TARGET_BYTES / 1024.0),
                per <= TARGET_BYTES,
            ),
        );
        let idle_cpu = idle_end.cpu.saturating_sub(loaded.cpu).as_secs_f64();
        report.push(Figure::plain(
            "relay CPU while idle",
            100.0 * idle_cpu / seconds.max(1) as f64,
            "% of a core",
        ));
    }
    drop(held);
    Ok(report)
}

/// The loopback address subscriber `i` connects from.
fn source_address(i: usize) -> IpAddr {
    let n = (i as u32) % SOURCES;
    IpAddr::V4(Ipv4Addr::new(127, 0, 1, 1 + n as u8))
}

/// An open inbox subscription, drained by a task; dropping it closes the connection.
struct Subscriber {
    task: JoinHandle<()>,
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Registers `handle` with fresh keys, publishes its KeyPackages as a client's first
/// rotation does (when `key_packages`), and subscribes to its inbox, all on one new
/// connection from `source` (the client's owner connection, which the stream keeps).
async fn subscribe(
    relay: &RelayTarget,
    source: IpAddr,
    handle: &str,
    key_packages: bool,
) -> anyhow::Result<Subscriber> {
    let channel = pinned::channel(&relay.url, &relay.fingerprint, Some(source)).await?;
    let handle = Handle::parse(handle)?;
    let mut directory = DirectoryClient::new(channel.clone());
    let (identity, _) = super::wire::register(&mut directory, &handle).await?;
    if key_packages {
        publish_key_packages(&mut directory, &handle, &identity).await?;
    }
    let auth = owner_auth(
        &mut directory,
        &handle,
        &identity,
        OwnerMethod::SubscribeInbox,
        &body::empty(),
    )
    .await?;
    let mut stream = InboxClient::new(channel.clone())
        .subscribe(SubscribeInboxRequest {
            handle: handle.as_str().to_owned(),
            auth: Some(auth),
        })
        .await
        .context("subscribing to an inbox")?
        .into_inner();
    let task = tokio::spawn(async move {
        // The connection lives as long as the stream, as the client's owner connection does.
        let _connection: Channel = channel;
        while let Ok(Some(_)) = stream.message().await {}
    });
    Ok(Subscriber { task })
}

/// Publishes [`KEY_PACKAGES`] one-time KeyPackages and a last-resort one, made by the MLS
/// engine, replacing whatever the relay holds: the client's first rotation.
async fn publish_key_packages(
    directory: &mut DirectoryClient<Channel>,
    handle: &Handle,
    identity: &IdentitySecretKey,
) -> anyhow::Result<()> {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    // The private halves go with the engine: nobody will join with these.
    let mut mls = Mls::new(handle.clone(), identity, Vec::new())?;
    let fresh = mls.generate_key_packages(KEY_PACKAGES, false, now_ms)?;
    let last_resort = mls
        .generate_key_packages(1, true, now_ms)?
        .pop()
        .ok_or_else(|| anyhow!("no last-resort KeyPackage was made"))?;
    let digest = body::publish_key_packages_replacing(&fresh, &last_resort);
    let auth = owner_auth(
        directory,
        handle,
        identity,
        OwnerMethod::PublishKeyPackages,
        &digest,
    )
    .await?;
    directory
        .publish_key_packages(PublishKeyPackagesRequest {
            handle: handle.as_str().to_owned(),
            key_packages: fresh,
            last_resort,
            auth: Some(auth),
            replace: true,
        })
        .await
        .context("publishing KeyPackages")?;
    Ok(())
}

/// A fresh challenge signed for `method` over `body_digest`, as the client's owner calls
/// are.
async fn owner_auth(
    directory: &mut DirectoryClient<Channel>,
    handle: &Handle,
    identity: &IdentitySecretKey,
    method: OwnerMethod,
    body_digest: &[u8; 32],
) -> anyhow::Result<OwnerAuth> {
    let response = directory
        .challenge(ChallengeRequest {
            handle: handle.as_str().to_owned(),
        })
        .await
        .context("asking for a challenge")?
        .into_inner();
    let challenge: [u8; 32] = response.challenge.as_slice().try_into().map_err(|_| {
        anyhow!(
            "the relay's challenge is {} bytes",
            response.challenge.len()
        )
    })?;
    let transcript = owner_transcript(method, handle, &challenge, body_digest);
    Ok(OwnerAuth {
        challenge: challenge.to_vec(),
        signature: identity.sign(&transcript).to_vec(),
    })
}
