//! The scenarios, and what every one of them does around its load: find the relay, print
//! the report, draw the plot.

mod catchup;
mod deposits;
mod fanout;
mod group;
mod idle;
mod pingpong;
mod wire;

use anyhow::Context;

use crate::cli::{Command, Common};
use crate::relay::{self, RelayTarget};
use crate::report::{Figure, Report};

/// Runs the scenario `command` names and prints its report.
pub(crate) async fn run(command: Command, common: Common) -> anyhow::Result<()> {
    let relay = relay::target(&common).await?;
    let report = match command {
        Command::Pingpong { messages } => pingpong::run(&relay, &common, messages).await?,
        Command::Group {
            members,
            rate,
            seconds,
        } => group::run(&relay, &common, members, rate, seconds).await?,
        Command::Fanout { members, messages } => {
            fanout::run(&relay, &common, members, messages).await?
        }
        Command::Idle {
            subscribers,
            seconds,
            no_key_packages,
        } => idle::run(&relay, subscribers, seconds, !no_key_packages).await?,
        Command::Catchup { messages } => catchup::run(&relay, &common, messages).await?,
        Command::Deposits { in_flight, seconds } => {
            deposits::run(&relay, &common, in_flight, seconds).await?
        }
        Command::ServeRelay(_) | Command::ServeRaw => {
            anyhow::bail!("serve-relay and serve-raw are internal")
        }
    };
    if let Some(path) = &common.plot {
        let title = format!("parley-bench {}: delivery latency", report.scenario);
        crate::plot::latency_svg(path, &title, &report.latencies.points())
            .with_context(|| format!("drawing {}", path.display()))?;
    }
    if common.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// How the report names the relay.
fn relay_name(relay: &RelayTarget) -> String {
    if relay.started_here {
        format!("{} (started by the bench, sled)", relay.url)
    } else {
        relay.url.clone()
    }
}

/// What the relay has accepted so far of messages of `kind` ("group" or "inbox"), by its
/// metrics: their count and bytes; `None` when it exposes no metrics.
async fn accepted(relay: &RelayTarget, kind: &str) -> anyhow::Result<Option<(f64, f64)>> {
    let label = format!("kind=\"{kind}\"");
    let count = relay
        .metric("parley_messages_accepted_total", &label)
        .await?;
    let bytes = relay
        .metric("parley_message_bytes_accepted_total", &label)
        .await?;
    Ok(count.zip(bytes))
}

/// What the relay accepted between two readings of [`accepted`].
fn accepted_since(before: Option<(f64, f64)>, after: Option<(f64, f64)>) -> Option<(f64, f64)> {
    let ((count0, bytes0), (count1, bytes1)) = before.zip(after)?;
    Some((count1 - count0, bytes1 - bytes0))
}

/// How many messages came out of a recipient's event stream again after they had arrived:
/// each one a message shown twice to its reader.
fn repeats_figure(repeated: usize) -> Figure {
    Figure::plain("messages shown twice", repeated as f64, "").target("0", repeated == 0)
}

/// The relay's resident set and CPU over a span, as figures: the CPU per `units` (such as
/// messages) when `units` > 0.
fn relay_figures(
    report: &mut Report,
    relay: &RelayTarget,
    before: Option<crate::procstat::Usage>,
    units: usize,
    unit_name: &str,
) {
    let Some(after) = relay.usage() else {
        return;
    };
    report.push(Figure::plain(
        "relay resident set",
        after.rss_bytes as f64 / f64::from(1 << 20),
        "MiB",
    ));
    if let (Some(before), true) = (before, units > 0) {
        let cpu = after.cpu.saturating_sub(before.cpu);
        report.push(Figure::plain(
            format!("relay CPU per {unit_name}"),
            cpu.as_secs_f64() * 1e6 / units as f64,
            "µs",
        ));
    }
}
