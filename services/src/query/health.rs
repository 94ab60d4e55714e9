//! `/health/live` (the process answers) and `/health/ready` (Elasticsearch answers too) of
//! the query service. A missing alias is ready: it reads as an empty model, not a fault.

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;

use super::client::SearchClient;
use crate::http::health::{self, Health};
use crate::http::problem::Problem;

/// The readiness route as this service documents it (it replaces the shared one).
#[derive(OpenApi)]
#[openapi(paths(ready))]
pub struct QueryHealthApi;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// Seconds a load balancer or client is told to wait before asking again.
const RETRY_AFTER_SECS: u64 = 2;

/// The service can answer queries: Elasticsearch answers and its cluster is not red.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "Elasticsearch does not answer, or its cluster is red", content_type = "application/problem+json", body = Problem,
         headers(("Retry-After" = u64, description = "Seconds to wait before asking again"))),
    )
)]
pub async fn ready(State(client): State<SearchClient>) -> Response {
    let failure = match tokio::time::timeout(READY_TIMEOUT, client.health()).await {
        Ok(Ok(_)) => {
            return Json(Health {
                status: "ok".into(),
            })
            .into_response()
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!(
            "Elasticsearch at {} did not answer within {READY_TIMEOUT:?}",
            client.location()
        ),
    };
    tracing::warn!(error = %failure, "not ready");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        "Not ready",
        failure,
    )
    .with_retry_after(RETRY_AFTER_SECS)
    .into_response()
}

pub fn router(client: SearchClient) -> Router {
    Router::new()
        .route("/health/live", get(health::live))
        .route("/health/ready", get(ready))
        .with_state(client)
}
