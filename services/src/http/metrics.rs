//! Prometheus metrics of one service instance, in a registry of its own (tests run many
//! instances in one process, so there is no global recorder).

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::error::ApiError;

/// The media type of `/metrics` (OpenMetrics text, which Prometheus scrapes natively).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    /// The matched route template (`/orders/{id}`), never the raw path.
    route: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StreamLabels {
    stream_type: String,
}

type HistogramFamily = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// The service's metrics; cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    errors: Family<RequestLabels, Counter>,
    latency: HistogramFamily,
    appended: Family<StreamLabels, Counter>,
    conflicts: Family<StreamLabels, Counter>,
    replays: Family<StreamLabels, Counter>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~4 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("keel");
        let requests = Family::<RequestLabels, Counter>::default();
        let errors = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let appended = Family::<StreamLabels, Counter>::default();
        let conflicts = Family::<StreamLabels, Counter>::default();
        let replays = Family::<StreamLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests served", requests.clone());
        registry.register(
            "http_request_errors",
            "HTTP requests answered with a 4xx or 5xx status",
            errors.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register(
            "events_appended",
            "Events appended to the event store",
            appended.clone(),
        );
        registry.register(
            "command_conflicts",
            "Commands refused because the stream's version moved (409)",
            conflicts.clone(),
        );
        registry.register(
            "idempotent_replays",
            "Commands answered from an earlier request with the same idempotency key",
            replays.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                errors,
                latency,
                appended,
                conflicts,
                replays,
            }),
        }
    }

    pub fn record_appended(&self, stream_type: &str, events: usize) {
        let n = u64::try_from(events).unwrap_or(u64::MAX);
        self.inner
            .appended
            .get_or_create(&stream(stream_type))
            .inc_by(n);
    }

    pub fn record_conflict(&self, stream_type: &str) {
        self.inner
            .conflicts
            .get_or_create(&stream(stream_type))
            .inc();
    }

    pub fn record_replay(&self, stream_type: &str) {
        self.inner.replays.get_or_create(&stream(stream_type)).inc();
    }

    fn record_request(&self, method: &str, route: &str, status: StatusCode, seconds: f64) {
        let labels = RequestLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: status.as_u16().to_string(),
        };
        self.inner.requests.get_or_create(&labels).inc();
        if status.is_client_error() || status.is_server_error() {
            self.inner.errors.get_or_create(&labels).inc();
        }
        let route = RouteLabels {
            method: labels.method,
            route: labels.route,
        };
        self.inner.latency.get_or_create(&route).observe(seconds);
    }

    /// The registry in the OpenMetrics text format.
    pub fn encode(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }
}

fn stream(stream_type: &str) -> StreamLabels {
    StreamLabels {
        stream_type: stream_type.to_owned(),
    }
}

/// Middleware: counts and times every request by its route template.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_owned();
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record_request(
        &method,
        &route,
        response.status(),
        started.elapsed().as_secs_f64(),
    );
    response
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    responses((status = 200, description = "The service's metrics", content_type = "application/openmetrics-text", body = String))
)]
pub async fn metrics(State(metrics): State<Metrics>) -> Response {
    match metrics.encode() {
        Ok(body) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS))],
            body,
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("encoding metrics: {e}")).into_response(),
    }
}

pub fn router(metrics: Metrics) -> Router {
    Router::new()
        .route("/metrics", get(self::metrics))
        .with_state(metrics)
}
