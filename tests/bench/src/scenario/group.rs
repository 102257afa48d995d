//! `group`: a room whose members post at a given total rate, senders taken in turn; every
//! message's delivery to every other member is timed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::bail;
use parley_client::{Client, ConversationId};

use crate::baseline;
use crate::cli::Common;
use crate::clients::{self, Arrivals, Listeners, SimClient};
use crate::relay::RelayTarget;
use crate::report::{Figure, Report};
use crate::stats::{ms, quantile_of, Latencies};

/// How long deliveries may trail the last send before the run counts as failed.
const PATIENCE: Duration = Duration::from_secs(60);
/// The target at half of the maximum load.
const P99_TARGET: Duration = Duration::from_millis(10);

/// When each message was handed to `send_text`, by number.
type SentAt = Arc<Mutex<HashMap<u64, Instant>>>;

/// What one load run measured.
struct Run {
    /// Messages sent.
    sent: usize,
    /// Messages per second sent.
    send_rate: f64,
    /// Deliveries per second, from the first send to the last delivery.
    delivery_rate: f64,
    /// Every delivery's latency.
    latencies: Latencies,
    /// Deliveries that had arrived already.
    repeated: usize,
}

/// Loads a room of `members` at `rate` messages/s (or at half the most it sustains).
pub(crate) async fn run(
    relay: &RelayTarget,
    common: &Common,
    members: usize,
    rate: Option<f64>,
    seconds: u64,
) -> anyhow::Result<Report> {
    if !(2..=100).contains(&members) {
        bail!("--members must be 2 to 100");
    }
    if rate.is_some_and(|r| !(r > 0.0 && r.is_finite())) {
        bail!("--rate must be a positive number of messages per second");
    }
    let people = clients::people(relay, members).await?;
    let room = clients::room(&people, "load").await?;
    let window = Duration::from_secs(seconds.max(1));
    let mut report = Report::new("group", super::relay_name(relay));
    report.parameter("members", members);
    report.parameter("payload", common.payload);
    report.parameter("seconds", window.as_secs());

    let mut repeated = 0;
    let (rate, at_half) = match rate {
        Some(rate) => (rate, false),
        None => {
            let most = run_load(&people, &room, common.payload, None, window, 0).await?;
            repeated += most.repeated;
            report.push(Figure::plain(
                "maximum: messages/s, senders back to back",
                most.delivery_rate / (members - 1) as f64,
                "msg/s",
            ));
            (most.delivery_rate / (members - 1) as f64 / 2.0, true)
        }
    };
    report.parameter("rate", format!("{rate:.1}"));
    let relay_before = relay.usage();
    let stored_before = super::accepted(relay, "group").await?;
    let flushes = baseline::disk_flush::FlushProbe::start()?;
    let load = run_load(&people, &room, common.payload, Some(rate), window, 1 << 40).await;
    let flushes = flushes.finish()?;
    let load = load?;
    let stored = super::accepted_since(stored_before, super::accepted(relay, "group").await?);

    let raw = baseline::tonic_unary::RawServer::start().await?;
    let mut raw_latencies = raw.latencies(common.payload, 500).await?;
    raw_latencies.sort();

    report.push(Figure::plain("messages/s sent", load.send_rate, "msg/s"));
    report.push(Figure::plain("deliveries/s", load.delivery_rate, "/s"));
    for (label, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
        let value = load.latencies.quantile(q);
        let mut figure = Figure::plain(format!("delivery {label}"), ms(value), "ms").against(
            "raw tonic unary call, TLS",
            ms(quantile_of(&raw_latencies, q)),
        );
        if label == "p99" && at_half {
            figure = figure.target(
                format!("< {} ms at half the maximum", P99_TARGET.as_millis()),
                value < P99_TARGET,
            );
        }
        report.push(figure);
    }
    for figure in baseline::disk_flush::figures(flushes) {
        report.push(figure);
    }
    if let Some((count, bytes)) = stored {
        report.push(
            Figure::plain("uploads per message", count / load.sent as f64, "")
                .target("1", (count / load.sent as f64 - 1.0).abs() < 0.01),
        );
        report.push(
            Figure::plain("bytes stored per message", bytes / load.sent as f64, "B")
                .against("payload", common.payload as f64),
        );
    }
    report.push(super::repeats_figure(repeated + load.repeated));
    super::relay_figures(&mut report, relay, relay_before, load.sent, "message");
    report.latencies = load.latencies;
    Ok(report)
}

/// Sends for `window`: at `rate` messages/s, senders in turn (open loop: a slow send does
/// not delay the next), or with every member sending back to back when `rate` is `None`.
/// Messages are numbered from `first`. Waits until every message reached every other member.
async fn run_load(
    people: &[SimClient],
    room: &ConversationId,
    payload: usize,
    rate: Option<f64>,
    window: Duration,
    first: u64,
) -> anyhow::Result<Run> {
    let (listeners, mut receipts) = Listeners::start(people);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent_at: SentAt = Arc::default();
    let start = Instant::now();
    let mut sends = Vec::new();
    match rate {
        Some(rate) => {
            let total = (rate * window.as_secs_f64()).ceil() as u64;
            for i in 0..total {
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                tokio::time::sleep_until(due.into()).await;
                let sender = people[i as usize % people.len()].client.clone();
                sends.push(tokio::spawn(send(
                    sender,
                    room.clone(),
                    first + i,
                    payload,
                    sent_at.clone(),
                )));
            }
        }
        None => {
            for (p, person) in people.iter().enumerate() {
                let (client, room, sent_at) =
                    (person.client.clone(), room.clone(), sent_at.clone());
                sends.push(tokio::spawn(async move {
                    let mut seq = first + (p as u64) * 1_000_000;
                    while start.elapsed() < window {
                        send(client.clone(), room.clone(), seq, payload, sent_at.clone()).await?;
                        seq += 1;
                    }
                    Ok(())
                }));
            }
        }
    }
    for task in sends {
        task.await??;
    }
    let send_time = start.elapsed();
    let sent: HashMap<u64, Instant> = sent_at
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    // Every member but the sender receives each message.
    let expected = sent.len() * (people.len() - 1);
    let mut arrivals = Arrivals::default();
    clients::await_receipts(&mut receipts, expected, PATIENCE, &mut arrivals).await?;
    listeners.stop();
    arrivals.drain(&mut receipts);
    let mut latencies = Latencies::default();
    let mut last = start;
    for ((_, seq), at) in &arrivals.first {
        if let Some(sent) = sent.get(seq) {
            latencies.push(start, *at, at.saturating_duration_since(*sent));
            last = last.max(*at);
        }
    }
    Ok(Run {
        sent: sent.len(),
        send_rate: sent.len() as f64 / send_time.as_secs_f64(),
        delivery_rate: latencies.len() as f64 / last.duration_since(start).as_secs_f64(),
        latencies,
        repeated: arrivals.repeated,
    })
}

/// Sends message `seq` and notes when its send began.
async fn send(
    client: Client,
    room: ConversationId,
    seq: u64,
    payload: usize,
    sent_at: SentAt,
) -> anyhow::Result<()> {
    let text = clients::message_text(seq, payload);
    let now = Instant::now();
    sent_at
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(seq, now);
    client.send_text(&room, &text).await?;
    Ok(())
}
