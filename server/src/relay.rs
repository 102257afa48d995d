//! Opening a relay and serving it on a listener.

use std::future::Future;
use std::time::Duration;

use futures::StreamExt;
use parley_proto::v1::directory_server::DirectoryServer;
use parley_proto::v1::groups_server::GroupsServer;
use parley_proto::v1::inbox_server::InboxServer;
use tokio::net::TcpListener;
use tokio_stream::wrappers::TcpListenerStream;
use tonic::transport::{Server, ServerTlsConfig};

use crate::config::RelayConfig;
use crate::error::RelayError;
use crate::limits::MAX_DECODING_MESSAGE_SIZE;
use crate::service::{DirectoryService, GroupsService, InboxService, RelayState};
use crate::shutdown;
use crate::store::Store;
use crate::tls::{self, TlsIdentity};

/// A relay with its database open and its TLS identity loaded, ready to serve.
pub struct Relay {
    store: Store,
    tls: Option<TlsIdentity>,
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Relay")
            .field("tls_fingerprint", &self.tls_fingerprint())
            .finish_non_exhaustive()
    }
}

impl Relay {
    /// Opens the database in `config.data_dir` (creating the directory) and loads or creates
    /// the TLS identity.
    pub fn open(config: RelayConfig) -> Result<Relay, RelayError> {
        std::fs::create_dir_all(&config.data_dir)?;
        let store = Store::open(&config.data_dir.join("db"))?;
        let tls = tls::load(&config.tls, &config.data_dir)?;
        Ok(Relay { store, tls })
    }

    /// Lowercase hex SHA-256 of the leaf certificate's DER (64 characters, no separators),
    /// which clients pin; `None` for plaintext.
    pub fn tls_fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(|tls| tls.fingerprint().to_owned())
    }

    /// Serves Directory, Inbox and Groups on `listener` until `shutdown` completes, then stops
    /// accepting, ends open subscriptions, waits for in-flight requests and flushes the
    /// database.
    ///
    /// Without TLS, the listener must be bound to a loopback address.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), RelayError> {
        let local = listener.local_addr()?;
        if self.tls.is_none() && !local.ip().is_loopback() {
            return Err(RelayError::PlaintextNotLoopback(local));
        }
        let (trigger, signal) = shutdown::channel();
        let state = RelayState::new(self.store.clone(), signal);

        let mut server = Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(20)));
        if let Some(tls) = &self.tls {
            server = server.tls_config(
                ServerTlsConfig::new()
                    .identity(tls.to_tonic())
                    .timeout(Duration::from_secs(10)),
            )?;
        }
        let router = server
            .add_service(
                DirectoryServer::new(DirectoryService::new(state.clone()))
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE),
            )
            .add_service(
                InboxServer::new(InboxService::new(state.clone()))
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE),
            )
            .add_service(
                GroupsServer::new(GroupsService::new(state))
                    .max_decoding_message_size(MAX_DECODING_MESSAGE_SIZE),
            );
        let incoming = TcpListenerStream::new(listener).map(|conn| {
            if let Ok(stream) = &conn {
                // Small request/response exchanges; Nagle would only add latency.
                let _ = stream.set_nodelay(true);
            }
            conn
        });
        tracing::info!(tls = self.tls.is_some(), "relay serving");
        router
            .serve_with_incoming_shutdown(incoming, async move {
                shutdown.await;
                tracing::info!("shutting down");
                trigger.fire();
            })
            .await?;
        self.store.flush().await?;
        Ok(())
    }
}
