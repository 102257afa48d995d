//! `parley-relay`: runs a Parley relay. Parses flags, loads the configuration, starts logging
//! and hands over to the library; signals become shutdown (SIGTERM, SIGINT) and certificate
//! reloads (SIGHUP).

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use clap::{Parser, Subcommand};
use parley_relay::settings::Settings;
use parley_relay::{logging, Relay, RelayError, StoreSetting, TlsReloader};

/// The Parley relay: stores directory records, KeyPackages, sealed inbox envelopes and
/// encrypted group logs. It never sees plaintext and holds no secret of any user.
///
/// By default it serves TLS with a self-signed certificate created in the data directory on
/// first start; it prints the certificate's SHA-256 fingerprint, which clients pin.
///
/// Configuration: built-in defaults, then the TOML file (--config or PARLEY_RELAY_CONFIG),
/// then PARLEY_RELAY_* environment variables, then these flags; later ones win. See
/// docs/OPERATING.md for every key.
#[derive(Debug, Parser)]
#[command(name = "parley-relay", version, about, long_about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,

    /// TOML configuration file.
    #[arg(long, value_name = "PATH", global = true)]
    config: Option<PathBuf>,

    /// Address to listen on [default: 127.0.0.1:7443].
    #[arg(long, value_name = "ADDR", global = true)]
    listen: Option<String>,

    /// Data directory (database and self-signed certificate); created if missing
    /// [default: ./parley-relay-data].
    #[arg(long, value_name = "DIR", global = true)]
    data: Option<String>,

    /// Where the relay keeps its data: `sled`, the embedded database in the data directory
    /// (one relay process), or a PostgreSQL URL such as postgres://parley@db.example/parley
    /// that several relay processes may share [default: sled].
    #[arg(long, value_name = "STORE", global = true)]
    store: Option<String>,

    /// PEM certificate chain to serve instead of the self-signed certificate.
    #[arg(long, value_name = "PEM", global = true)]
    tls_cert: Option<String>,

    /// PEM private key of --tls-cert.
    #[arg(long, value_name = "PEM", global = true)]
    tls_key: Option<String>,

    /// Serve without TLS. Only allowed on a loopback address; for development and tests.
    #[arg(long, global = true)]
    plaintext: bool,

    /// Serve Prometheus metrics at http://ADDR/metrics.
    #[arg(long, value_name = "ADDR", global = true)]
    metrics_listen: Option<String>,

    /// Log format: human or json [default: human].
    #[arg(long, value_name = "FORMAT", global = true)]
    log_format: Option<String>,

    /// Log filter, such as info or parley_relay=debug [default: info].
    #[arg(long, value_name = "FILTER", global = true)]
    log_level: Option<String>,

    /// Time to report NOT_SERVING before refusing new calls on shutdown, such as 5s
    /// [default: 0s].
    #[arg(long, value_name = "DURATION", global = true)]
    shutdown_grace: Option<String>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate the configuration and print it, with where each value came from; exit 1 if
    /// it is not valid.
    CheckConfig,
    /// Return the disk space of deleted data to the file system: copy the live data of the
    /// database to a fresh one and swap it in. Stop the relay first.
    Compact,
    /// Manage handles in the directory. On the embedded store, stop the relay first; on
    /// PostgreSQL, nodes may keep serving.
    #[command(subcommand)]
    Handle(HandleCommand),
}

#[derive(Debug, Subcommand)]
enum HandleCommand {
    /// Free a handle whose owner lost their key: its directory record, KeyPackages and
    /// waiting deliveries are deleted, and whoever registers it next gets it. Everyone who
    /// knew the old key is shown the new one as CHANGED, and must compare safety numbers
    /// with its owner before writing again. Check who asks, out of band, before you do this.
    Release {
        /// The handle to free.
        #[arg(value_name = "HANDLE")]
        handle: String,
    },
}

impl Cli {
    /// The flags given, as (key, value) pairs of the configuration.
    fn flags(&self) -> Vec<(&'static str, String)> {
        let mut flags = Vec::new();
        let mut add = |key, value: &Option<String>| {
            if let Some(value) = value {
                flags.push((key, value.clone()));
            }
        };
        add("listen", &self.listen);
        add("data", &self.data);
        add("store", &self.store);
        add("tls_cert", &self.tls_cert);
        add("tls_key", &self.tls_key);
        add("metrics_listen", &self.metrics_listen);
        add("log_format", &self.log_format);
        add("log_level", &self.log_level);
        add("shutdown_grace", &self.shutdown_grace);
        if self.plaintext {
            flags.push(("plaintext", "true".to_owned()));
        }
        flags
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load(cli.config.clone(), std::env::vars_os(), &cli.flags()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("parley-relay: invalid configuration: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = match cli.command {
        Some(Command::CheckConfig) => check_config(&settings),
        Some(Command::Compact) => compact(&settings),
        Some(Command::Handle(HandleCommand::Release { handle })) => release(&settings, &handle),
        None => run(settings),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parley-relay: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// How long `check-config` waits for the PostgreSQL store to answer.
const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Prints the effective configuration, after checking that configured TLS files load and
/// that a PostgreSQL store answers with a schema this relay can use.
fn check_config(settings: &Settings) -> anyhow::Result<()> {
    let fingerprint = parley_relay::check_tls(&settings.relay_config())
        .context("the TLS certificate or key is not usable")?;
    let store = match &settings.store.value {
        StoreSetting::Postgres(url) => Some(probe_store(url, &settings.store.value.redacted())?),
        _ => None,
    };
    print!("{}", settings.render());
    if let Some(fingerprint) = fingerprint {
        println!("\n# TLS certificate SHA-256 fingerprint: {fingerprint}");
    }
    if let Some(store) = store {
        println!("\n# {store}");
    }
    Ok(())
}

/// Connects to the PostgreSQL store and describes what it found, or says why it cannot be used.
fn probe_store(url: &str, shown: &str) -> anyhow::Result<String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let probe = runtime
        .block_on(async {
            tokio::time::timeout(PROBE_TIMEOUT, parley_relay::probe_postgres(url)).await
        })
        .map_err(|_| {
            anyhow::anyhow!(
                "the PostgreSQL store {shown} did not answer within {}s",
                PROBE_TIMEOUT.as_secs()
            )
        })?
        .with_context(|| format!("cannot reach the PostgreSQL store {shown}"))?;
    let ours = probe.relay_schema_version;
    match probe.schema_version {
        None => Ok(format!(
            "PostgreSQL store reachable; no Parley schema yet (the relay creates version {ours} at start)"
        )),
        Some(version) if version > ours => anyhow::bail!(
            "the PostgreSQL store {shown} is at schema version {version}, newer than this relay \
             knows ({ours}); upgrade the relay"
        ),
        Some(version) if version < ours => Ok(format!(
            "PostgreSQL store reachable; schema version {version} (the relay migrates it to {ours} at start)"
        )),
        Some(version) => Ok(format!(
            "PostgreSQL store reachable; schema version {version}, this relay's"
        )),
    }
}

/// Refuses an operation on the embedded database when the relay's store is PostgreSQL.
fn embedded_only(settings: &Settings, operation: &str, instead: &str) -> anyhow::Result<()> {
    if let StoreSetting::Postgres(_) = settings.store.value {
        anyhow::bail!(
            "{operation} works on the embedded database, but this relay's store is PostgreSQL \
             (set by {}); {instead}",
            settings.store.source
        );
    }
    Ok(())
}

/// Compacts the database in the configured data directory.
fn compact(settings: &Settings) -> anyhow::Result<()> {
    embedded_only(
        settings,
        "compact",
        "PostgreSQL reclaims the space itself (autovacuum, or VACUUM FULL)",
    )?;
    let data_dir = settings.relay_config().data_dir;
    let compacted = parley_relay::compact(&data_dir)
        .with_context(|| format!("cannot compact the database in {}", data_dir.display()))?;
    println!(
        "compacted {}: {} -> {} bytes on disk ({} bytes of live data)",
        data_dir.display(),
        compacted.before_bytes,
        compacted.after_bytes,
        compacted.live_bytes
    );
    Ok(())
}

/// Frees a handle in the configured store.
fn release(settings: &Settings, handle: &str) -> anyhow::Result<()> {
    let released = match &settings.store.value {
        StoreSetting::Postgres(url) => {
            let shown = settings.store.value.redacted();
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .context("cannot start the async runtime")?
                .block_on(parley_relay::release_handle_postgres(url, handle))
                .with_context(|| format!("cannot release {handle} in {shown}"))?
        }
        _ => {
            let data_dir = settings.relay_config().data_dir;
            parley_relay::release_handle(&data_dir, handle)
                .with_context(|| format!("cannot release {handle} in {}", data_dir.display()))?
        }
    };
    if released.record {
        println!(
            "released {handle}: its record, {} KeyPackages and {} waiting deliveries were \
             deleted; the next registration of {handle} will show as a CHANGED key to its \
             contacts",
            released.key_packages, released.deliveries
        );
        Ok(())
    } else {
        anyhow::bail!("{handle} is not registered on this relay; nothing was changed")
    }
}

fn run(settings: Settings) -> anyhow::Result<()> {
    logging::init(settings.log_format.value, &settings.log_level.value)?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let data = settings.data.value.clone();
        let relay = Relay::open(settings.relay_config())
            .with_context(|| format!("cannot open the relay in {}", data.display()))?;
        let listen = settings.listen.value;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("cannot listen on {listen}"))?;
        let local = listener
            .local_addr()
            .context("cannot read the listening address")?;
        // Checked here as well as in serve, so nothing claims to be listening first.
        if relay.tls_fingerprint().is_none() && !local.ip().is_loopback() {
            return Err(RelayError::PlaintextNotLoopback(local).into());
        }
        // Signal handlers first: from the moment the relay says it listens, SIGTERM drains and
        // SIGHUP reloads instead of terminating the process.
        let shutdown = shutdown_signal()?;
        spawn_reload_on_hangup(relay.tls_reloader())?;
        announce(&relay, local);
        if let Some(addr) = settings.metrics_listen.value {
            serve_metrics(&relay, addr).await?;
        }
        relay.serve(listener, shutdown).await?;
        tracing::info!("relay stopped");
        Ok(())
    })
}

/// Prints where the relay listens and the fingerprint clients pin.
fn announce(relay: &Relay, local: SocketAddr) {
    match relay.tls_fingerprint() {
        Some(fingerprint) => {
            println!("parley-relay listening on {local} (TLS)");
            println!("TLS certificate SHA-256 fingerprint: {fingerprint}");
            let host = if local.ip().is_unspecified() {
                format!("<this host>:{}", local.port())
            } else {
                local.to_string()
            };
            println!(
                "Clients pin it: parley init --relay https://{host} --handle <name> --relay-fingerprint {fingerprint}"
            );
        }
        None => println!("parley-relay listening on {local} (plaintext, loopback only)"),
    }
}

/// Starts the Prometheus listener.
async fn serve_metrics(relay: &Relay, addr: SocketAddr) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen for metrics on {addr}"))?;
    let local = listener
        .local_addr()
        .context("cannot read the metrics address")?;
    let metrics = relay.metrics();
    tokio::spawn(async move {
        if let Err(error) =
            parley_relay::serve_metrics(metrics, listener, std::future::pending()).await
        {
            tracing::error!(%error, "the metrics listener failed");
        }
    });
    println!("parley-relay metrics on http://{local}/metrics");
    Ok(())
}

/// Reloads the TLS certificate and key on every SIGHUP. A plaintext relay has nothing to
/// reload, but still catches SIGHUP so that it does not terminate the process.
#[cfg(unix)]
fn spawn_reload_on_hangup(reloader: Option<TlsReloader>) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangups = signal(SignalKind::hangup()).context("cannot watch for SIGHUP")?;
    tokio::spawn(async move {
        while hangups.recv().await.is_some() {
            let Some(reloader) = &reloader else {
                tracing::info!("SIGHUP: plaintext relay, no certificate to reload");
                continue;
            };
            match reloader.reload() {
                Ok(fingerprint) => tracing::info!(%fingerprint, "TLS certificate reloaded"),
                Err(error) => tracing::error!(
                    error = %anyhow::Error::from(error),
                    "TLS reload failed; still serving the previous certificate"
                ),
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn spawn_reload_on_hangup(_reloader: Option<TlsReloader>) -> anyhow::Result<()> {
    Ok(())
}

/// A future that completes on SIGINT (Ctrl-C) or, on Unix, SIGTERM; the handlers are
/// installed before it returns.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch for SIGTERM")?;
    #[cfg(unix)]
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .context("cannot watch for SIGINT")?;
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = term.recv() => {}
            _ = interrupt.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutdown signal received");
    })
}
