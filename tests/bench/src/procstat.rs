//! A process's memory and CPU, read from `/proc`, and the one HTTP GET the metrics need.

use std::time::Duration;

use anyhow::{anyhow, Context};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Clock ticks per second of `/proc/PID/stat`'s times: 100 on every Linux this runs on.
const TICKS_PER_SECOND: u64 = 100;

/// What a process holds and has spent so far.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    /// Resident set (VmRSS), in bytes.
    pub(crate) rss_bytes: u64,
    /// User + system CPU time since the process started.
    pub(crate) cpu: Duration,
}

impl Usage {
    /// The usage of process `pid`.
    pub(crate) fn of(pid: u32) -> anyhow::Result<Usage> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .with_context(|| format!("reading /proc/{pid}/status"))?;
        let rss_kib: u64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .ok_or_else(|| anyhow!("no VmRSS in /proc/{pid}/status"))?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("reading /proc/{pid}/stat"))?;
        // The command name, in parentheses, may hold spaces: count the fields after it.
        let after = stat
            .rfind(')')
            .and_then(|end| stat.get(end + 2..))
            .ok_or_else(|| anyhow!("malformed /proc/{pid}/stat"))?;
        let ticks: u64 = after
            .split(' ')
            .skip(11)
            .take(2)
            .map(|field| field.parse::<u64>().unwrap_or(0))
            .sum();
        Ok(Usage {
            rss_bytes: rss_kib * 1024,
            cpu: Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND),
        })
    }

    /// This process's usage.
    pub(crate) fn own() -> anyhow::Result<Usage> {
        Usage::of(std::process::id())
    }
}

/// The body of `http://HOST:PORT/PATH` (plain HTTP/1.0, as the relay's metrics are served).
pub(crate) async fn http_get(url: &str) -> anyhow::Result<String> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow!("{url}: only http:// metrics URLs are read"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let mut stream = TcpStream::connect(host)
        .await
        .with_context(|| format!("connecting to {host}"))?;
    stream
        .write_all(format!("GET /{path} HTTP/1.0\r\nHost: {host}\r\n\r\n").as_bytes())
        .await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    let (_, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| anyhow!("{url}: no HTTP body"))?;
    Ok(body.to_owned())
}
