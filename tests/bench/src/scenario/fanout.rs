//! `fanout`: one message at a time to a room; the time until every other member has
//! decrypted it.

use std::time::{Duration, Instant};

use anyhow::bail;

use crate::baseline;
use crate::cli::Common;
use crate::clients::{self, Arrivals, Listeners};
use crate::procstat::Usage;
use crate::relay::RelayTarget;
use crate::report::{Figure, Report};
use crate::stats::{ms, quantile_of, Latencies};

/// Messages before the timing starts.
const WARM_UP: u64 = 3;
/// Longest wait for one message to reach everyone.
const PATIENCE: Duration = Duration::from_secs(60);
/// The target: everyone has decrypted a message within this, at the 99th percentile.
const TARGET: Duration = Duration::from_millis(50);

/// Sends `messages` messages to a room of `members`, one after the other.
pub(crate) async fn run(
    relay: &RelayTarget,
    common: &Common,
    members: usize,
    messages: usize,
) -> anyhow::Result<Report> {
    if !(2..=100).contains(&members) {
        bail!("--members must be 2 to 100");
    }
    let people = clients::people(relay, members).await?;
    let room = clients::room(&people, "fanout").await?;
    let (listeners, mut receipts) = Listeners::start(&people);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let sender = &people[0].client;
    let recipients = members - 1;
    let mut everyone = Vec::with_capacity(messages);
    let mut deliveries = Latencies::default();
    let mut arrivals = Arrivals::default();
    let start = Instant::now();
    let flushes = baseline::disk_flush::FlushProbe::start()?;
    let (mut cpu_before, mut relay_before, mut stored_before) = (None, None, None);
    for seq in 0..WARM_UP + messages as u64 {
        if seq == WARM_UP {
            cpu_before = Some(Usage::own()?);
            relay_before = relay.usage();
            stored_before = super::accepted(relay, "group").await?;
        }
        let text = clients::message_text(seq, common.payload);
        let sent = Instant::now();
        sender.send_text(&room, &text).await?;
        clients::await_receipts(&mut receipts, recipients, PATIENCE, &mut arrivals).await?;
        if seq < WARM_UP {
            continue;
        }
        let mut last = sent;
        for person in 1..members {
            let at = arrivals.at(person, seq)?;
            deliveries.push(start, at, at - sent);
            last = last.max(at);
        }
        everyone.push(last - sent);
    }
    let flushes = flushes.finish()?;
    let clients_cpu = Usage::own()?
        .cpu
        .saturating_sub(cpu_before.map_or(Duration::ZERO, |u| u.cpu));
    listeners.stop();
    arrivals.drain(&mut receipts);
    let stored = super::accepted_since(stored_before, super::accepted(relay, "group").await?);
    let raw_mls = baseline::openmls::message_cost(members, common.payload, 100)?;

    let mut report = Report::new("fanout", super::relay_name(relay));
    report.parameter("members", members);
    report.parameter("messages", messages);
    report.parameter("payload", common.payload);
    everyone.sort();
    for (label, q) in [("p50", 0.50), ("p95", 0.95)] {
        report.push(Figure::plain(
            format!("all {recipients} decrypted, {label}"),
            ms(quantile_of(&everyone, q)),
            "ms",
        ));
    }
    let p99 = quantile_of(&everyone, 0.99);
    report.push(
        Figure::plain(format!("all {recipients} decrypted, p99"), ms(p99), "ms")
            .target(format!("<= {} ms", TARGET.as_millis()), p99 <= TARGET),
    );
    report.latency("one member decrypted", &deliveries);
    for figure in baseline::disk_flush::figures(flushes) {
        report.push(figure);
    }
    report.push(super::repeats_figure(arrivals.repeated));
    let per_delivery =
        clients_cpu.as_secs_f64() * 1e6 / (messages as f64 * members as f64).max(1.0);
    report.push(
        Figure::plain("clients' CPU per member per message", per_delivery, "µs")
            .against("raw OpenMLS encrypt + decrypt", raw_mls.as_secs_f64() * 1e6),
    );
    if let Some((count, bytes)) = stored {
        let uploads = count / messages as f64;
        report.push(
            Figure::plain("uploads per message", uploads, "")
                .target("1", (uploads - 1.0).abs() < 0.01),
        );
        report.push(
            Figure::plain("bytes stored per message", bytes / messages as f64, "B")
                .against("payload", common.payload as f64),
        );
    }
    super::relay_figures(&mut report, relay, relay_before, messages, "message");
    report.latencies = deliveries;
    Ok(report)
}
