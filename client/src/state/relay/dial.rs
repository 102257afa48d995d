//! How to reach the relay: its address, whom to trust, and the proxy (if any). Prepared
//! once per client and shared by all its connections, each of which is still opened on its
//! own (own TCP stream, own SOCKS credentials, own TLS handshake without resumption).

use std::sync::Arc;

use rustls::ClientConfig;

use super::tls::{client_config, Trust};
use crate::api::error::RelayError;
use crate::api::fingerprint::Fingerprint;
use crate::api::proxy_url::ProxyUrl;
use crate::api::relay_url::RelayUrl;

/// Everything a new connection to the relay needs.
#[derive(Clone, Debug)]
pub(crate) struct Dial {
    /// The relay.
    pub(crate) url: RelayUrl,
    /// TLS settings for `https` (no session resumption), `None` for plaintext.
    pub(crate) tls: Option<Arc<ClientConfig>>,
    /// Whether the TLS trust is a pinned fingerprint (for error messages).
    pub(crate) pinned: bool,
    /// The SOCKS5 proxy every connection goes through, if any.
    pub(crate) proxy: Option<ProxyUrl>,
}

impl Dial {
    /// Checks the fingerprint against the URL and builds the TLS settings.
    ///
    /// For `https`, a `pinned_fingerprint` (SHA-256 of the relay's leaf certificate) makes it
    /// the only certificate accepted, whatever its name or issuer; without one the system's
    /// root certificates decide. A pin for a plaintext `http` URL is refused, since it could
    /// not be checked.
    pub(crate) async fn prepare(
        url: &RelayUrl,
        pinned_fingerprint: Option<&str>,
        proxy: Option<ProxyUrl>,
    ) -> Result<Dial, RelayError> {
        let pin = pinned_fingerprint.map(Fingerprint::parse).transpose()?;
        if !url.is_tls() {
            if pin.is_some() {
                return Err(RelayError::InvalidUrl(format!(
                    "`{url}` is plaintext, so a certificate fingerprint cannot be pinned; use \
                     https:// or drop the fingerprint"
                )));
            }
            return Ok(Dial {
                url: url.clone(),
                tls: None,
                pinned: false,
                proxy,
            });
        }
        let trust = match pin {
            Some(pin) => Trust::Pinned(pin),
            None => Trust::SystemRoots,
        };
        Dial::with_trust(url, trust, proxy).await
    }

    /// A TLS dial with this trust decision.
    pub(crate) async fn with_trust(
        url: &RelayUrl,
        trust: Trust,
        proxy: Option<ProxyUrl>,
    ) -> Result<Dial, RelayError> {
        let pinned = matches!(trust, Trust::Pinned(_));
        Ok(Dial {
            url: url.clone(),
            tls: Some(client_config(&trust).await?),
            pinned,
            proxy,
        })
    }
}
