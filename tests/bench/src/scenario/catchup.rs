//! `catchup`: someone comes back to a conversation that went on without them, and one sync
//! brings everything they missed.

use std::time::Instant;

use crate::baseline;
use crate::cli::Common;
use crate::clients;
use crate::procstat::Usage;
use crate::relay::RelayTarget;
use crate::report::{Figure, Report};

/// Sends `messages` to someone who is away, then times the one sync that brings them all:
/// messages per second and the client's CPU per message, against raw OpenMLS.
pub(crate) async fn run(
    relay: &RelayTarget,
    common: &Common,
    messages: usize,
) -> anyhow::Result<Report> {
    anyhow::ensure!(messages > 0, "--messages must be at least 1");
    let [alice, bob] = clients::one_to_one(relay).await?;
    let to_bob = bob.handle.clone().into();
    let texts: Vec<String> = (0..messages as u64)
        .map(|seq| clients::message_text(seq, common.payload))
        .collect();
    for text in &texts {
        alice.client.send_text(&to_bob, text).await?;
    }

    let cpu_before = Usage::own()?;
    let relay_before = relay.usage();
    let started = Instant::now();
    let report = bob.client.sync().await?;
    let took = started.elapsed();
    let cpu = Usage::own()?.cpu.saturating_sub(cpu_before.cpu);
    let received: Vec<&str> = report.messages.iter().filter_map(|m| m.text()).collect();
    anyhow::ensure!(
        received == texts.iter().map(String::as_str).collect::<Vec<_>>(),
        "the sync brought {} of the {messages} messages, or not in order",
        received.len()
    );
    let raw_mls = baseline::openmls::message_cost(2, common.payload, 200)?;

    let mut result = Report::new("catchup", super::relay_name(relay));
    result.parameter("messages", messages);
    result.parameter("payload", common.payload);
    result.push(Figure::plain(
        "messages brought per second",
        messages as f64 / took.as_secs_f64(),
        "msg/s",
    ));
    result.push(
        Figure::plain(
            "client CPU per message brought",
            cpu.as_secs_f64() * 1e6 / messages as f64,
            "µs",
        )
        .against("raw OpenMLS encrypt + decrypt", raw_mls.as_secs_f64() * 1e6),
    );
    super::relay_figures(&mut result, relay, relay_before, messages, "message");
    Ok(result)
}
