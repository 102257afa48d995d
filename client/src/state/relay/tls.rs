//! How the client decides to trust a relay's TLS certificate.
//!
//! A pinned relay is trusted by the SHA-256 of its leaf certificate alone: self-signed
//! relays have no chain and are often reached by IP, so chain and host name mean nothing
//! there, while the pin is exactly what the user confirmed. The handshake signatures are
//! still verified, so the peer must hold the pinned certificate's private key.

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::Resumption;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, Error as TlsError, RootCertStore,
    SignatureScheme,
};

use crate::api::error::RelayError;
use crate::api::fingerprint::Fingerprint;

/// ALPN protocol id of HTTP/2, which gRPC requires.
pub(crate) const ALPN_H2: &[u8] = b"h2";

/// Whom to trust when connecting.
pub(crate) enum Trust {
    /// Exactly the leaf certificate with this fingerprint.
    Pinned(Fingerprint),
    /// Certificates that chain to the operating system's roots and name the host.
    SystemRoots,
    /// Any certificate: only to read the relay's fingerprint for the user to confirm; no
    /// request is ever sent over such a connection.
    ProbeOnly,
}

/// Builds the rustls configuration for a trust decision.
///
/// Session resumption is off: a resumed session (TLS 1.2 session id, TLS 1.3 ticket) would
/// tell the relay that two connections come from the same client, which is exactly what the
/// separate channels are there to hide (see `channels`). With nothing stored, one
/// configuration can serve every connection of a client without linking them.
pub(crate) async fn client_config(trust: &Trust) -> Result<Arc<ClientConfig>, RelayError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| RelayError::Tls(format!("TLS setup failed: {e}")))?;
    let check = match trust {
        Trust::Pinned(pin) => Some(LeafCheck::Pinned(*pin)),
        Trust::ProbeOnly => Some(LeafCheck::AnyForProbe),
        Trust::SystemRoots => None,
    };
    let mut config = match check {
        Some(check) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(LeafVerifier { check, provider }))
            .with_no_client_auth(),
        None => builder
            .with_root_certificates(system_roots().await?)
            .with_no_client_auth(),
    };
    config.alpn_protocols = vec![ALPN_H2.to_vec()];
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// The TLS configuration this client connects to a pinned relay with: exactly the leaf
/// certificate whose SHA-256 is `pin` is trusted (the handshake signatures are still checked,
/// so the peer must hold its key), HTTP/2 is offered and sessions are never resumed. For
/// tools that speak the relay's gRPC protocol directly and must trust it as `parley` does.
pub async fn pinned_tls_config(pin: &Fingerprint) -> Result<Arc<ClientConfig>, RelayError> {
    client_config(&Trust::Pinned(*pin)).await
}

/// Loads the operating system's trust anchors (file I/O, hence off the async threads).
async fn system_roots() -> Result<RootCertStore, RelayError> {
    let loaded = tokio::task::spawn_blocking(rustls_native_certs::load_native_certs)
        .await
        .map_err(|e| {
            RelayError::Tls(format!("loading the system root certificates failed: {e}"))
        })?;
    for error in &loaded.errors {
        tracing::debug!(%error, "skipping an unreadable system root certificate source");
    }
    let mut roots = RootCertStore::empty();
    roots.add_parsable_certificates(loaded.certs);
    if roots.is_empty() {
        return Err(RelayError::Tls(
            "no system root certificates were found; pin the relay's certificate fingerprint \
             instead"
                .to_owned(),
        ));
    }
    Ok(roots)
}

/// Which leaf certificate the custom verifier accepts.
#[derive(Debug)]
enum LeafCheck {
    /// Exactly the leaf whose SHA-256 is the pin.
    Pinned(Fingerprint),
    /// Any leaf: for fingerprint probing only, never for a connection that carries requests.
    AnyForProbe,
}

/// Checks the leaf certificate against a [`LeafCheck`], ignoring hostname and chain, and
/// still verifies the handshake signatures so the peer must hold the certificate's key.
#[derive(Debug)]
struct LeafVerifier {
    check: LeafCheck,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for LeafVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, TlsError> {
        match &self.check {
            LeafCheck::AnyForProbe => Ok(ServerCertVerified::assertion()),
            LeafCheck::Pinned(pin)
                if Fingerprint::of_certificate(end_entity.as_ref()).ct_eq(pin) =>
            {
                Ok(ServerCertVerified::assertion())
            }
            LeafCheck::Pinned(_) => Err(TlsError::InvalidCertificate(
                CertificateError::ApplicationVerificationFailure,
            )),
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

/// Explains a TLS handshake failure in words a user can act on.
pub(crate) fn describe_handshake_error(error: &TlsError, pinned: bool) -> String {
    match error {
        TlsError::InvalidCertificate(CertificateError::ApplicationVerificationFailure)
            if pinned =>
        {
            "the relay's certificate does not match the pinned fingerprint (if the relay's \
             operator replaced its certificate, confirm the new fingerprint with them)"
                .to_owned()
        }
        TlsError::InvalidCertificate(e) => {
            format!("the relay's certificate was not accepted: {e}")
        }
        other => format!("the TLS handshake failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_verifier_accepts_only_the_pinned_leaf() {
        let leaf = CertificateDer::from(b"leaf certificate bytes".to_vec());
        let other = CertificateDer::from(b"another certificate".to_vec());
        let verifier = LeafVerifier {
            check: LeafCheck::Pinned(Fingerprint::of_certificate(leaf.as_ref())),
            provider: Arc::new(rustls::crypto::ring::default_provider()),
        };
        let name = ServerName::try_from("unrelated.example").unwrap();
        assert!(verifier
            .verify_server_cert(&leaf, &[], &name, &[], UnixTime::now())
            .is_ok());
        let refused = verifier
            .verify_server_cert(&other, &[], &name, &[], UnixTime::now())
            .unwrap_err();
        assert!(describe_handshake_error(&refused, true).contains("pinned fingerprint"));
        assert!(!verifier.supported_verify_schemes().is_empty());
    }

    #[tokio::test]
    async fn configurations_never_resume_sessions() {
        let pin = Fingerprint::of_certificate(b"leaf");
        for trust in [Trust::Pinned(pin), Trust::ProbeOnly] {
            let config = client_config(&trust).await.unwrap();
            // Disabled resumption stores no session and offers no ticket.
            assert_eq!(
                format!("{:?}", config.resumption),
                format!("{:?}", Resumption::disabled())
            );
        }
    }
}
