//! gRPC channels to the relay for the scenarios that speak the wire directly (anonymous
//! deposits, idle subscribers): TLS trusting exactly the certificate with the pinned
//! SHA-256, as the client library does, from a chosen loopback source address.

use std::net::{IpAddr, SocketAddr};

use anyhow::{anyhow, Context};
use hyper_util::rt::TokioIo;
use parley_client::Fingerprint;
use rustls::pki_types::ServerName;
use tokio::net::TcpSocket;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

/// A TLS channel to `url` (`https://HOST:PORT`) whose certificate hashes to `fingerprint`,
/// its TCP connection bound to `source` when given (several loopback addresses spread
/// thousands of connections over more source ports than one address has). The TLS is the
/// client library's own for a pinned relay.
pub(crate) async fn channel(
    url: &str,
    fingerprint: &str,
    source: Option<IpAddr>,
) -> anyhow::Result<Channel> {
    let pin = Fingerprint::parse(fingerprint)
        .map_err(|_| anyhow!("the relay fingerprint must be 64 hex digits"))?;
    let target: SocketAddr = url
        .strip_prefix("https://")
        .ok_or_else(|| anyhow!("{url}: the relay URL must start with https://"))?
        .trim_end_matches('/')
        .parse()
        .with_context(|| format!("{url}: the bench dials an IP address and port"))?;
    let tls = TlsConnector::from(parley_client::pinned_tls_config(&pin).await?);
    let connector = tower::service_fn(move |_: Uri| {
        let tls = tls.clone();
        async move {
            let socket = match target {
                SocketAddr::V4(_) => TcpSocket::new_v4()?,
                SocketAddr::V6(_) => TcpSocket::new_v6()?,
            };
            if let Some(source) = source {
                socket.bind(SocketAddr::new(source, 0))?;
            }
            let tcp = socket.connect(target).await?;
            tcp.set_nodelay(true)?;
            let name = ServerName::IpAddress(target.ip().into());
            let stream = tls.connect(name, tcp).await?;
            Ok::<_, std::io::Error>(TokioIo::new(stream))
        }
    });
    // The URI only names the connection for tonic; the connector dials `target` itself.
    Endpoint::from_shared(format!("http://{target}"))?
        .connect_with_connector(connector)
        .await
        .with_context(|| format!("connecting to {url}"))
}
