//! gRPC channels to a test relay: TLS trusting exactly the relay's certificate, or plaintext.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

/// How long a connection to a relay on loopback may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connects to the relay at `addr` from the loopback address `source` (the system's choice
/// if `None`): over TLS trusting only `cert_pem` if given (the relay's certificate names
/// `localhost`), else in plaintext.
pub(crate) async fn connect(
    addr: SocketAddr,
    cert_pem: Option<Vec<u8>>,
    source: Option<IpAddr>,
) -> Channel {
    let scheme = if cert_pem.is_some() { "https" } else { "http" };
    let mut endpoint = Endpoint::from_shared(format!("{scheme}://{addr}"))
        .expect("a loopback URL is a valid endpoint")
        .connect_timeout(CONNECT_TIMEOUT)
        .local_address(source);
    if let Some(pem) = cert_pem {
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pem))
            .domain_name("localhost");
        endpoint = endpoint
            .tls_config(tls)
            .expect("the relay's certificate makes a TLS configuration");
    }
    endpoint
        .connect()
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test relay at {addr}: {e}"))
}
