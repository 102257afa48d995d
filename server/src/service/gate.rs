//! The per-source token bucket, checked on every call before its body is read.
//!
//! A refused call is answered only after a delay (a tarpit): a client that retries as soon as
//! it is refused, or keeps many calls in flight, then spends its time waiting instead of
//! making the relay parse request after request, at the cost of one timer per refused call.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::sync::Semaphore;
use tonic::body::Body;
use tonic::codegen::{http, Service};
use tonic::server::NamedService;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tonic::Status;

use super::RelayState;
use crate::metrics::Rejection;

/// Refused calls held at once; beyond it, refusals are answered at once so that a flood of
/// connections cannot pile up timers without bound.
const MAX_HELD: usize = 10_000;

/// How refused calls are delayed.
pub(super) struct Tarpit {
    delay: Duration,
    slots: Arc<Semaphore>,
}

impl Tarpit {
    pub(super) fn new(delay: Duration) -> Self {
        Tarpit {
            delay,
            slots: Arc::new(Semaphore::new(MAX_HELD)),
        }
    }

    /// Waits out the delay if a slot is free.
    fn hold(&self) -> impl Future<Output = ()> + Send + 'static {
        let delay = self.delay;
        let slot = (!delay.is_zero())
            .then(|| self.slots.clone().try_acquire_owned().ok())
            .flatten();
        async move {
            if let Some(slot) = slot {
                tokio::time::sleep(delay).await;
                drop(slot);
            }
        }
    }
}

/// A gRPC service behind the per-source gate.
#[derive(Clone)]
pub(crate) struct Gated<S> {
    inner: S,
    state: Arc<RelayState>,
}

impl<S> Gated<S> {
    pub(super) fn new(inner: S, state: Arc<RelayState>) -> Self {
        Gated { inner, state }
    }
}

impl<S: NamedService> NamedService for Gated<S> {
    const NAME: &'static str = S::NAME;
}

/// The peer address of a call, with or without TLS terminated by tonic.
fn peer(request: &http::Request<Body>) -> Option<std::net::SocketAddr> {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .and_then(TcpConnectInfo::remote_addr)
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|info| info.get_ref().remote_addr())
        })
}

type Answer = Pin<Box<dyn Future<Output = Result<http::Response<Body>, Infallible>> + Send>>;

impl<S> Service<http::Request<Body>> for Gated<S>
where
    S: Service<http::Request<Body>, Response = http::Response<Body>, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = http::Response<Body>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Answer {
        if self.state.sources.check(peer(&request)) {
            return Box::pin(self.inner.call(request));
        }
        drop(request);
        self.state.metrics.rejected(Rejection::SourceRate);
        let held = self.state.tarpit.hold();
        Box::pin(async move {
            held.await;
            Ok(Status::resource_exhausted(
                "too many requests from this address; slow down and retry later",
            )
            .into_http())
        })
    }
}
