//! `deposits`: anonymous deposits of sealed envelopes with a fixed number of calls in
//! flight, against raw tonic unary calls of the same size over the same kind of TLS.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use parley_crypto::envelope;
use parley_crypto::handle::Handle;
use parley_crypto::identity::InboxSecretKey;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::DepositRequest;
use rand::rngs::OsRng;
use rand::Rng;
use tonic::transport::Channel;

use crate::baseline;
use crate::cli::Common;
use crate::pinned;
use crate::procstat::Usage;
use crate::relay::RelayTarget;
use crate::report::{Figure, Report};
use crate::stats::{ms, quantile_of};

/// Connections the calls are spread over, as many clients would.
const CONNECTIONS: usize = 8;
/// Inboxes deposited to, so that no single inbox is the bottleneck.
const INBOXES: usize = 64;
/// Untimed load before each window.
const WARM_UP: Duration = Duration::from_millis(500);
/// The target: deposits accepted at least at this share of raw tonic unary calls.
const TARGET: f64 = 0.60;

/// Deposits for `seconds` with `in_flight` calls outstanding; the same with raw calls.
pub(crate) async fn run(
    relay: &RelayTarget,
    common: &Common,
    in_flight: usize,
    seconds: u64,
) -> anyhow::Result<Report> {
    if in_flight == 0 {
        bail!("--in-flight must be at least 1");
    }
    let window = Duration::from_secs(seconds.max(1));
    let mut channels = Vec::with_capacity(CONNECTIONS);
    for _ in 0..CONNECTIONS {
        channels.push(pinned::channel(&relay.url, &relay.fingerprint, None).await?);
    }
    let deposits = sealed_deposits(&channels[0], common.payload).await?;
    let size = deposits[0].envelope.len();
    let clients: Vec<InboxClient<Channel>> = channels.into_iter().map(InboxClient::new).collect();

    let relay_before = relay.usage();
    let stored_before = super::accepted(relay, "inbox").await?;
    let parley = load(&clients, &deposits, in_flight, window).await?;
    let stored = super::accepted_since(stored_before, super::accepted(relay, "inbox").await?);
    let relay_after = relay.usage();

    let raw = baseline::tonic_unary::RawServer::start().await?;
    let raw_before = raw.pid().and_then(|pid| Usage::of(pid).ok());
    let raw_rate = raw.throughput(size, in_flight, window).await?;
    let raw_after = raw.pid().and_then(|pid| Usage::of(pid).ok());
    let sled_dir = tempfile::TempDir::new()?;
    let mut sled = baseline::sled::insert_flush(sled_dir.path(), size, 500)?;
    sled.sort();
    let sled_rate = 1.0 / quantile_of(&sled, 0.5).as_secs_f64().max(1e-9);

    let mut report = Report::new("deposits", super::relay_name(relay));
    report.parameter("in_flight", in_flight);
    report.parameter("seconds", window.as_secs());
    report.parameter("envelope_bytes", size);
    report.push(
        Figure::plain("deposits accepted/s", parley.rate, "/s")
            .against("raw tonic unary calls/s, TLS", raw_rate)
            .target(format!(">= {TARGET:.2}x"), parley.rate >= TARGET * raw_rate),
    );
    report.push(
        Figure::plain("deposits accepted/s", parley.rate, "/s")
            .against("raw sled insert + flush, one at a time", sled_rate),
    );
    report.push(Figure::plain("deposits refused", parley.refused as f64, ""));
    if let Some((count, bytes)) = stored {
        report.push(
            Figure::plain("bytes stored per deposit", bytes / count.max(1.0), "B")
                .against("sealed envelope", size as f64),
        );
    }
    if let (Some(before), Some(after)) = (relay_before, relay_after) {
        report.push(Figure::plain(
            "relay resident set",
            after.rss_bytes as f64 / f64::from(1 << 20),
            "MiB",
        ));
        let cpu = after.cpu.saturating_sub(before.cpu).as_secs_f64();
        let per_deposit = cpu * 1e6 / (parley.rate * window.as_secs_f64()).max(1.0);
        let mut figure = Figure::plain("relay CPU per deposit", per_deposit, "µs");
        if let (Some(raw_before), Some(raw_after)) = (raw_before, raw_after) {
            // The raw server's window includes its warm-up; so does the relay's.
            let raw_cpu = raw_after.cpu.saturating_sub(raw_before.cpu).as_secs_f64();
            figure = figure.against(
                "raw tonic server CPU per call",
                raw_cpu * 1e6 / (raw_rate * window.as_secs_f64()).max(1.0),
            );
        }
        report.push(figure);
    }
    report.push(Figure::plain(
        "raw sled insert + flush p50",
        ms(quantile_of(&sled, 0.5)),
        "ms",
    ));
    Ok(report)
}

/// One real envelope per inbox, each sealed to a freshly registered recipient by a fresh
/// sender: the relay cannot tell them from people's.
async fn sealed_deposits(channel: &Channel, payload: usize) -> anyhow::Result<Vec<DepositRequest>> {
    let mut directory = DirectoryClient::new(channel.clone());
    let run: u32 = rand::thread_rng().gen();
    let sender = Handle::parse(&format!("d{run:08x}sender"))?;
    let sender_inbox = InboxSecretKey::generate(&mut OsRng);
    let mut message = vec![0u8; payload];
    OsRng.fill(message.as_mut_slice());
    let mut deposits = Vec::with_capacity(INBOXES);
    for i in 0..INBOXES {
        let handle = Handle::parse(&format!("d{run:08x}n{i}"))?;
        let (_, inbox) = super::wire::register(&mut directory, &handle).await?;
        let sealed = envelope::seal(
            &mut OsRng,
            &message,
            &sender,
            &sender_inbox,
            &handle,
            &inbox.public_key(),
        )?;
        deposits.push(DepositRequest {
            handle: handle.as_str().to_owned(),
            envelope: sealed,
        });
    }
    Ok(deposits)
}

/// What a load window measured.
struct Load {
    /// Accepted calls per second.
    rate: f64,
    /// Calls refused (any error).
    refused: u64,
}

/// Keeps `in_flight` deposits outstanding over `clients` for `window` (after a warm-up).
async fn load(
    clients: &[InboxClient<Channel>],
    deposits: &[DepositRequest],
    in_flight: usize,
    window: Duration,
) -> anyhow::Result<Load> {
    let accepted = Arc::new(AtomicU64::new(0));
    let refused = Arc::new(AtomicU64::new(0));
    let counting = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let start = Instant::now();
    let end = start + WARM_UP + window;
    let tasks: Vec<_> = (0..in_flight)
        .map(|i| {
            let mut client = clients[i % clients.len()].clone();
            let deposits = deposits.to_vec();
            let (accepted, refused, counting) =
                (accepted.clone(), refused.clone(), counting.clone());
            tokio::spawn(async move {
                let mut n = i;
                while Instant::now() < end {
                    let request = deposits[n % deposits.len()].clone();
                    n += 1;
                    let ok = client.deposit(request).await.is_ok();
                    if counting.load(Ordering::Relaxed) {
                        let tally = if ok { &accepted } else { &refused };
                        tally.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(WARM_UP).await;
    counting.store(true, Ordering::Relaxed);
    let counted_from = Instant::now();
    for task in tasks {
        task.await?;
    }
    let span = counted_from.elapsed();
    Ok(Load {
        rate: accepted.load(Ordering::Relaxed) as f64 / span.as_secs_f64(),
        refused: refused.load(Ordering::Relaxed),
    })
}
