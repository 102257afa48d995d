//! The connection to a Parley relay and typed wrappers around its RPCs.
//!
//! The relay is trusted with nothing but availability: every record it returns is verified
//! by the caller, every payload it stores is ciphertext. What this module adds is the
//! transport (TLS with fingerprint pinning, or plaintext to loopback only), the proofs of
//! authority requests carry, and checks that responses have the shape the protocol promises.

mod auth;
mod blobs;
#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod channel_tests;
pub(crate) mod channels;
mod connector;
mod dial;
mod directory;
pub(crate) mod error;
mod groups;
mod inbox;
mod lease;
mod socks;
#[cfg(test)]
// The helpers of these tests are test code too; clippy's allow-*-in-tests settings reach
// only #[test] functions.
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests;
pub(crate) mod tls;
pub(crate) mod types;

use std::sync::Arc;
use std::time::Duration;

use http::Uri;
use parley_proto::v1::blobs_client::BlobsClient;
use parley_proto::v1::directory_client::DirectoryClient;
use parley_proto::v1::groups_client::GroupsClient;
use parley_proto::v1::inbox_client::InboxClient;
use tonic::transport::{Channel, Endpoint};

pub(crate) use blobs::{resumable, resume_delay, MAX_RESUMES};
pub(crate) use groups::MAX_SUBSCRIBED_GROUPS;
pub(crate) use types::{Entry, GroupSubscriptionRequest, ReadPage};

use crate::api::error::RelayError;
use crate::api::fingerprint::Fingerprint;
use crate::api::proxy_url::ProxyUrl;
pub(crate) use crate::api::relay_url::RelayUrl;

use connector::Connector;
use dial::Dial;
use error::from_connect_error;
use lease::Lease;
use tls::Trust;

/// Largest response accepted: a read page or inbox fetch holds many padded messages of up to
/// 1 MiB each, far beyond tonic's 4 MiB default.
const MAX_RESPONSE_BYTES: usize = 64 << 20;

/// How often an idle connection is probed, so that push subscriptions notice a dead relay.
const KEEP_ALIVE_INTERVAL: Duration = Duration::from_secs(30);

/// One HTTP/2 connection to the relay. Cheap to clone: clones share the connection, which
/// reconnects by itself after a failure (with the same proxy credentials), and it closes
/// when the last clone, and the last stream opened on it, is gone.
///
/// Which requests may share a connection is decided by [`channels::Channels`]: a connection
/// serves one purpose (the owner's calls, one group, or one anonymous call).
#[derive(Clone, Debug)]
pub(crate) struct RelayConnection {
    channel: Channel,
    /// Present on connections handed out by [`channels::Channels`]: marks the connection as
    /// in use while this clone (or a stream opened through it) lives. Never read: holding
    /// it is what counts.
    #[allow(dead_code)]
    lease: Option<Arc<Lease>>,
}

impl RelayConnection {
    /// Connects to a relay directly, on a connection of its own (see [`Dial::prepare`]).
    #[cfg(test)]
    pub(crate) async fn connect(
        url: &RelayUrl,
        pinned_fingerprint: Option<&str>,
    ) -> Result<RelayConnection, RelayError> {
        let dial = Dial::prepare(url, pinned_fingerprint, None).await?;
        RelayConnection::open(Arc::new(dial)).await
    }

    /// Opens a new connection as `dial` says, with proxy credentials of its own.
    pub(crate) async fn open(dial: Arc<Dial>) -> Result<RelayConnection, RelayError> {
        let url = dial.url.clone();
        // tonic must dial `http://` or it insists on its own TLS; the origin keeps the
        // requests' scheme and authority truthful.
        let origin: Uri = url
            .to_string()
            .parse()
            .map_err(|e| RelayError::InvalidUrl(format!("`{url}`: {e}")))?;
        let channel = endpoint(&url.dial_uri())?
            .origin(origin)
            .connect_with_connector(Connector::new(dial))
            .await
            .map_err(|e| from_connect_error(&e))?;
        Ok(RelayConnection {
            channel,
            lease: None,
        })
    }

    /// This connection, marked in use until the returned clone (and every stream opened
    /// through it) is dropped.
    pub(crate) fn leased(&self, lease: Arc<Lease>) -> RelayConnection {
        RelayConnection {
            channel: self.channel.clone(),
            lease: Some(lease),
        }
    }

    /// Fetches the relay's TLS leaf fingerprint without trusting it, for the user to confirm
    /// on first use (and to pin from then on). Nothing is sent over this connection, which
    /// goes through `proxy` if one is given.
    pub(crate) async fn probe_fingerprint(
        url: &RelayUrl,
        proxy: Option<ProxyUrl>,
    ) -> Result<Fingerprint, RelayError> {
        if !url.is_tls() {
            return Err(RelayError::InvalidUrl(format!(
                "`{url}` is plaintext and has no certificate to fingerprint"
            )));
        }
        let dial = Dial::with_trust(url, Trust::ProbeOnly, proxy).await?;
        let stream = Connector::new(Arc::new(dial))
            .tls_handshake()
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

    fn blobs(&self) -> BlobsClient<Channel> {
        BlobsClient::new(self.channel.clone()).max_decoding_message_size(MAX_RESPONSE_BYTES)
    }
}

fn endpoint(uri: &str) -> Result<Endpoint, RelayError> {
    Endpoint::from_shared(uri.to_owned())
        .map(|e| e.http2_keep_alive_interval(KEEP_ALIVE_INTERVAL))
        .map_err(|e| RelayError::InvalidUrl(format!("`{uri}`: {e}")))
}
