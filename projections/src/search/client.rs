//! The Elasticsearch calls of the search projector, all through the alias: `_mget` of the
//! current documents (real time, so a document written by the previous batch is seen
//! without a refresh) and `_bulk` writes with external versions.

use std::collections::HashMap;
use std::time::Duration;

use elasticsearch::cluster::ClusterHealthParts;
use elasticsearch::http::transport::{SingleNodeConnectionPool, TransportBuilder};
use elasticsearch::http::Url;
use elasticsearch::params::VersionType;
use elasticsearch::{BulkOperation, BulkOperations, BulkParts, Elasticsearch, MgetParts};
use serde_json::{json, Value};
use uuid::Uuid;

use super::retry::{bulk_outcomes, index_missing, Outcome};
use super::OrderDocument;

/// A document as stored: its external version, and its source when it still parses as an
/// [`OrderDocument`] (else the stream is folded again from the event store).
#[derive(Debug, Clone)]
pub struct Stored {
    pub version: u64,
    pub document: Option<OrderDocument>,
}

/// A failed request as a whole.
#[derive(Debug, Clone)]
pub struct RequestFailed {
    pub reason: String,
    /// The alias (or its index) does not exist.
    pub index_missing: bool,
}

#[derive(Clone)]
pub struct SearchClient {
    es: Elasticsearch,
    url: String,
}

impl SearchClient {
    /// A client of the node at `url`; requests time out after `timeout`.
    pub fn new(url: &str, timeout: Duration) -> Result<Self, String> {
        let parsed = Url::parse(url).map_err(|e| format!("`{url}` is not a URL: {e}"))?;
        let transport = TransportBuilder::new(SingleNodeConnectionPool::new(parsed))
            .timeout(timeout)
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Self {
            es: Elasticsearch::new(transport),
            url: url.to_owned(),
        })
    }

    pub fn es(&self) -> &Elasticsearch {
        &self.es
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Why the cluster is not usable, if it is not.
    pub async fn unready(&self, timeout: Duration) -> Option<String> {
        let answer = self
            .es
            .cluster()
            .health(ClusterHealthParts::None)
            .request_timeout(timeout)
            .send()
            .await;
        let reason = match answer {
            Ok(response) if response.status_code().is_success() => {
                match response.json::<Value>().await {
                    Ok(body) if body["status"] == "red" => "cluster status red".to_owned(),
                    Ok(_) => return None,
                    Err(e) => e.to_string(),
                }
            }
            Ok(response) => format!("HTTP {}", response.status_code()),
            Err(e) => e.to_string(),
        };
        Some(format!(
            "elasticsearch at {} unreachable: {reason}",
            self.url
        ))
    }

    /// The stored documents among `ids`.
    pub async fn mget(
        &self,
        alias: &str,
        ids: &[Uuid],
    ) -> Result<HashMap<Uuid, Stored>, RequestFailed> {
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let response = self
            .es
            .mget(MgetParts::Index(alias))
            .realtime(true)
            .body(json!({ "ids": ids }))
            .send()
            .await
            .map_err(|e| failed(format!("_mget: {e}")))?;
        let body = answer(response, "_mget").await?;
        let docs = body["docs"]
            .as_array()
            .ok_or_else(|| failed("the _mget answer has no docs".to_owned()))?;
        let mut stored = HashMap::new();
        for doc in docs {
            if let Some(error) = doc.get("error") {
                return Err(RequestFailed {
                    reason: format!("_mget of {}: {error}", doc["_id"]),
                    index_missing: index_missing(Some(error)),
                });
            }
            if doc["found"] != true {
                continue;
            }
            let (Some(id), Some(version)) = (
                doc["_id"].as_str().and_then(|id| Uuid::parse_str(id).ok()),
                doc["_version"].as_u64(),
            ) else {
                continue;
            };
            let document = serde_json::from_value(doc["_source"].clone()).ok();
            stored.insert(id, Stored { version, document });
        }
        Ok(stored)
    }

    /// Writes `documents` with `version_type=external` (version = stream version); the
    /// outcome of each, in order.
    pub async fn bulk(
        &self,
        alias: &str,
        documents: &[OrderDocument],
    ) -> Result<Vec<(Outcome, bool)>, RequestFailed> {
        let mut operations = BulkOperations::new();
        for document in documents {
            let version = i64::try_from(document.version)
                .map_err(|_| failed(format!("version {} is too large", document.version)))?;
            let operation = BulkOperation::index(document)
                .id(document.order_id.to_string())
                .version(version)
                .version_type(VersionType::External);
            operations
                .push(operation)
                .map_err(|e| failed(format!("encoding a document: {e}")))?;
        }
        let response = self
            .es
            .bulk(BulkParts::Index(alias))
            .body(vec![operations])
            .send()
            .await
            .map_err(|e| failed(format!("_bulk: {e}")))?;
        let body = answer(response, "_bulk").await?;
        bulk_outcomes(&body, documents.len()).map_err(failed)
    }
}

fn failed(reason: String) -> RequestFailed {
    RequestFailed {
        reason,
        index_missing: false,
    }
}

/// The JSON body of a successful answer; any other answer fails the whole request (it
/// cannot be pinned on one document, so it is retried).
async fn answer(
    response: elasticsearch::http::response::Response,
    what: &str,
) -> Result<Value, RequestFailed> {
    let status = response.status_code();
    let body: Value = response.json().await.map_err(|e| {
        failed(format!(
            "{what} answered {status} with an unreadable body: {e}"
        ))
    })?;
    if status.is_success() {
        return Ok(body);
    }
    Err(RequestFailed {
        reason: format!("{what} answered {status}: {}", body["error"]),
        index_missing: index_missing(body.get("error")),
    })
}
