//! The TCP + TLS connector handed to tonic, so that our own certificate verifier (pinning)
//! decides whom to trust, and so that TLS failures come back as typed errors.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::tls::{client_config, describe_handshake_error, Trust, ALPN_H2};
use crate::api::error::RelayError;
use crate::api::relay_url::RelayUrl;

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

/// Dials the relay over TCP and runs the TLS handshake with our trust decision.
#[derive(Clone)]
pub(crate) struct TlsConnector {
    config: Arc<ClientConfig>,
    server_name: ServerName<'static>,
    host: String,
    port: u16,
    pinned: bool,
}

impl TlsConnector {
    pub(crate) async fn new(url: &RelayUrl, trust: Trust) -> Result<TlsConnector, RelayError> {
        let pinned = matches!(trust, Trust::Pinned(_));
        let config = client_config(&trust).await?;
        let server_name = ServerName::try_from(url.bare_host().to_owned()).map_err(|e| {
            RelayError::InvalidUrl(format!("`{}` is not a TLS server name: {e}", url.host()))
        })?;
        Ok(TlsConnector {
            config,
            server_name,
            host: url.bare_host().to_owned(),
            port: url.port(),
            pinned,
        })
    }

    fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// TCP connect and TLS handshake, bounded by [`CONNECT_TIMEOUT`].
    pub(crate) async fn handshake(&self) -> Result<TlsStream<TcpStream>, ConnectFailure> {
        let addr = self.addr();
        match tokio::time::timeout(CONNECT_TIMEOUT, self.handshake_unbounded()).await {
            Ok(result) => result,
            Err(_) => Err(ConnectFailure::Timeout { addr }),
        }
    }

    async fn handshake_unbounded(&self) -> Result<TlsStream<TcpStream>, ConnectFailure> {
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|source| ConnectFailure::Tcp {
                addr: self.addr(),
                source,
            })?;
        // gRPC sends many small frames; Nagle would only add latency.
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::debug!(%error, "could not disable Nagle's algorithm");
        }
        tokio_rustls::TlsConnector::from(self.config.clone())
            .connect(self.server_name.clone(), tcp)
            .await
            .map_err(|error| self.classify_handshake_error(error))
    }

    fn classify_handshake_error(&self, error: io::Error) -> ConnectFailure {
        let tls_error = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>());
        match tls_error {
            Some(tls) => ConnectFailure::Tls {
                message: describe_handshake_error(tls, self.pinned),
            },
            // A bare socket error mid-handshake: the peer went away rather than disagreed.
            None => ConnectFailure::Tcp {
                addr: self.addr(),
                source: error,
            },
        }
    }
}

impl tower::Service<Uri> for TlsConnector {
    type Response = TokioIo<TlsStream<TcpStream>>;
    type Error = ConnectFailure;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    // The URI is our own `http://` dial address (see `RelayUrl::dial_uri`); the connector
    // already knows where to go and how to trust it.
    fn call(&mut self, _uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move {
            let stream = this.handshake().await?;
            let alpn_ok = stream.get_ref().1.alpn_protocol() == Some(ALPN_H2);
            if !alpn_ok {
                return Err(ConnectFailure::Tls {
                    message: "the server did not agree to speak HTTP/2 (gRPC); is this a Parley \
                              relay?"
                        .to_owned(),
                });
            }
            Ok(TokioIo::new(stream))
        })
    }
}
