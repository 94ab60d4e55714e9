//! The query service's view of Elasticsearch: search the alias, get one document, ask the
//! cluster's health. Every call has a timeout; every failure is classified once here as
//! "the cluster is down or slow" (503, try again) or "our request was wrong" (a bug, 500).

use std::sync::Arc;
use std::time::Duration;

use axum::response::{IntoResponse, Response};
use elasticsearch::cluster::ClusterHealthParts;
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::http::{StatusCode, Url};
use elasticsearch::{Elasticsearch, GetParts, SearchParts};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use uuid::Uuid;

use super::dto::OrderHit;
use crate::config::redact_url;
use crate::error::ApiError;
use crate::http::problem::Problem;

/// How long a client is told to wait before retrying after a 503.
const RETRY_AFTER_SECS: u64 = 2;

/// Why Elasticsearch did not give an answer.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("Elasticsearch at {location} is unreachable: {reason}")]
    Unreachable { location: String, reason: String },
    #[error("Elasticsearch at {location} did not answer within {after:?}")]
    TimedOut { location: String, after: Duration },
    /// It answered, but cannot serve now (429 rejected, 5xx, a red cluster).
    #[error("Elasticsearch at {location} cannot serve: {reason}")]
    Unavailable { location: String, reason: String },
    /// It refused what we sent, or answered what we cannot read: a bug on our side.
    #[error("Elasticsearch answered unexpectedly: {0}")]
    Unexpected(String),
}

impl SearchError {
    /// The answer a client gets: an outage is 503 with `Retry-After` and says nothing of
    /// where the cluster is (the log and `/health/ready` do); anything else is our bug.
    fn problem(&self) -> Problem {
        let (slug, detail) = match self {
            SearchError::Unexpected(_) => return ApiError::internal(self).problem(),
            SearchError::TimedOut { after, .. } => (
                "timeout",
                format!("Elasticsearch did not answer within {after:?}"),
            ),
            SearchError::Unreachable { .. } => {
                ("unavailable", "Elasticsearch is unreachable".into())
            }
            SearchError::Unavailable { .. } => (
                "unavailable",
                "Elasticsearch cannot serve the search now".into(),
            ),
        };
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            slug,
            "Service unavailable",
            format!("{detail}; retry after {RETRY_AFTER_SECS} s"),
        )
        .with_retry_after(RETRY_AFTER_SECS)
    }
}

impl IntoResponse for SearchError {
    fn into_response(self) -> Response {
        match &self {
            SearchError::Unexpected(cause) => tracing::error!(error = %cause, "search failed"),
            _ => tracing::warn!(error = %self, "search not served"),
        }
        self.problem().into_response()
    }
}

/// The URL is not one a client can be built on.
#[derive(Debug, thiserror::Error)]
#[error("ELASTICSEARCH_URL `{url}` is not usable: {reason}")]
pub struct InvalidUrl {
    pub url: String,
    pub reason: String,
}

/// One page of hits and the exact number of matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub total: u64,
    pub hits: Vec<OrderHit>,
}

/// A client bound to one cluster and one alias; cheap to clone.
#[derive(Clone)]
pub struct SearchClient {
    es: Elasticsearch,
    alias: Arc<str>,
    /// The URL without credentials, for messages.
    location: Arc<str>,
    timeout: Duration,
}

#[derive(Deserialize)]
struct SearchResponse {
    hits: Hits,
}

#[derive(Deserialize)]
struct Hits {
    total: Total,
    hits: Vec<Hit>,
}

#[derive(Deserialize)]
struct Total {
    value: u64,
}

#[derive(Deserialize)]
struct Hit {
    #[serde(rename = "_source")]
    source: OrderHit,
}

#[derive(Deserialize)]
struct GetResponse {
    found: bool,
    #[serde(rename = "_source")]
    source: Option<OrderHit>,
}

#[derive(Deserialize)]
struct ClusterHealth {
    status: String,
}

impl SearchClient {
    /// No connection is made here: the service starts without the cluster and says so on
    /// `/health/ready` until it answers.
    pub fn new(url: &str, alias: &str, timeout: Duration) -> Result<Self, InvalidUrl> {
        let location = redact_url(url);
        let invalid = |reason: String| InvalidUrl {
            url: location.clone(),
            reason,
        };
        let parsed = Url::parse(url).map_err(|e| invalid(e.to_string()))?;
        let transport = TransportBuilder::new(SingleNodeConnectionPool::new(parsed))
            .timeout(timeout)
            .build()
            .map_err(|e| invalid(e.to_string()))?;
        Ok(Self {
            es: Elasticsearch::new(transport),
            alias: Arc::from(alias),
            location: Arc::from(location.as_str()),
            timeout,
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    /// Runs `body` on the alias; an alias that does not exist yet (no projector has run)
    /// holds nothing, so it gives an empty page rather than an error.
    pub async fn search(&self, body: Value) -> Result<Page, SearchError> {
        let sent = self
            .es
            .search(SearchParts::Index(&[&self.alias]))
            // A page counted over some shards only would report a wrong total: fail instead.
            .allow_partial_search_results(false)
            .request_timeout(self.timeout)
            .body(body)
            .send()
            .await;
        let response = self.answered(sent)?;
        let status = response.status_code();
        if status == StatusCode::NOT_FOUND {
            let body = self.body_text(response).await?;
            if is_index_not_found(&body) {
                return Ok(Page {
                    total: 0,
                    hits: Vec::new(),
                });
            }
            return Err(self.refused(status, &body));
        }
        let found: SearchResponse = self.read(response).await?;
        Ok(Page {
            total: found.hits.total.value,
            hits: found.hits.hits.into_iter().map(|h| h.source).collect(),
        })
    }

    /// The order's document, if the search model holds it. A real-time get: it sees a write
    /// before the index refreshes, which is what a freshness check wants.
    pub async fn get(&self, id: Uuid) -> Result<Option<OrderHit>, SearchError> {
        let id = id.to_string();
        let sent = self
            .es
            .get(GetParts::IndexId(&self.alias, &id))
            ._source_excludes(&["state"])
            .request_timeout(self.timeout)
            .send()
            .await;
        let response = self.answered(sent)?;
        if response.status_code() == StatusCode::NOT_FOUND {
            // A missing document or a missing alias: either way, no such order yet.
            let _ = self.body_text(response).await?;
            return Ok(None);
        }
        let found: GetResponse = self.read(response).await?;
        Ok(found.source.filter(|_| found.found))
    }

    /// The cluster's health status (`green`, `yellow`); `red` counts as unavailable.
    pub async fn health(&self) -> Result<String, SearchError> {
        let sent = self
            .es
            .cluster()
            .health(ClusterHealthParts::None)
            .request_timeout(self.timeout)
            .send()
            .await;
        let response = self.answered(sent)?;
        let health: ClusterHealth = self.read(response).await?;
        if health.status == "red" {
            return Err(SearchError::Unavailable {
                location: self.location.to_string(),
                reason: "the cluster's health is red".into(),
            });
        }
        Ok(health.status)
    }

    /// The response, if the cluster answered at all.
    fn answered(
        &self,
        sent: Result<elasticsearch::http::response::Response, elasticsearch::Error>,
    ) -> Result<elasticsearch::http::response::Response, SearchError> {
        sent.map_err(|e| self.transport_error(&e))
    }

    /// A successful response's JSON body; any other status is classified.
    async fn read<T: DeserializeOwned>(
        &self,
        response: elasticsearch::http::response::Response,
    ) -> Result<T, SearchError> {
        let status = response.status_code();
        let body = self.body_text(response).await?;
        if !status.is_success() {
            return Err(self.refused(status, &body));
        }
        serde_json::from_str(&body).map_err(|e| {
            SearchError::Unexpected(format!("unreadable answer ({e}): {}", excerpt(&body)))
        })
    }

    async fn body_text(
        &self,
        response: elasticsearch::http::response::Response,
    ) -> Result<String, SearchError> {
        response.text().await.map_err(|e| self.transport_error(&e))
    }

    fn transport_error(&self, e: &elasticsearch::Error) -> SearchError {
        if e.is_timeout() {
            SearchError::TimedOut {
                location: self.location.to_string(),
                after: self.timeout,
            }
        } else {
            SearchError::Unreachable {
                location: self.location.to_string(),
                reason: root_cause(e),
            }
        }
    }

    /// A status other than success: overload and server trouble are worth a retry,
    /// anything else means the request itself was wrong.
    fn refused(&self, status: StatusCode, body: &str) -> SearchError {
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            SearchError::Unavailable {
                location: self.location.to_string(),
                reason: format!("HTTP {status}: {}", excerpt(body)),
            }
        } else {
            SearchError::Unexpected(format!("HTTP {status}: {}", excerpt(body)))
        }
    }
}

fn is_index_not_found(body: &str) -> bool {
    serde_json::from_str::<Value>(body)
        .ok()
        .and_then(|v| v["error"]["type"].as_str().map(str::to_owned))
        .is_some_and(|kind| kind == "index_not_found_exception")
}

/// The innermost cause (`Connection refused (os error 111)`): the layers above it repeat
/// the URL and add nothing.
fn root_cause(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// The start of a body, for messages and logs.
fn excerpt(body: &str) -> &str {
    match body.char_indices().nth(500) {
        Some((cut, _)) => &body[..cut],
        None => body,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_alias_is_recognised() {
        let missing = r#"{"error":{"type":"index_not_found_exception","reason":"no such index [x]"},"status":404}"#;
        assert!(is_index_not_found(missing));
        assert!(!is_index_not_found(r#"{"found":false}"#));
        assert!(!is_index_not_found("not json"));
    }

    #[test]
    fn outages_are_503_and_bugs_500() {
        let client = SearchClient::new(
            "http://u:secret@127.0.0.1:1",
            "orders",
            Duration::from_secs(1),
        )
        .unwrap();
        assert_eq!(client.location(), "http://u@127.0.0.1:1");
        for (status, expected) in [
            (StatusCode::TOO_MANY_REQUESTS, 503),
            (StatusCode::SERVICE_UNAVAILABLE, 503),
            (StatusCode::BAD_REQUEST, 500),
        ] {
            assert_eq!(
                client.refused(status, "{}").problem().status,
                expected,
                "{status}"
            );
        }
        let problem = SearchError::TimedOut {
            location: "http://es:9200".into(),
            after: Duration::from_secs(1),
        }
        .problem();
        assert_eq!(
            (problem.status, problem.retry_after),
            (503, Some(RETRY_AFTER_SECS))
        );
        assert_eq!(problem.kind, "urn:keel:problem:timeout");
        assert!(!problem.detail.contains("es:9200"), "{}", problem.detail);
        assert!(SearchClient::new("not a url", "orders", Duration::from_secs(1)).is_err());
    }
}
