//! The relay under load: one this program starts in a child process (so that its memory and
//! CPU are its own, apart from the simulated clients'), or one already running.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;

use anyhow::{anyhow, bail, Context};
use parley_relay::{serve_metrics, FlushPolicy, LimitsConfig, Relay, RelayConfig, TlsSetting};
use tempfile::TempDir;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};

use crate::cli::{Common, RelayChildArgs};
use crate::procstat::Usage;

/// The line the child prints once it serves: `LISTENING <url> <fingerprint> <metrics url>`.
const READY: &str = "LISTENING";

/// The relay the scenario loads.
pub(crate) struct RelayTarget {
    /// Its gRPC URL.
    pub(crate) url: String,
    /// Its certificate's fingerprint, which clients pin.
    pub(crate) fingerprint: String,
    /// Its process, when on this machine and known.
    pub(crate) pid: Option<u32>,
    /// Its Prometheus endpoint, when known.
    pub(crate) metrics: Option<String>,
    /// Whether this program started it (abuse limits raised for the load).
    pub(crate) started_here: bool,
    // Killed on drop, before its directory goes.
    child: Option<Child>,
    _dir: Option<TempDir>,
}

impl RelayTarget {
    /// The relay process's resident set and CPU time so far, when it runs here.
    pub(crate) fn usage(&self) -> Option<Usage> {
        self.pid.and_then(|pid| Usage::of(pid).ok())
    }

    /// A counter or gauge from the relay's metrics, summed over its labels that contain
    /// `label` (such as `kind="group"`); `None` without a metrics endpoint.
    pub(crate) async fn metric(&self, name: &str, label: &str) -> anyhow::Result<Option<f64>> {
        let Some(url) = &self.metrics else {
            return Ok(None);
        };
        let text = crate::procstat::http_get(url).await?;
        Ok(Some(parse_metric(&text, name, label)))
    }
}

impl Drop for RelayTarget {
    fn drop(&mut self) {
        if let Some(child) = &mut self.child {
            // Closing stdin asks the child to stop; the kill makes sure of it.
            let _ = child.start_kill();
        }
    }
}

/// The sum of `name`'s samples whose labels contain `label`.
pub(crate) fn parse_metric(text: &str, name: &str, label: &str) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, value) = line.rsplit_once(' ')?;
            let bare = series.split('{').next()?;
            (bare == name && series.contains(label)).then(|| value.parse::<f64>().ok())?
        })
        .sum()
}

/// The relay `common` names, or a new one in a child process.
pub(crate) async fn target(common: &Common) -> anyhow::Result<RelayTarget> {
    if let Some(url) = &common.relay {
        let fingerprint = common
            .relay_fingerprint
            .clone()
            .ok_or_else(|| anyhow!("--relay needs --relay-fingerprint"))?;
        if fingerprint.len() != 64 || hex::decode(&fingerprint).is_err() {
            bail!("the relay fingerprint must be 64 hex digits, as the relay printed it");
        }
        return Ok(RelayTarget {
            url: url.clone(),
            fingerprint,
            pid: common.relay_pid,
            metrics: common.relay_metrics.clone(),
            started_here: false,
            child: None,
            _dir: None,
        });
    }
    start_child(common.storage_cache_bytes).await
}

async fn start_child(storage_cache_bytes: Option<u64>) -> anyhow::Result<RelayTarget> {
    let dir = TempDir::new().context("creating the relay's data directory")?;
    let exe = std::env::current_exe().context("finding this program to start the relay")?;
    let mut command = Command::new(exe);
    command.arg("serve-relay").arg("--data").arg(dir.path());
    if let Some(bytes) = storage_cache_bytes {
        command.arg("--storage-cache-bytes").arg(bytes.to_string());
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .context("starting the relay child process")?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow!("the relay child has no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let line = lines
        .next_line()
        .await?
        .ok_or_else(|| anyhow!("the relay child ended before it served"))?;
    let mut words = line.split_whitespace();
    let (Some(READY), Some(url), Some(fingerprint), Some(metrics)) =
        (words.next(), words.next(), words.next(), words.next())
    else {
        bail!("the relay child said {line:?} instead of where it listens");
    };
    Ok(RelayTarget {
        url: url.to_owned(),
        fingerprint: fingerprint.to_owned(),
        pid: child.id(),
        metrics: Some(metrics.to_owned()),
        started_here: true,
        child: Some(child),
        _dir: Some(dir),
    })
}

/// Limits for a relay that one machine loads from 127.0.0.1: the per-source shares are made
/// for many people behind few addresses, not for thousands of simulated clients on one.
pub(crate) fn bench_limits() -> LimitsConfig {
    LimitsConfig {
        source_requests_per_second: 0,
        refusal_delay_ms: 0,
        key_package_claims_per_minute: 0,
        key_package_claims_per_source_per_minute: 0,
        max_subscriptions: 1_000_000,
        max_subscriptions_per_source: 0,
        challenges_per_source: 0,
        max_connections_per_source: 0,
        inbox_max_messages: 10_000_000,
        inbox_max_bytes: 1 << 40,
        ..LimitsConfig::default()
    }
}

/// The child: serves a relay on 127.0.0.1 (any port) with a self-signed certificate and
/// [`bench_limits`], and its metrics beside it, until its stdin closes.
pub(crate) async fn serve_child(args: RelayChildArgs) -> anyhow::Result<()> {
    let config = RelayConfig {
        data_dir: args.data,
        tls: TlsSetting::SelfSigned,
        flush: FlushPolicy::GroupCommit,
        limits: LimitsConfig {
            storage_cache_bytes: args
                .storage_cache_bytes
                .unwrap_or(LimitsConfig::default().storage_cache_bytes),
            ..bench_limits()
        },
        ..RelayConfig::default()
    };
    let relay = Relay::open(config).context("opening the relay")?;
    let fingerprint = relay
        .tls_fingerprint()
        .ok_or_else(|| anyhow!("the relay has no certificate"))?;
    let loopback = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let listener = TcpListener::bind(loopback).await?;
    let metrics_listener = TcpListener::bind(loopback).await?;
    let addr = listener.local_addr()?;
    let metrics_addr = metrics_listener.local_addr()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let metrics = relay.metrics();
    let mut metrics_stop = stop_rx.clone();
    let metrics_task = tokio::spawn(serve_metrics(metrics, metrics_listener, async move {
        let _ = metrics_stop.changed().await;
    }));
    let mut relay_stop = stop_rx;
    let serving = tokio::spawn(relay.serve(listener, async move {
        let _ = relay_stop.changed().await;
    }));
    println!("{READY} https://{addr} {fingerprint} http://{metrics_addr}/metrics");
    // The parent closes our stdin (or dies) to stop us.
    let _ = tokio::task::spawn_blocking(|| {
        let mut sink = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink)
    })
    .await;
    let _ = stop_tx.send(true);
    serving.await??;
    metrics_task.await??;
    Ok(())
}
