//! Opening a relay and serving it on a listener.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use parley_crypto::clock::Clock;

use tokio::net::TcpListener;
use tonic::transport::Server;

use crate::config::RelayConfig;
use crate::config::StoreSetting;
use crate::error::RelayError;
use crate::health;
use crate::incoming;
use crate::limits::LimitsConfig;
use crate::metrics::Metrics;
use crate::service::{self, RelayState};
use crate::shutdown;
use crate::store::{self as db, PgStore, SharedStore, SledStore};
use crate::tls;
use crate::tls_reload::TlsReloader;

/// A relay with its database open and its TLS identity loaded, ready to serve.
pub struct Relay {
    store: SharedStore,
    tls: Option<TlsReloader>,
    shutdown_grace: Duration,
    limits: LimitsConfig,
    clock: Arc<dyn Clock>,
    #[cfg(feature = "observe")]
    observer: Option<Arc<dyn crate::observe::RequestObserver>>,
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
        config
            .limits
            .validate()
            .map_err(|error| RelayError::Limits(error.to_string()))?;
        let store: SharedStore = match &config.store {
            StoreSetting::Sled => {
                // Finishes an interrupted compaction, and compacts a bloated database, before
                // opening.
                db::prepare(&config.data_dir.join("db"), &config.limits)?;
                Arc::new(
                    SledStore::open_with_cache(
                        &config.data_dir.join("db"),
                        config.flush,
                        config.limits.storage_cache_bytes,
                    )?
                    .with_disk_reserve(config.limits.min_free_disk_bytes),
                )
            }
            // Connects (and migrates) when serving starts, on the runtime that serves.
            StoreSetting::Postgres(url) => Arc::new(PgStore::new(url)?),
        };
        let tls = tls::load(&config.tls, &config.data_dir)?.map(|identity| {
            TlsReloader::new(config.tls.clone(), config.data_dir.clone(), identity)
        });
        Ok(Relay {
            store,
            tls,
            shutdown_grace: config.shutdown_grace,
            limits: config.limits,
            clock: config.clock,
            #[cfg(feature = "observe")]
            observer: None,
        })
    }

    /// Hands every Parley request to `observer` (with the connection it came on) before it
    /// is handled. For test kits only; see [`crate::observe`].
    #[cfg(feature = "observe")]
    pub fn observe(mut self, observer: Arc<dyn crate::observe::RequestObserver>) -> Relay {
        self.observer = Some(observer);
        self
    }

    /// The relay's Prometheus metrics, to serve with [`serve_metrics`](crate::serve_metrics)
    /// on a listener of their own.
    pub fn metrics(&self) -> Metrics {
        self.store.metrics()
    }

    /// Lowercase hex SHA-256 of the leaf certificate's DER (64 characters, no separators),
    /// which clients pin; `None` for plaintext.
    pub fn tls_fingerprint(&self) -> Option<String> {
        self.tls.as_ref().map(TlsReloader::fingerprint)
    }

    /// A handle that reloads the TLS certificate and key while the relay serves (on SIGHUP,
    /// say); `None` for plaintext.
    pub fn tls_reloader(&self) -> Option<TlsReloader> {
        self.tls.clone()
    }

    /// Serves Directory, Inbox and Groups (with `grpc.health.v1` and server reflection) on
    /// `listener` until `shutdown` completes. Then it reports NOT_SERVING, keeps serving for
    /// the configured shutdown grace, stops accepting connections and calls, ends open
    /// subscriptions and health watches, waits for in-flight requests and flushes the database.
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
        let (health_control, health_service) = health::health(signal.clone()).await;
        let (reflection_v1, reflection_v1alpha) = health::reflection()?;
        let state = RelayState::new(self.store.clone(), signal, &self.limits, self.clock.clone());
        // A database that cannot be reached or migrated stops the relay before it serves.
        self.store.start(state.change_sink()).await?;
        let housekeeping = state.start_housekeeping();

        let acceptor = self.tls.as_ref().map(TlsReloader::acceptor).transpose()?;
        let mut server = Server::builder()
            .http2_keepalive_interval(Some(Duration::from_secs(30)))
            .http2_keepalive_timeout(Some(Duration::from_secs(20)))
            .max_concurrent_streams(self.limits.max_concurrent_streams);
        // tonic's deadline covers a call until its response headers, so it bounds unary calls
        // and the opening of subscriptions but never cuts an open subscription stream.
        if let Some(timeout) = self.limits.request_timeout() {
            server = server.timeout(timeout);
        }
        #[cfg(feature = "observe")]
        let mut server = server.layer(crate::observe::ObserveLayer::new(self.observer.clone()));
        let router = server
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha)
            .add_service(service::directory_server(&state))
            .add_service(service::inbox_server(&state))
            .add_service(service::groups_server(&state))
            .add_service(service::blobs_server(&state));
        let incoming = incoming::incoming(
            listener,
            acceptor,
            usize::try_from(self.limits.max_connections_per_source).unwrap_or(usize::MAX),
        );
        let grace = self.shutdown_grace;
        tracing::info!(tls = self.tls.is_some(), "relay serving");
        router
            .serve_with_incoming_shutdown(incoming, async move {
                shutdown.await;
                tracing::info!(grace_ms = grace.as_millis(), "shutting down");
                health_control.not_serving().await;
                // Load balancers polling health move traffic away during the grace period.
                tokio::time::sleep(grace).await;
                trigger.fire();
            })
            .await?;
        // The sweeper may be mid-sweep; its deletions belong before the final flush.
        let _ = housekeeping.await;
        self.store.flush().await?;
        Ok(())
    }
}
