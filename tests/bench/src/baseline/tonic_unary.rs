//! Raw tonic unary calls over TLS with the same payload: the transport alone, with nothing
//! behind it. The relay's `Deposit` figures are held against these, so what they add over
//! gRPC, HTTP/2 and TLS on this machine is visible.
//!
//! The server runs in a child process (this binary with the argument `serve-raw`), so its
//! work does not share a runtime, or count against the CPU time, of the load generator, as
//! a real relay would not.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context};
use parley_proto::v1::inbox_client::InboxClient;
use parley_proto::v1::inbox_server::{Inbox, InboxServer};
use parley_proto::v1::{
    AckRequest, AckResponse, Delivery, DepositRequest, DepositResponse, FetchRequest,
    FetchResponse, SubscribeInboxRequest,
};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinSet;
use tonic::codegen::tokio_stream;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{
    Certificate, Channel, ClientTlsConfig, Endpoint, Identity, Server, ServerTlsConfig,
};
use tonic::{Request, Response, Status};

/// The argument that makes this binary run [`serve_child`].
pub(crate) const SERVE_ARG: &str = "serve-raw";

/// The first word of the line the child prints once it listens.
const READY_WORD: &str = "RAW";

/// Connections the throughput load is spread over: one HTTP/2 connection would serialise
/// every call through one TLS stream and one server task, which a relay with many clients
/// never sees.
const CONNECTIONS: usize = 8;

/// Untimed calls before the throughput window, so connection set-up, HTTP/2 window growth
/// and allocator warm-up are not counted.
const WARM_UP: Duration = Duration::from_millis(500);

/// Untimed calls before the latency samples, for the same reason.
const LATENCY_WARM_UP_CALLS: usize = 16;

/// How long the child may take to print its address before it is taken for dead.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// An inbox that accepts every deposit at once and stores nothing.
struct NullInbox;

#[tonic::async_trait]
impl Inbox for NullInbox {
    async fn deposit(
        &self,
        _request: Request<DepositRequest>,
    ) -> Result<Response<DepositResponse>, Status> {
        Ok(Response::new(DepositResponse {}))
    }

    async fn fetch(
        &self,
        _request: Request<FetchRequest>,
    ) -> Result<Response<FetchResponse>, Status> {
        Err(Status::unimplemented("not measured"))
    }

    async fn ack(&self, _request: Request<AckRequest>) -> Result<Response<AckResponse>, Status> {
        Err(Status::unimplemented("not measured"))
    }

    type SubscribeStream = tokio_stream::Empty<Result<Delivery, Status>>;

    async fn subscribe(
        &self,
        _request: Request<SubscribeInboxRequest>,
    ) -> Result<Response<Self::SubscribeStream>, Status> {
        Err(Status::unimplemented("not measured"))
    }
}

/// Runs the raw server in this (child) process: a fresh self-signed certificate for
/// `localhost`, `127.0.0.1` on a free port, one line on stdout saying where and with which
/// certificate, then serves until stdin reaches end of file, i.e. until the parent closes it
/// or dies.
pub(crate) async fn serve_child() -> anyhow::Result<()> {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()])?;
    let cert_pem = certified.cert.pem();
    let key_pem = certified.signing_key.serialize_pem();

    let listener = tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
        .await
        .context("binding the raw server")?;
    let addr = listener.local_addr()?;
    // TCP_NODELAY as the relay sets it on every connection it accepts: without it small
    // responses and WINDOW_UPDATE frames wait on delayed ACKs.
    let incoming = TcpIncoming::from(listener).with_nodelay(Some(true));
    let tls = ServerTlsConfig::new().identity(Identity::from_pem(&cert_pem, &key_pem));

    {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        writeln!(
            out,
            "{READY_WORD} https://{addr} {}",
            hex::encode(cert_pem.as_bytes())
        )?;
        out.flush()?;
    }

    // Blocking std stdin on its own thread rather than tokio's, which would need the
    // `io-std` feature for this one read.
    let stdin_closed = tokio::task::spawn_blocking(|| {
        std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink())
    });
    Server::builder()
        .tls_config(tls)?
        .add_service(InboxServer::new(NullInbox))
        .serve_with_incoming_shutdown(incoming, async {
            // A read error ends serving too: the parent is gone either way.
            let _ = stdin_closed.await;
        })
        .await
        .context("serving raw tonic")?;
    Ok(())
}

/// A raw tonic server running in a child process, killed when this is dropped.
pub(crate) struct RawServer {
    /// `https://127.0.0.1:PORT`.
    url: String,
    /// The server's self-signed certificate, the only one its clients trust.
    cert_pem: Vec<u8>,
    /// The server process; its stdin is held open, since closing it stops the server.
    child: Child,
}

impl RawServer {
    /// Starts the raw server as a child process of this binary and waits until it listens.
    pub(crate) async fn start() -> anyhow::Result<RawServer> {
        let exe = std::env::current_exe().context("finding this binary to run the raw server")?;
        let mut child = Command::new(exe)
            .arg(SERVE_ARG)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .context("starting the raw server")?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| anyhow!("the raw server's stdout is not piped"))?;
        let line = tokio::time::timeout(START_TIMEOUT, BufReader::new(stdout).lines().next_line())
            .await
            .context("the raw server did not start in time")??
            .ok_or_else(|| anyhow!("the raw server exited before saying where it listens"))?;
        let mut words = line.split_whitespace();
        let (Some(READY_WORD), Some(url), Some(cert_hex), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            bail!("unexpected line from the raw server: {line:?}");
        };
        let cert_pem = hex::decode(cert_hex).context("the raw server's certificate")?;
        Ok(RawServer {
            url: url.to_string(),
            cert_pem,
            child,
        })
    }

    /// The server process's id, to sample its CPU use; `None` once it has exited.
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    /// A new TLS connection to the server, trusting exactly its certificate.
    pub(crate) async fn connect(&self) -> anyhow::Result<InboxClient<Channel>> {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(&self.cert_pem))
            .domain_name("localhost");
        let channel = Endpoint::from_shared(self.url.clone())?
            .tls_config(tls)?
            .tcp_nodelay(true)
            .connect()
            .await
            .with_context(|| format!("connecting to the raw server at {}", self.url))?;
        Ok(InboxClient::new(channel))
    }

    /// Calls per second with `in_flight` deposits of `payload` bytes always outstanding,
    /// spread over [`CONNECTIONS`] connections, over `duration` after a [`WARM_UP`].
    pub(crate) async fn throughput(
        &self,
        payload: usize,
        in_flight: usize,
        duration: Duration,
    ) -> anyhow::Result<f64> {
        if in_flight == 0 || duration.is_zero() {
            bail!("throughput needs calls in flight and a duration");
        }
        let mut clients = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            clients.push(self.connect().await?);
        }
        let start = Instant::now();
        let counted_from = start + WARM_UP;
        let until = counted_from + duration;
        let mut tasks = JoinSet::new();
        for i in 0..in_flight {
            let mut client = clients[i % CONNECTIONS].clone();
            tasks.spawn(async move {
                let mut counted = 0u64;
                loop {
                    if Instant::now() >= until {
                        return Ok::<u64, anyhow::Error>(counted);
                    }
                    client
                        .deposit(DepositRequest {
                            handle: "bench".into(),
                            envelope: vec![0u8; payload],
                        })
                        .await?;
                    // Counted by when the call completed, so calls straddling either edge
                    // of the window count once, as in a steady state.
                    let done = Instant::now();
                    if done >= counted_from && done < until {
                        counted += 1;
                    }
                }
            });
        }
        let mut calls = 0u64;
        while let Some(result) = tasks.join_next().await {
            calls += result.context("a load task failed")??;
        }
        Ok(calls as f64 / duration.as_secs_f64())
    }

    /// Each call's duration, `calls` deposits of `payload` bytes one at a time on one
    /// connection (after a few untimed ones).
    pub(crate) async fn latencies(
        &self,
        payload: usize,
        calls: usize,
    ) -> anyhow::Result<Vec<Duration>> {
        let mut client = self.connect().await?;
        let mut samples = Vec::with_capacity(calls);
        for i in 0..LATENCY_WARM_UP_CALLS + calls {
            // The request is built outside the timing: the payload copy is the caller's.
            let request = DepositRequest {
                handle: "bench".into(),
                envelope: vec![0u8; payload],
            };
            let start = Instant::now();
            client.deposit(request).await?;
            if i >= LATENCY_WARM_UP_CALLS {
                samples.push(start.elapsed());
            }
        }
        Ok(samples)
    }
}
