//! `pingpong`: two people in a 1:1, each answering the other's message as soon as it is
//! decrypted.

use std::time::{Duration, Instant};

use crate::baseline;
use crate::cli::Common;
use crate::clients::{self, Arrivals, Listeners};
use crate::procstat::Usage;
use crate::relay::RelayTarget;
use crate::report::{Figure, Report};
use crate::stats::{ms, quantile_of, Latencies};

/// Exchanges before the timing starts (connections, first epochs, allocators).
const WARM_UP: u64 = 5;
/// Longest wait for one message.
const PATIENCE: Duration = Duration::from_secs(30);
/// The target for the client's own work per message, against raw OpenMLS.
const CLIENT_TARGET: f64 = 1.5;

/// Runs `messages` round trips and reports delivery latency, the client's CPU per message
/// and the relay's, beside raw tonic calls and raw OpenMLS.
pub(crate) async fn run(
    relay: &RelayTarget,
    common: &Common,
    messages: usize,
) -> anyhow::Result<Report> {
    let people = clients::one_to_one(relay).await?;
    let (alice, bob) = (&people[0], &people[1]);
    let to_bob = bob.handle.clone().into();
    let to_alice = bob.client.resolve(alice.handle.as_str()).await?;
    let (listeners, mut receipts) = Listeners::start(&people);
    // Subscriptions open before the first timed message.
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut delivery = Latencies::default();
    let mut round_trips = Vec::with_capacity(messages);
    let mut send_calls = Vec::with_capacity(messages);
    let mut arrivals = Arrivals::default();
    let start = Instant::now();
    let mut cpu_before = None;
    let mut relay_before = None;
    let mut stored_before = None;
    let total = WARM_UP + messages as u64;
    for seq in 0..total {
        if seq == WARM_UP {
            cpu_before = Some(Usage::own()?);
            relay_before = relay.usage();
            stored_before = super::accepted(relay, "group").await?;
        }
        let text = clients::message_text(seq, common.payload);
        let sent = Instant::now();
        alice.client.send_text(&to_bob, &text).await?;
        let send_returned = Instant::now();
        clients::await_receipts(&mut receipts, 1, PATIENCE, &mut arrivals).await?;
        let at_bob = arrivals.at(1, seq)?;
        bob.client.send_text(&to_alice, &text).await?;
        clients::await_receipts(&mut receipts, 1, PATIENCE, &mut arrivals).await?;
        let at_alice = arrivals.at(0, seq)?;
        if seq >= WARM_UP {
            delivery.push(start, at_bob, at_bob - sent);
            send_calls.push(send_returned - sent);
            round_trips.push(at_alice - sent);
        }
    }
    let client_cpu = Usage::own()?
        .cpu
        .saturating_sub(cpu_before.map_or(Duration::ZERO, |u| u.cpu));
    listeners.stop();
    arrivals.drain(&mut receipts);
    let sent_messages = 2 * messages;
    let stored = super::accepted_since(stored_before, super::accepted(relay, "group").await?);

    let raw = baseline::tonic_unary::RawServer::start().await?;
    let mut raw_latencies = raw.latencies(common.payload, messages.max(100)).await?;
    raw_latencies.sort();
    let raw_mls = baseline::openmls::message_cost(2, common.payload, 200)?;

    let mut report = Report::new("pingpong", super::relay_name(relay));
    report.parameter("messages", messages);
    report.parameter("payload", common.payload);
    for (label, q) in [("p50", 0.50), ("p95", 0.95), ("p99", 0.99)] {
        report.push(
            Figure::plain(format!("delivery {label}"), ms(delivery.quantile(q)), "ms").against(
                "raw tonic unary call, TLS",
                ms(quantile_of(&raw_latencies, q)),
            ),
        );
    }
    round_trips.sort();
    send_calls.sort();
    // Where the delivery time goes: the sender's call, then the push, the receiver's sync
    // and its decryption.
    report.push(Figure::plain(
        "of which the send call, p50",
        ms(quantile_of(&send_calls, 0.5)),
        "ms",
    ));
    report.push(
        Figure::plain("round trip p50", ms(quantile_of(&round_trips, 0.5)), "ms").against(
            "raw tonic unary call, TLS",
            ms(quantile_of(&raw_latencies, 0.5)),
        ),
    );
    let per_message = client_cpu.as_secs_f64() * 1e6 / sent_messages as f64;
    let raw_per_message = raw_mls.as_secs_f64() * 1e6;
    report.push(
        Figure::plain("client CPU per message (send + receive)", per_message, "µs")
            .against("raw OpenMLS encrypt + decrypt", raw_per_message)
            .target(
                format!("<= {CLIENT_TARGET}x"),
                per_message <= CLIENT_TARGET * raw_per_message,
            ),
    );
    report.push(super::repeats_figure(arrivals.repeated));
    let aead = baseline::aead::xchacha_seal_open(common.payload, 10_000)?;
    report.push(Figure::plain(
        "raw XChaCha20-Poly1305 seal + open",
        aead.as_secs_f64() * 1e6,
        "µs",
    ));
    if let Some((count, bytes)) = stored {
        report.push(
            Figure::plain(
                "group messages stored per message",
                count / sent_messages as f64,
                "",
            )
            .target("1", (count / sent_messages as f64 - 1.0).abs() < 0.05),
        );
        report.push(
            Figure::plain(
                "bytes stored per message",
                bytes / sent_messages as f64,
                "B",
            )
            .against("payload", common.payload as f64),
        );
    }
    super::relay_figures(&mut report, relay, relay_before, sent_messages, "message");
    report.latencies = delivery;
    Ok(report)
}
