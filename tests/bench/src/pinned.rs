//! gRPC channels to the relay for the scenarios that speak the wire directly (anonymous
//! deposits, idle subscribers): TLS trusting exactly the certificate with the pinned
//! SHA-256, as the client library does, from a chosen loopback source address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use anyhow::{anyhow, Context};
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, SignatureScheme,
};
use sha2::{Digest, Sha256};
use tokio::net::TcpSocket;
use tokio_rustls::TlsConnector;
use tonic::transport::{Channel, Endpoint, Uri};

/// A TLS channel to `url` (`https://HOST:PORT`) whose certificate hashes to `fingerprint`,
/// its TCP connection bound to `source` when given (several loopback addresses spread
/// thousands of connections over more source ports than one address has).
pub(crate) async fn channel(
    url: &str,
    fingerprint: &str,
    source: Option<IpAddr>,
) -> anyhow::Result<Channel> {
    let pin: [u8; 32] = hex::decode(fingerprint)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| anyhow!("the relay fingerprint must be 64 hex digits"))?;
    let target: SocketAddr = url
        .strip_prefix("https://")
        .ok_or_else(|| anyhow!("{url}: the relay URL must start with https://"))?
        .trim_end_matches('/')
        .parse()
        .with_context(|| format!("{url}: the bench dials an IP address and port"))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinVerifier { pin, provider }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tls = TlsConnector::from(Arc::new(config));
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

/// Trusts exactly the leaf certificate whose SHA-256 is `pin`, and still checks the
/// handshake signatures, so the peer must hold that certificate's key.
#[derive(Debug)]
struct PinVerifier {
    pin: [u8; 32],
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        if Sha256::digest(end_entity.as_ref()).as_slice() == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(TlsError::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, TlsError> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
