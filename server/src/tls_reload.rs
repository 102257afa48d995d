//! A TLS certificate that can be replaced while the relay runs.
//!
//! The relay terminates TLS itself (see [`crate::incoming`]) with a rustls configuration whose
//! certificate comes from a slot that [`TlsReloader::reload`] swaps atomically: handshakes
//! after the swap present the new certificate, while connections already established keep
//! the session they negotiated, so nothing is dropped.

use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

use crate::config::TlsSetting;
use crate::error::RelayError;
use crate::tls::{self, TlsError, TlsIdentity};

/// The ALPN protocol gRPC runs over.
const ALPN_H2: &[u8] = b"h2";

/// The certificate currently presented, with its fingerprint, replaced as one value.
struct Current {
    key: Arc<CertifiedKey>,
    fingerprint: String,
}

/// Hands rustls whatever certificate is current at the time of each handshake.
struct CertSlot {
    current: RwLock<Arc<Current>>,
}

impl CertSlot {
    fn get(&self) -> Arc<Current> {
        // A panic while holding the lock cannot leave a half-written value: the write is a
        // single pointer swap, so a poisoned lock still holds a valid certificate.
        Arc::clone(&self.current.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn set(&self, next: Current) {
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(next);
    }
}

impl std::fmt::Debug for CertSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertSlot")
            .field("fingerprint", &self.get().fingerprint)
            .finish_non_exhaustive()
    }
}

impl ResolvesServerCert for CertSlot {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.get().key))
    }
}

/// Reloads a running relay's TLS certificate and key from where they were first loaded:
/// the operator's files, or `<data_dir>/tls/` for the self-signed certificate.
///
/// Cheap to clone; every clone reloads the same relay. Get one from
/// [`Relay::tls_reloader`](crate::Relay::tls_reloader) before calling
/// [`Relay::serve`](crate::Relay::serve).
#[derive(Clone)]
pub struct TlsReloader {
    setting: Arc<TlsSetting>,
    data_dir: Arc<PathBuf>,
    slot: Arc<CertSlot>,
}

impl std::fmt::Debug for TlsReloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsReloader")
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

impl TlsReloader {
    /// Wraps the identity loaded at start-up.
    pub(crate) fn new(setting: TlsSetting, data_dir: PathBuf, identity: TlsIdentity) -> Self {
        TlsReloader {
            setting: Arc::new(setting),
            data_dir: Arc::new(data_dir),
            slot: Arc::new(CertSlot {
                current: RwLock::new(Arc::new(current(&identity))),
            }),
        }
    }

    /// Lowercase hex SHA-256 of the leaf certificate presented to new connections.
    pub fn fingerprint(&self) -> String {
        self.slot.get().fingerprint.clone()
    }

    /// Reads the certificate and key again and presents them to every new connection;
    /// returns the new fingerprint. Open connections are not affected.
    ///
    /// On error the previous certificate stays in use. With the self-signed setting, missing
    /// files are generated anew (delete both to rotate the certificate).
    pub fn reload(&self) -> Result<String, RelayError> {
        let identity = tls::load(&self.setting, &self.data_dir)?
            .ok_or(RelayError::Tls(TlsError::NotConfigured))?;
        let next = current(&identity);
        let fingerprint = next.fingerprint.clone();
        self.slot.set(next);
        Ok(fingerprint)
    }

    /// A TLS acceptor that offers HTTP/2 and presents the current certificate.
    pub(crate) fn acceptor(&self) -> Result<TlsAcceptor, RelayError> {
        let mut config = rustls::ServerConfig::builder_with_provider(tls::provider())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::from)?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&self.slot) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![ALPN_H2.to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn current(identity: &TlsIdentity) -> Current {
    Current {
        key: identity.certified_key(),
        fingerprint: identity.fingerprint().to_owned(),
    }
}
