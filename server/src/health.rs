//! `grpc.health.v1` for load balancers and probes, and server reflection for grpcurl.
//!
//! The relay reports SERVING for the whole server ("") and for each `parley.v1` service while
//! it runs, and NOT_SERVING from the moment it is asked to stop. Health watch streams end
//! once they have told their client NOT_SERVING, so they never hold up the graceful shutdown.

use std::pin::Pin;
use std::time::Duration;

use futures::{Stream, StreamExt};
use parley_proto::v1::{directory_server, groups_server, inbox_server};
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus as WireStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};
use tonic_health::ServingStatus;

use crate::error::RelayError;
use crate::shutdown::Shutdown;

/// Every name a health check may ask about: the whole server and each service.
const SERVICES: [&str; 4] = [
    "",
    directory_server::SERVICE_NAME,
    inbox_server::SERVICE_NAME,
    groups_server::SERVICE_NAME,
];

/// How long a health watch stream may outlive the shutdown signal if it somehow missed the
/// NOT_SERVING update.
const WATCH_LINGER: Duration = Duration::from_secs(1);

/// Sets the health the relay reports.
#[derive(Clone, Debug)]
pub(crate) struct HealthControl {
    reporter: HealthReporter,
}

impl HealthControl {
    /// Reports `status` for the server and every service.
    async fn set_all(&self, status: ServingStatus) {
        for service in SERVICES {
            self.reporter.set_service_status(service, status).await;
        }
    }

    /// Reports SERVING everywhere.
    pub(crate) async fn serving(&self) {
        self.set_all(ServingStatus::Serving).await;
    }

    /// Reports NOT_SERVING everywhere.
    pub(crate) async fn not_serving(&self) {
        self.set_all(ServingStatus::NotServing).await;
    }
}

/// The health service and the control that sets what it reports (initially SERVING).
pub(crate) async fn health(shutdown: Shutdown) -> (HealthControl, HealthServer<DrainingHealth>) {
    let control = HealthControl {
        reporter: HealthReporter::new(),
    };
    control.serving().await;
    let service = DrainingHealth {
        inner: HealthService::from_health_reporter(control.reporter.clone()),
        shutdown,
    };
    (control, HealthServer::new(service))
}

/// tonic-health's service, with watch streams that end after reporting NOT_SERVING.
#[derive(Debug)]
pub(crate) struct DrainingHealth {
    inner: HealthService,
    shutdown: Shutdown,
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for DrainingHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<WatchStream>, Status> {
        let updates = self.inner.watch(request).await?.into_inner();
        let not_serving = WireStatus::NotServing as i32;
        let shutdown = self.shutdown.clone();
        // Yield updates up to and including the first NOT_SERVING.
        let until_not_serving = updates
            .scan(false, move |done, item| {
                if *done {
                    return futures::future::ready(None);
                }
                *done = matches!(&item, Ok(response) if response.status == not_serving);
                futures::future::ready(Some(item))
            })
            .take_until(async move {
                shutdown.wait().await;
                tokio::time::sleep(WATCH_LINGER).await;
            });
        Ok(Response::new(Box::pin(until_not_serving)))
    }
}

/// Server reflection (v1 and v1alpha) describing `parley.v1` and `grpc.health.v1`.
pub(crate) fn reflection() -> Result<
    (
        tonic_reflection::server::v1::ServerReflectionServer<
            impl tonic_reflection::server::v1::ServerReflection,
        >,
        tonic_reflection::server::v1alpha::ServerReflectionServer<
            impl tonic_reflection::server::v1alpha::ServerReflection,
        >,
    ),
    RelayError,
> {
    let builder = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(parley_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_err =
        |error: tonic_reflection::server::Error| RelayError::Reflection(error.to_string());
    Ok((
        builder().build_v1().map_err(reflection_err)?,
        builder().build_v1alpha().map_err(reflection_err)?,
    ))
}
