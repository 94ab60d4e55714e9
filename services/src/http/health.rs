//! `/health/live` (the process answers) and `/health/ready` (its database answers too).

use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use utoipa::ToSchema;

use super::problem::Problem;

const READY_TIMEOUT: Duration = Duration::from_secs(2);

/// A health check's answer.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: String,
}

#[derive(Clone)]
pub struct HealthState {
    pub pool: PgPool,
    /// Where the database is, without the password, for the 503 message.
    pub database: String,
}

/// The process is up and serving HTTP.
#[utoipa::path(
    get,
    path = "/health/live",
    tag = "operations",
    responses((status = 200, description = "The process is alive", body = Health))
)]
pub async fn live() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
    })
}

/// The service can take commands: its database answers.
#[utoipa::path(
    get,
    path = "/health/ready",
    tag = "operations",
    responses(
        (status = 200, description = "Ready", body = Health),
        (status = 503, description = "The database does not answer", content_type = "application/problem+json", body = Problem),
    )
)]
pub async fn ready(State(state): State<HealthState>) -> Response {
    let check =
        tokio::time::timeout(READY_TIMEOUT, sqlx::query("SELECT 1").execute(&state.pool)).await;
    let failure = match check {
        Ok(Ok(_)) => {
            return Json(Health {
                status: "ok".into(),
            })
            .into_response()
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => format!("no answer within {READY_TIMEOUT:?}"),
    };
    tracing::warn!(database = %state.database, error = %failure, "not ready");
    Problem::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "not-ready",
        "Not ready",
        format!(
            "the database at {} is unreachable: {failure}",
            state.database
        ),
    )
    .into_response()
}

pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .with_state(state)
}
