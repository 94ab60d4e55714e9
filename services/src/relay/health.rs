//! `/health/live`, `/health/ready` and `/metrics` of a relay process.
//!
//! Ready means: this instance leads every database it relays, and Kafka has not been
//! failing for longer than the configured threshold. A standby is alive but not ready; the
//! body says which database is on standby or why Kafka counts as down.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use keel_projections::engine::health::openmetrics;
use serde::Serialize;

use super::metrics::RelayMetrics;
use super::status::{Role, TargetStatus};

#[derive(Clone)]
pub struct HealthState {
    pub targets: Vec<Arc<TargetStatus>>,
    pub unready_after: Duration,
    pub metrics: RelayMetrics,
}

#[derive(Debug, Serialize)]
struct Readiness {
    status: &'static str,
    databases: Vec<DatabaseReadiness>,
}

#[derive(Debug, Serialize)]
struct DatabaseReadiness {
    database: String,
    /// `leader` or `standby`.
    role: &'static str,
    ready: bool,
    /// Why not ready, when it is not.
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
}

async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

async fn ready(State(state): State<HealthState>) -> Response {
    let databases: Vec<DatabaseReadiness> = state
        .targets
        .iter()
        .map(|t| {
            let role = t.role();
            let kafka = t
                .kafka_down_for()
                .filter(|(down, _)| *down >= state.unready_after);
            let reason = match (role, kafka) {
                (_, Some((down, error))) => Some(format!(
                    "kafka unreachable for {}s: {error}",
                    down.as_secs()
                )),
                (Role::Standby, None) => {
                    Some("standby: another relay holds this database's lease".to_owned())
                }
                (Role::Leader, None) if !t.publishing() => {
                    Some("leader, starting: fencing older producers and recovering".to_owned())
                }
                (Role::Leader, None) => None,
            };
            DatabaseReadiness {
                database: t.name.clone(),
                role: match role {
                    Role::Leader => "leader",
                    Role::Standby => "standby",
                },
                ready: reason.is_none(),
                reason,
            }
        })
        .collect();
    let all = databases.iter().all(|d| d.ready);
    let body = Readiness {
        status: if all { "ok" } else { "not-ready" },
        databases,
    };
    let status = if all {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

async fn metrics(State(state): State<HealthState>) -> Response {
    openmetrics(state.metrics.encode())
}

pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}
