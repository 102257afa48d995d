//! The command line: one subcommand per scenario, and the flags every scenario shares.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Parley's load generator: simulated clients (the real client library, over real gRPC and
/// TLS) against a relay, each figure printed beside a baseline measured in the same run.
///
/// Without --relay, it starts a relay of its own in a child process (sled in a temporary
/// directory, a self-signed certificate, 127.0.0.1, abuse limits raised for the load) and
/// measures that process's memory and CPU. Build it with `cargo build --release --bins`;
/// figures from a debug build mean nothing.
#[derive(Debug, Parser)]
#[command(name = "parley-bench", version, about, long_about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) common: Common,
}

/// Flags every scenario takes.
#[derive(Debug, Clone, Args)]
pub(crate) struct Common {
    /// A running relay to load instead of starting one, such as https://127.0.0.1:7443.
    /// Its abuse limits must allow the load (see docs/PERFORMANCE.md).
    #[arg(
        long,
        value_name = "URL",
        global = true,
        requires = "relay_fingerprint"
    )]
    pub(crate) relay: Option<String>,

    /// The SHA-256 fingerprint of --relay's certificate (64 hex digits, as it printed).
    #[arg(long, value_name = "HEX", global = true)]
    pub(crate) relay_fingerprint: Option<String>,

    /// Process id of --relay, to report its memory and CPU (it must run on this machine).
    #[arg(long, value_name = "PID", global = true)]
    pub(crate) relay_pid: Option<u32>,

    /// Prometheus endpoint of --relay (its metrics_listen), such as
    /// http://127.0.0.1:9100/metrics, to count uploads and bytes stored per message.
    #[arg(long, value_name = "URL", global = true)]
    pub(crate) relay_metrics: Option<String>,

    /// Print the report as JSON instead of a table.
    #[arg(long, global = true)]
    pub(crate) json: bool,

    /// Draw the delivery latencies to this SVG file: over time, and their distribution.
    #[arg(long, value_name = "FILE.svg", global = true)]
    pub(crate) plot: Option<PathBuf>,

    /// The relay's `limits.storage_cache_bytes` when it is started here (sled's page cache);
    /// the relay's default without it. 1073741824 is sled's own default, the relay's before
    /// it had the setting.
    #[arg(long, value_name = "BYTES", global = true, conflicts_with = "relay")]
    pub(crate) storage_cache_bytes: Option<u64>,

    /// Payload of each message, in bytes.
    #[arg(long, value_name = "BYTES", global = true, default_value_t = 1024)]
    pub(crate) payload: usize,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Two clients in a 1:1 answer each other's message at once: delivery latency (send call
    /// to decrypted at the other end) and round trips, against raw tonic unary calls.
    Pingpong {
        /// Round trips to time.
        #[arg(long, default_value_t = 200)]
        messages: usize,
    },
    /// A room of G members posting M messages per second in total, senders taken in turn:
    /// throughput and delivery latency to every other member. Without --rate, first finds
    /// the most the room sustains (senders posting back to back), then runs at half of it.
    /// The disk's own flush latency (a 4 KiB write and fdatasync in TMPDIR every 10 ms) is
    /// sampled during the load and printed beside it: every message waits for two flushes.
    Group {
        /// Members of the room (2 to 100).
        #[arg(long, default_value_t = 10)]
        members: usize,
        /// Messages per second, all senders together.
        #[arg(long)]
        rate: Option<f64>,
        /// Seconds of load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// One message at a time to a room of N members: the time until all the others have
    /// decrypted it, and what the relay stored for it, with the disk's own flush latency
    /// sampled in the same seconds (as in `group`).
    Fanout {
        /// Members of the room (2 to 100).
        #[arg(long, default_value_t = 100)]
        members: usize,
        /// Messages, one after the other.
        #[arg(long, default_value_t = 100)]
        messages: usize,
    },
    /// Someone away while the other side of a 1:1 sent N messages comes back: the time and
    /// the client's CPU of the one sync that brings them all, against raw OpenMLS.
    Catchup {
        /// Messages waiting.
        #[arg(long, default_value_t = 300)]
        messages: usize,
    },
    /// K registered clients holding their inbox subscription open and doing nothing: the
    /// relay's memory and CPU per subscriber.
    Idle {
        /// Subscribers.
        #[arg(long, default_value_t = 1000)]
        subscribers: usize,
        /// Seconds to stay idle while the relay's CPU is measured (its HTTP/2 keep-alive
        /// pings come every 30 s).
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Register without publishing KeyPackages, to price the subscription alone (a
        /// client publishes 25 and a last-resort one when it registers).
        #[arg(long)]
        no_key_packages: bool,
    },
    /// Anonymous deposits (sealed envelopes to inboxes) with 64 calls in flight: acceptance
    /// rate against raw tonic unary calls of the same size over the same TLS.
    Deposits {
        /// Calls in flight.
        #[arg(long, default_value_t = 64)]
        in_flight: usize,
        /// Seconds of load for each side.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
    },
    /// Internal: the relay child process (prints its address, serves until stdin closes).
    #[command(hide = true)]
    ServeRelay(RelayChildArgs),
    /// Internal: the raw tonic baseline server child process.
    #[command(hide = true)]
    ServeRaw,
}

/// How the relay child is set up.
#[derive(Debug, Clone, Args)]
pub(crate) struct RelayChildArgs {
    /// Data directory of the child relay.
    #[arg(long)]
    pub(crate) data: PathBuf,
    /// Its `limits.storage_cache_bytes`, when not the default.
    #[arg(long)]
    pub(crate) storage_cache_bytes: Option<u64>,
}
