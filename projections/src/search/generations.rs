//! The generations of the search model: `<alias>-v<n>` indexes, the one the alias points
//! at, the rebuild marker an unfinished one carries, and the index-level calls a rebuild
//! makes (create, settings, refresh, the atomic alias switch, delete).
//!
//! The marker lives in the new index's mapping `_meta` (`keel_rebuild`): it is created with
//! the index and goes away with it, so an index and what is known about its rebuild can
//! never disagree. It holds the global-log checkpoint taken before the load (where a
//! resumed rebuild catches up from) and the last stream whose document is acknowledged in
//! stream order (where a resumed load continues).

use chrono::{DateTime, Utc};
use elasticsearch::http::headers::HeaderMap;
use elasticsearch::http::request::JsonBody;
use elasticsearch::http::Method;
use keel_eventstore::GlobalCheckpoint;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::client::SearchClient;
use crate::operations::OperationError;

/// An index named `<alias>-v<number>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Generation {
    pub number: u32,
    pub index: String,
}

/// The generation `index` is of `alias`, if it is named like one.
pub fn generation_of(alias: &str, index: &str) -> Option<u32> {
    let digits = index.strip_prefix(alias)?.strip_prefix("-v")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RebuildState {
    /// Streams are being bulk-loaded from the event store.
    Loading,
    /// The load is complete; events after the checkpoint are being re-applied.
    CatchingUp,
    /// The alias points at this index; the last catch-up (from `checkpoint`) has not
    /// ended yet.
    Switched,
    /// The rebuild is complete.
    Done,
}

impl RebuildState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Loading => "loading",
            Self::CatchingUp => "catching up",
            Self::Switched => "switched",
            Self::Done => "done",
        }
    }
}

/// What a rebuild records in its new index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RebuildMarker {
    pub state: RebuildState,
    /// The index the alias pointed at when the rebuild began.
    pub from: Option<String>,
    /// Where the next catch-up starts: taken before the load began (every event after it
    /// is re-applied); once switched, where the first catch-up ended.
    pub checkpoint: GlobalCheckpoint,
    /// Every stream up to this one (in stream-id order) has its document.
    pub last_stream: Option<String>,
    pub started_at: DateTime<Utc>,
}

/// An index's shards, replicas and refresh interval.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexSettings {
    pub shards: u32,
    pub replicas: u32,
    /// `None`: the cluster's default.
    pub refresh_interval: Option<String>,
}

/// Index-level calls on one cluster.
pub struct Indexes<'a> {
    client: &'a SearchClient,
}

impl<'a> Indexes<'a> {
    pub fn new(client: &'a SearchClient) -> Self {
        Self { client }
    }

    fn failed(&self, what: &str, reason: impl std::fmt::Display) -> OperationError {
        OperationError::Sink(format!(
            "elasticsearch at {}: {what}: {reason}",
            self.client.url()
        ))
    }

    /// One request; its status and JSON body (`Null` when it has none).
    async fn call(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<(u16, Value), OperationError> {
        let query = (!query.is_empty()).then_some(query);
        let response = self
            .client
            .es()
            .send(
                method,
                path,
                HeaderMap::new(),
                query,
                body.map(JsonBody::new),
                None,
            )
            .await
            .map_err(|e| self.failed(path, e))?;
        let status = response.status_code().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    /// A request that must succeed.
    pub(crate) async fn call_ok(
        &self,
        method: Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<Value>,
    ) -> Result<Value, OperationError> {
        let (status, answer) = self.call(method, path, query, body).await?;
        if (200..300).contains(&status) {
            Ok(answer)
        } else {
            Err(self.failed(path, format!("HTTP {status}: {}", answer["error"])))
        }
    }

    /// The indexes `alias` points at (none when it does not exist).
    pub async fn behind(&self, alias: &str) -> Result<Vec<String>, OperationError> {
        let (status, body) = self
            .call(Method::Get, &format!("/_alias/{alias}"), &[], None)
            .await?;
        match status {
            404 => Ok(Vec::new()),
            200 => {
                let mut indexes: Vec<String> = body
                    .as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default();
                indexes.sort();
                Ok(indexes)
            }
            _ => Err(self.failed("_alias", format!("HTTP {status}: {}", body["error"]))),
        }
    }

    /// Every `<alias>-v<n>` index, by generation.
    pub async fn generations(&self, alias: &str) -> Result<Vec<Generation>, OperationError> {
        let path = format!("/_cat/indices/{alias}-v*");
        let body = self
            .call_ok(
                Method::Get,
                &path,
                &[
                    ("format", "json"),
                    ("h", "index"),
                    ("expand_wildcards", "all"),
                ],
                None,
            )
            .await?;
        let mut generations: Vec<Generation> = body
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|row| {
                let index = row["index"].as_str()?;
                Some(Generation {
                    number: generation_of(alias, index)?,
                    index: index.to_owned(),
                })
            })
            .collect();
        generations.sort();
        Ok(generations)
    }

    pub async fn settings(&self, index: &str) -> Result<IndexSettings, OperationError> {
        let body = self
            .call_ok(Method::Get, &format!("/{index}/_settings"), &[], None)
            .await?;
        let settings = &body[index]["settings"]["index"];
        let number = |field: &str| -> Option<u32> { settings[field].as_str()?.parse().ok() };
        Ok(IndexSettings {
            shards: number("number_of_shards").unwrap_or(1),
            replicas: number("number_of_replicas").unwrap_or(0),
            refresh_interval: settings["refresh_interval"].as_str().map(str::to_owned),
        })
    }

    /// Creates `index`; an index of that name already there is an operator's decision.
    pub async fn create(&self, index: &str, body: Value) -> Result<(), OperationError> {
        let (status, answer) = self
            .call(Method::Put, &format!("/{index}"), &[], Some(body))
            .await?;
        if (200..300).contains(&status) {
            return Ok(());
        }
        if answer["error"]["type"] == "resource_already_exists_exception" {
            return Err(OperationError::Decision(format!(
                "index {index} exists already: another rebuild is running, or one was \
                 interrupted (run again to see the choices)"
            )));
        }
        Err(self.failed(
            &format!("creating {index}"),
            format!("HTTP {status}: {}", answer["error"]),
        ))
    }

    pub async fn put_settings(&self, index: &str, settings: Value) -> Result<(), OperationError> {
        self.call_ok(
            Method::Put,
            &format!("/{index}/_settings"),
            &[],
            Some(settings),
        )
        .await
        .map(drop)
    }

    pub async fn refresh(&self, index: &str) -> Result<(), OperationError> {
        self.call_ok(Method::Post, &format!("/{index}/_refresh"), &[], None)
            .await
            .map(drop)
    }

    /// The rebuild marker of `index`, if it has one.
    pub async fn marker(&self, index: &str) -> Result<Option<RebuildMarker>, OperationError> {
        let body = self
            .call_ok(Method::Get, &format!("/{index}/_mapping"), &[], None)
            .await?;
        let meta = &body[index]["mappings"]["_meta"]["keel_rebuild"];
        if meta.is_null() {
            return Ok(None);
        }
        serde_json::from_value(meta.clone())
            .map(Some)
            .map_err(|e| self.failed(&format!("the rebuild marker of {index}"), e))
    }

    pub async fn set_marker(
        &self,
        index: &str,
        marker: &RebuildMarker,
    ) -> Result<(), OperationError> {
        let body = json!({ "_meta": { "keel_rebuild": marker } });
        self.call_ok(Method::Put, &format!("/{index}/_mapping"), &[], Some(body))
            .await
            .map(drop)
    }

    /// Points `alias` at `to` instead of `from`, in one request: searches see one or the
    /// other, never neither. Fails, changing nothing, when the alias no longer points at
    /// `from`.
    pub async fn switch(&self, alias: &str, from: &str, to: &str) -> Result<(), OperationError> {
        let actions = json!({ "actions": [
            { "remove": { "index": from, "alias": alias, "must_exist": true } },
            { "add": { "index": to, "alias": alias } }
        ]});
        self.call_ok(Method::Post, "/_aliases", &[], Some(actions))
            .await
            .map(drop)
    }

    /// Deletes `index`; one that is gone already is fine.
    pub async fn delete(&self, index: &str) -> Result<(), OperationError> {
        let (status, answer) = self
            .call(Method::Delete, &format!("/{index}"), &[], None)
            .await?;
        match status {
            200..=299 | 404 => Ok(()),
            _ => Err(self.failed(
                &format!("deleting {index}"),
                format!("HTTP {status}: {}", answer["error"]),
            )),
        }
    }

    /// Searchable documents (refreshed) of an index or alias.
    pub async fn count(&self, target: &str) -> Result<u64, OperationError> {
        let body = self
            .call_ok(Method::Get, &format!("/{target}/_count"), &[], None)
            .await?;
        Ok(body["count"].as_u64().unwrap_or(0))
    }

    /// Documents written to `index` so far, refreshed or not (an index loading with
    /// refresh off counts 0 searchable documents).
    pub async fn written(&self, index: &str) -> Result<u64, OperationError> {
        let body = self
            .call_ok(Method::Get, &format!("/{index}/_stats/indexing"), &[], None)
            .await?;
        Ok(body["_all"]["primaries"]["indexing"]["index_total"]
            .as_u64()
            .unwrap_or(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_are_read_from_index_names() {
        assert_eq!(generation_of("orders", "orders-v1"), Some(1));
        assert_eq!(generation_of("orders", "orders-v12"), Some(12));
        assert_eq!(generation_of("orders", "orders-v"), None);
        assert_eq!(generation_of("orders", "orders-vx"), None);
        assert_eq!(generation_of("orders", "orders-v1-old"), None);
        assert_eq!(generation_of("orders", "orders2-v1"), None);
        assert_eq!(generation_of("t1-orders", "t1-orders-v3"), Some(3));
    }

    #[test]
    fn the_marker_round_trips_through_json() {
        let marker = RebuildMarker {
            state: RebuildState::CatchingUp,
            from: Some("orders-v1".into()),
            checkpoint: GlobalCheckpoint {
                transaction_id: 812,
                position: i64::MAX as u64,
            },
            last_stream: Some("order-1".into()),
            started_at: Utc::now(),
        };
        let json = serde_json::to_value(&marker).unwrap();
        assert_eq!(json["state"], "catching_up");
        assert_eq!(
            serde_json::from_value::<RebuildMarker>(json).unwrap(),
            marker
        );
    }
}
