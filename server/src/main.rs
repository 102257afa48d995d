//! `parley-relay`: runs a Parley relay. Parses flags and hands over to the library.

#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use parley_relay::{Relay, RelayConfig, RelayError, TlsSetting};

/// The Parley relay: stores directory records, KeyPackages, sealed inbox envelopes and
/// encrypted group logs. It never sees plaintext and holds no secret of any user.
///
/// By default it serves TLS with a self-signed certificate created in the data directory on
/// first start; it prints the certificate's SHA-256 fingerprint, which clients pin.
#[derive(Debug, Parser)]
#[command(name = "parley-relay", version, about, long_about)]
struct Args {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7443")]
    listen: SocketAddr,

    /// Data directory (database and self-signed certificate); created if missing.
    #[arg(long, value_name = "DIR", default_value = "./parley-relay-data")]
    data: PathBuf,

    /// PEM certificate chain to serve instead of the self-signed certificate.
    #[arg(
        long,
        value_name = "PEM",
        requires = "tls_key",
        conflicts_with = "plaintext"
    )]
    tls_cert: Option<PathBuf>,

    /// PEM private key of --tls-cert.
    #[arg(
        long,
        value_name = "PEM",
        requires = "tls_cert",
        conflicts_with = "plaintext"
    )]
    tls_key: Option<PathBuf>,

    /// Serve without TLS. Only allowed on a loopback address; for development and tests.
    #[arg(long)]
    plaintext: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("parley-relay: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let tls = match (args.tls_cert, args.tls_key, args.plaintext) {
        (_, _, true) => TlsSetting::Plaintext,
        (Some(cert), Some(key), false) => TlsSetting::Files { cert, key },
        _ => TlsSetting::SelfSigned,
    };
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async move {
        let relay = Relay::open(RelayConfig {
            data_dir: args.data.clone(),
            tls,
        })
        .with_context(|| format!("cannot open the relay in {}", args.data.display()))?;
        let listener = tokio::net::TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let local = listener.local_addr().context("cannot read the listening address")?;
        // Checked here as well as in serve, so nothing claims to be listening first.
        if relay.tls_fingerprint().is_none() && !local.ip().is_loopback() {
            return Err(RelayError::PlaintextNotLoopback(local).into());
        }
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
        relay.serve(listener, shutdown_signal()).await?;
        Ok(())
    })
}

/// Completes on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
