//! The connector handed to tonic: TCP (directly or through a SOCKS5 proxy), then TLS with our
//! own certificate verifier (pinning), so that failures come back as typed errors. Each call
//! opens a connection of its own, with its own proxy credentials.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::dial::Dial;
use super::socks::{self, Credentials, SocksError, Target};
use super::tls::{describe_handshake_error, ALPN_H2};
use crate::api::error::RelayError;

/// How long TCP connect plus TLS handshake may take before the relay counts as unreachable.
pub(crate) const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection attempt failed; carried through tonic's error chain and turned back into
/// a [`RelayError`] by [`super::error::from_connect_error`].
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConnectFailure {
    /// TCP could not connect (refused, no route, DNS).
    #[error("could not connect to {addr}: {source}")]
    Tcp {
        /// host:port dialled.
        addr: String,
        /// The socket error.
        source: io::Error,
    },
    /// The SOCKS5 proxy could not be used, or could not reach the relay.
    #[error("through the proxy {proxy}: {source}")]
    Proxy {
        /// The proxy's address.
        proxy: String,
        /// What went wrong with it.
        source: SocksError,
    },
    /// Nothing answered in time.
    #[error("{addr} did not answer within {} seconds", CONNECT_TIMEOUT.as_secs())]
    Timeout {
        /// host:port dialled.
        addr: String,
    },
    /// The TLS handshake failed or the certificate was not trusted.
    #[error("{message}")]
    Tls {
        /// What went wrong, for people.
        message: String,
    },
}

impl ConnectFailure {
    pub(crate) fn to_relay_error(&self) -> RelayError {
        match self {
            ConnectFailure::Tls { message } => RelayError::Tls(message.clone()),
            other => RelayError::Unreachable(other.to_string()),
        }
    }
}

/// A byte stream to the relay: plain TCP (loopback only) or TLS, either maybe proxied.
pub(crate) trait Io: AsyncRead + AsyncWrite + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin> Io for T {}

/// Dials the relay and runs the TLS handshake with our trust decision.
#[derive(Clone)]
pub(crate) struct Connector {
    dial: Arc<Dial>,
    /// Made up once per connector: every channel has its own, so that a proxy that isolates
    /// by credentials (Tor) puts each on its own circuit. A reconnect of the same channel
    /// reuses them, which only links what the channel's purpose links anyway.
    credentials: Credentials,
}

impl Connector {
    /// A connector for one channel.
    pub(crate) fn new(dial: Arc<Dial>) -> Connector {
        Connector {
            dial,
            credentials: Credentials::random(),
        }
    }

    fn addr(&self) -> String {
        format!("{}:{}", self.dial.url.host(), self.dial.url.port())
    }

    /// TCP connect (through the proxy if there is one), bounded by [`CONNECT_TIMEOUT`].
    async fn tcp(&self) -> Result<TcpStream, ConnectFailure> {
        let tcp = match &self.dial.proxy {
            None => TcpStream::connect((self.dial.url.bare_host(), self.dial.url.port()))
                .await
                .map_err(|source| ConnectFailure::Tcp {
                    addr: self.addr(),
                    source,
                })?,
            Some(proxy) => {
                let failed = |source: SocksError| ConnectFailure::Proxy {
                    proxy: proxy.to_string(),
                    source,
                };
                let mut tcp = TcpStream::connect((proxy.bare_host(), proxy.port()))
                    .await
                    .map_err(|e| failed(SocksError::Io(e)))?;
                let target = self.target(proxy.resolves_remotely()).await?;
                socks::connect(&mut tcp, &target, self.dial.url.port(), &self.credentials)
                    .await
                    .map_err(failed)?;
                tcp
            }
        };
        // gRPC sends many small frames; Nagle would only add latency.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not disable Nagle's algorithm");
        }
        Ok(tcp)
    }

    /// What to ask the proxy for: the host name itself for `socks5h` (no DNS query leaves
    /// this computer), an address resolved here for `socks5`.
    async fn target(&self, remote_dns: bool) -> Result<Target, ConnectFailure> {
        let host = self.dial.url.bare_host();
        if let Ok(ip) = host.parse() {
            return Ok(Target::Ip(ip));
        }
        if remote_dns {
            return Ok(Target::Domain(host.to_owned()));
        }
        let resolved = tokio::net::lookup_host((host, self.dial.url.port()))
            .await
            .map_err(|source| ConnectFailure::Tcp {
                addr: self.addr(),
                source,
            })?
            .next()
            .ok_or_else(|| ConnectFailure::Tcp {
                addr: self.addr(),
                source: io::Error::new(io::ErrorKind::NotFound, "the name has no address"),
            })?;
        Ok(Target::Ip(resolved.ip()))
    }

    /// TCP connect and TLS handshake, bounded by [`CONNECT_TIMEOUT`]; for `https` only.
    pub(crate) async fn tls_handshake(&self) -> Result<TlsStream<TcpStream>, ConnectFailure> {
        self.bounded(self.tls_unbounded()).await
    }

    async fn tls_unbounded(&self) -> Result<TlsStream<TcpStream>, ConnectFailure> {
        let config = self.dial.tls.clone().ok_or_else(|| ConnectFailure::Tls {
            message: "a plaintext relay has no TLS".to_owned(),
        })?;
        let server_name =
            ServerName::try_from(self.dial.url.bare_host().to_owned()).map_err(|e| {
                ConnectFailure::Tls {
                    message: format!("`{}` is not a TLS server name: {e}", self.dial.url.host()),
                }
            })?;
        let tcp = self.tcp().await?;
        tokio_rustls::TlsConnector::from(config)
            .connect(server_name, tcp)
            .await
            .map_err(|error| self.classify_handshake_error(error))
    }

    /// The stream tonic speaks HTTP/2 over: TLS (with h2 agreed) or, for `http`, plain TCP.
    async fn stream(&self) -> Result<Box<dyn Io>, ConnectFailure> {
        if self.dial.tls.is_none() {
            return Ok(Box::new(self.bounded(self.tcp()).await?));
        }
        let stream = self.tls_handshake().await?;
        if stream.get_ref().1.alpn_protocol() != Some(ALPN_H2) {
            return Err(ConnectFailure::Tls {
                message: "the server did not agree to speak HTTP/2 (gRPC); is this a Parley \
                          relay?"
                    .to_owned(),
            });
        }
        Ok(Box::new(stream))
    }

    async fn bounded<T>(
        &self,
        work: impl Future<Output = Result<T, ConnectFailure>>,
    ) -> Result<T, ConnectFailure> {
        match tokio::time::timeout(CONNECT_TIMEOUT, work).await {
            Ok(result) => result,
            Err(_) => Err(ConnectFailure::Timeout { addr: self.addr() }),
        }
    }

    fn classify_handshake_error(&self, error: io::Error) -> ConnectFailure {
        let tls_error = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match tls_error {
            Some(tls) => ConnectFailure::Tls {
                message: describe_handshake_error(tls, self.dial.pinned),
            },
            // A bare socket error mid-handshake: the peer went away rather than disagreed.
            None => ConnectFailure::Tcp {
                addr: self.addr(),
                source: error,
            },
        }
    }
}

impl tower::Service<Uri> for Connector {
    type Response = TokioIo<Box<dyn Io>>;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    // The URI is our own `http://` dial address (see `RelayUrl::dial_uri`); the connector
    // already knows where to go and how to trust it.
    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(TokioIo::new(this.stream().await?)) })
    }
}
