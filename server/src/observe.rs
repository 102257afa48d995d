//! An opt-in look at every Parley request as it reaches the relay: which TCP connection it
//! came on, which method, and its message bytes. Built only with the `observe` feature, for
//! test kits that check what a client lets the relay link (e.g. that no connection carries
//! two groups); a relay built for use has no such hook.
//!
//! The layer buffers each request body before handing it on, which is fine for Parley's
//! unary and server-streaming calls (one request message each) and would stall a
//! client-streaming call, so only `/parley.v1.*` paths are observed.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Full};
use tonic::body::Body;
use tonic::codegen::{http, Bytes, Service};
use tonic::transport::server::TcpConnectInfo;

/// The package prefix of the relay's own methods.
const PARLEY_PATHS: &str = "/parley.v1.";

/// One request as the relay received it.
#[derive(Clone, Debug)]
pub struct ObservedRequest {
    /// The client's address and port: distinct for each open TCP connection.
    pub peer: Option<SocketAddr>,
    /// The gRPC method, e.g. `/parley.v1.Inbox/Deposit`.
    pub path: String,
    /// The request body as sent: gRPC frames (a compression flag byte, a big-endian u32
    /// length, the protobuf message).
    pub body: Bytes,
}

/// Receives every observed request, before the relay handles it.
pub trait RequestObserver: Send + Sync + 'static {
    /// Called once per request, on the relay's runtime; must not block.
    fn observe(&self, request: ObservedRequest);
}

/// The tower layer that feeds a [`RequestObserver`].
#[derive(Clone)]
pub(crate) struct ObserveLayer {
    observer: Option<Arc<dyn RequestObserver>>,
}

impl ObserveLayer {
    /// Observes with `observer`; `None` passes every request straight on.
    pub(crate) fn new(observer: Option<Arc<dyn RequestObserver>>) -> ObserveLayer {
        ObserveLayer { observer }
    }
}

impl<S> tower::Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            observer: self.observer.clone(),
        }
    }
}

/// The service [`ObserveLayer`] wraps around the relay's routes.
#[derive(Clone)]
pub(crate) struct Observe<S> {
    inner: S,
    observer: Option<Arc<dyn RequestObserver>>,
}

impl<S> Service<http::Request<Body>> for Observe<S>
where
    S: Service<http::Request<Body>> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let observer = match &self.observer {
            Some(observer) if request.uri().path().starts_with(PARLEY_PATHS) => observer.clone(),
            _ => return Box::pin(self.inner.call(request)),
        };
        // The service that was polled ready is the one to call; a fresh clone stays behind.
        let fresh = self.inner.clone();
        let mut ready = std::mem::replace(&mut self.inner, fresh);
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let peer = parts
                .extensions
                .get::<TcpConnectInfo>()
                .and_then(TcpConnectInfo::remote_addr);
            // A body that fails to arrive reaches the handler empty, which refuses it.
            let bytes = body
                .collect()
                .await
                .map(|collected| collected.to_bytes())
                .unwrap_or_default();
            observer.observe(ObservedRequest {
                peer,
                path: parts.uri.path().to_owned(),
                body: bytes.clone(),
            });
            ready
                .call(http::Request::from_parts(
                    parts,
                    Body::new(Full::new(bytes)),
                ))
                .await
        })
    }
}
