//! `/health/live`, `/health/ready` and `/metrics` of a projector process.
//!
//! Ready means both ends answer now: Kafka (a metadata request) and the projector's store
//! ([`Projector::unready`]). Otherwise 503 with the reasons, each naming the dependency and
//! where it was looked for.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use rdkafka::consumer::{BaseConsumer, Consumer};
use serde_json::json;

use super::{EngineMetrics, Projector};

/// The media type of `/metrics` (OpenMetrics text, which Prometheus scrapes natively).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long one readiness probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct HealthState {
    pub projector: Arc<dyn Projector>,
    pub metrics: EngineMetrics,
    /// A client outside the consumer group, for metadata requests.
    pub kafka: Arc<BaseConsumer>,
    pub brokers: String,
    /// A topic the projector reads (its metadata is what is asked for).
    pub topic: String,
}

async fn live() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

async fn kafka_unready(state: &HealthState) -> Option<String> {
    let (kafka, topic) = (state.kafka.clone(), state.topic.clone());
    let answer = tokio::task::spawn_blocking(move || {
        kafka
            .fetch_metadata(Some(&topic), PROBE_TIMEOUT)
            .map(|m| m.brokers().len())
    })
    .await;
    let reason = match answer {
        Ok(Ok(brokers)) if brokers > 0 => return None,
        Ok(Ok(_)) => "no broker in the metadata".to_owned(),
        Ok(Err(e)) => e.to_string(),
        Err(e) => e.to_string(),
    };
    Some(format!("kafka at {} unreachable: {reason}", state.brokers))
}

async fn ready(State(state): State<HealthState>) -> Response {
    let (kafka, sink) = tokio::join!(kafka_unready(&state), async {
        match tokio::time::timeout(PROBE_TIMEOUT * 2, state.projector.unready()).await {
            Ok(reason) => reason,
            Err(_) => Some(format!(
                "the {} projector's store did not answer within {}s",
                state.projector.name(),
                (PROBE_TIMEOUT * 2).as_secs()
            )),
        }
    });
    let reasons: Vec<String> = kafka.into_iter().chain(sink).collect();
    if reasons.is_empty() {
        (StatusCode::OK, Json(json!({ "status": "ok" }))).into_response()
    } else {
        let body = json!({ "status": "not-ready", "reasons": reasons });
        (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
    }
}

async fn metrics(State(state): State<HealthState>) -> Response {
    openmetrics(state.metrics.encode())
}

/// An encoded registry as a `/metrics` answer (500 when it could not be encoded); every
/// keel process serves its metrics through this.
pub fn openmetrics(encoded: Result<String, std::fmt::Error>) -> Response {
    match encoded {
        Ok(body) => (
            [(header::CONTENT_TYPE, HeaderValue::from_static(OPENMETRICS))],
            body,
        )
            .into_response(),
        Err(e) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("encoding metrics: {e}"),
        )
            .into_response(),
    }
}

pub fn router(state: HealthState) -> Router {
    Router::new()
        .route("/health/live", get(live))
        .route("/health/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use axum::body::Body;
    use axum::http::Request;
    use rdkafka::ClientConfig;
    use tower::ServiceExt;

    use super::*;
    use crate::engine::{ApplyError, Envelope};

    struct DownSink;

    #[async_trait]
    impl Projector for DownSink {
        fn name(&self) -> &str {
            "test"
        }
        fn topics(&self) -> Vec<String> {
            vec!["t".into()]
        }
        fn stream_types(&self) -> Vec<String> {
            vec!["order".into()]
        }
        async fn apply(&self, _: &[Envelope]) -> Result<(), ApplyError> {
            Ok(())
        }
        async fn unready(&self) -> Option<String> {
            Some("elasticsearch at http://127.0.0.1:1 unreachable: refused".into())
        }
    }

    #[tokio::test]
    async fn ready_is_503_naming_each_dependency_that_is_down() {
        let brokers = "127.0.0.1:1";
        let kafka: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .unwrap();
        let state = HealthState {
            projector: Arc::new(DownSink),
            metrics: EngineMetrics::new("test", |_| {}),
            kafka: Arc::new(kafka),
            brokers: brokers.into(),
            topic: "t".into(),
        };
        let app = router(state);
        let get = |path: &str| Request::get(path).body(Body::empty()).unwrap();
        let live = app.clone().oneshot(get("/health/live")).await.unwrap();
        assert_eq!(live.status(), StatusCode::OK);
        let ready = app.clone().oneshot(get("/health/ready")).await.unwrap();
        assert_eq!(ready.status(), StatusCode::SERVICE_UNAVAILABLE);
        let body = axum::body::to_bytes(ready.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let reasons = body["reasons"].to_string();
        assert!(
            reasons.contains("kafka at 127.0.0.1:1 unreachable"),
            "{body}"
        );
        assert!(
            reasons.contains("elasticsearch at http://127.0.0.1:1"),
            "{body}"
        );
        let metrics = app.oneshot(get("/metrics")).await.unwrap();
        assert_eq!(metrics.status(), StatusCode::OK);
    }
}
