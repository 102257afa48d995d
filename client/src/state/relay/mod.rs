//! The connection to a Parley relay and typed wrappers around its RPCs.
//!
//! The relay is trusted with nothing but availability: every record it returns is verified
//! by the caller, every payload it stores is ciphertext. What this module adds is the
//! transport (TLS with fingerprint pinning, or plaintext to loopback only), the proofs of
//! authority requests carry, and checks that responses have the shape the protocol promises.

mod auth;
mod connector;
mod directory;
pub(crate) mod error;
mod groups;
mod inbox;
#[cfg(test)]
// The helpers of these tests are test code too; clippy's allow-*-in-tests settings reach
// only #[test] functions.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
mod tls;
mod types;

use std::time::Duration;

use http::Uri;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::inbox_client::InboxClient;
use tonic::transport::{Channel, Endpoint};

pub(crate) use groups::MAX_SUBSCRIBED_GROUPS;
pub(crate) use types::{Delivery, Entry, GroupSubscriptionRequest, ReadPage};

use crate::api::error::RelayError;
use crate::api::fingerprint::Fingerprint;
pub(crate) use crate::api::relay_url::RelayUrl;

use connector::{TlsConnector, CONNECT_TIMEOUT};
use error::from_connect_error;
use tls::Trust;

/// Largest response accepted: a read page or inbox fetch holds many padded messages of up to
/// 1 MiB each, far beyond tonic's 4 MiB default.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// How often an idle connection is probed, so that push subscriptions notice a dead relay.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// An open connection to one relay. Cheap to clone: clones share the underlying HTTP/2
/// connection, which reconnects by itself after a failure.
#[derive(Clone, Debug)]
pub(crate) struct RelayConnection {
    channel: Channel,
}

impl RelayConnection {
    /// Connects to a relay.
    ///
    /// For `https`, a `pinned_fingerprint` (SHA-256 of the relay's leaf certificate) makes it
    /// the only certificate accepted, whatever its name or issuer; without one the system's
    /// root certificates decide. A pin for a plaintext `http` URL is refused, since it could
    /// not be checked.
    pub(crate) async fn connect(
        url: &RelayUrl,
        pinned_fingerprint: Option<&str>,
    ) -> Result<RelayConnection, RelayError> {
        let pin = pinned_fingerprint.map(Fingerprint::parse).transpose()?;
        let channel = if url.is_tls() {
            let trust = match pin {
                Some(pin) => Trust::Pinned(pin),
                None => Trust::SystemRoots,
            };
            let connector = TlsConnector::new(url, trust).await?;
            // tonic must dial `http://` or it insists on its own TLS; the origin keeps the
            // requests' scheme and authority truthful.
            let origin: Uri = url
                .to_string()
                .parse()
                .map_err(|e| RelayError::InvalidUrl(format!("`{url}`: {e}")))?;
            endpoint(&url.dial_uri())?
                .origin(origin)
                .connect_with_connector(connector)
                .await
                .map_err(|e| from_connect_error(&e))?
        } else {
            if pin.is_some() {
                return Err(RelayError::InvalidUrl(format!(
                    "`{url}` is plaintext, so a certificate fingerprint cannot be pinned; use \
                     https:// or drop the fingerprint"
                )));
            }
            let endpoint = endpoint(&url.to_string())?.connect_timeout(CONNECT_TIMEOUT);
            match tokio::time::timeout(CONNECT_TIMEOUT, endpoint.connect()).await {
                Ok(result) => result.map_err(|e| from_connect_error(&e))?,
                Err(_) => {
                    return Err(RelayError::Unreachable(format!(
                        "{url} did not answer within {} seconds",
                        CONNECT_TIMEOUT.as_secs()
                    )))
                }
            }
        };
        Ok(RelayConnection { channel })
    }

    /// Fetches the relay's TLS leaf fingerprint without trusting it, for the user to confirm
    /// on first use (and to pin from then on). Nothing is sent over this connection.
    pub(crate) async fn probe_fingerprint(url: &RelayUrl) -> Result<Fingerprint, RelayError> {
        if !url.is_tls() {
            return Err(RelayError::InvalidUrl(format!(
                "`{url}` is plaintext and has no certificate to fingerprint"
            )));
        }
        let connector = TlsConnector::new(url, Trust::ProbeOnly).await?;
        let stream = connector
            .handshake()
            .await
            .map_err(|failure| failure.to_relay_error())?;
        let leaf = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|chain| chain.first())
            .ok_or_else(|| RelayError::Tls("the relay presented no certificate".to_owned()))?;
        Ok(Fingerprint::of_certificate(leaf.as_ref()))
    }

    fn directory(&self) -> DirectoryClient<Channel> {
        DirectoryClient::new(self.channel.clone()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    fn inbox(&self) -> InboxClient<Channel> {
        InboxClient::new(self.channel.clone()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }

    fn groups(&self) -> GroupsClient<Channel> {
        GroupsClient::new(self.channel.clone()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
}

fn endpoint(uri: &str) -> Result<Endpoint, RelayError> {
    Endpoint::from_shared(uri.to_owned())
        .map(|e| e.http2_keep_alive_interval(KEEP_ALIVE_INTERVAL))
        .map_err(|e| RelayError::InvalidUrl(format!("`{uri}`: {e}")))
}
