//! The few Elasticsearch calls the benchmark makes itself, over plain HTTP.

use std::time::Duration;

use anyhow::Context;
use reqwest::Client;
use serde_json::{json, Value};

#[derive(Clone)]
pub struct Es {
    client: Client,
    url: String,
}

/// One stored document, ready to be written again: its id, external version and source.
pub struct StoredDoc {
    pub id: String,
    pub version: u64,
    pub source: Vec<u8>,
}

impl Es {
    pub fn new(url: &str) -> anyhow::Result<Self> {
        let client = Client::builder()
            .timeout(Duration::from_secs(300))
            .tcp_nodelay(true)
            .build()?;
        Ok(Self {
            client,
            url: url.trim_end_matches('/').to_owned(),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self.client.request(method, format!("{}{path}", self.url));
        if let Some(body) = body {
            request = request.json(body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("elasticsearch at {}: {path}", self.url))?;
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        anyhow::ensure!(status.is_success(), "{path}: HTTP {status}: {body}");
        Ok(body)
    }

    /// The version of the (first) node.
    pub async fn version(&self) -> anyhow::Result<String> {
        let nodes = self
            .call(
                reqwest::Method::GET,
                "/_nodes?filter_path=nodes.*.version",
                None,
            )
            .await?;
        Ok(nodes["nodes"]
            .as_object()
            .and_then(|n| n.values().next())
            .and_then(|n| n["version"].as_str())
            .unwrap_or("unknown")
            .to_owned())
    }

    pub async fn create_index(&self, index: &str, body: &Value) -> anyhow::Result<()> {
        self.call(reqwest::Method::PUT, &format!("/{index}"), Some(body))
            .await
            .map(drop)
    }

    pub async fn put_settings(&self, index: &str, settings: &Value) -> anyhow::Result<()> {
        self.call(
            reqwest::Method::PUT,
            &format!("/{index}/_settings"),
            Some(settings),
        )
        .await
        .map(drop)
    }

    pub async fn refresh(&self, index: &str) -> anyhow::Result<()> {
        self.call(reqwest::Method::POST, &format!("/{index}/_refresh"), None)
            .await
            .map(drop)
    }

    /// The settings Elasticsearch holds for `index` (flat keys, defaults excluded).
    pub async fn settings(&self, index: &str) -> anyhow::Result<Value> {
        let body = self
            .call(
                reqwest::Method::GET,
                &format!("/{index}/_settings?flat_settings=true"),
                None,
            )
            .await?;
        Ok(body
            .as_object()
            .and_then(|o| o.values().next())
            .map(|v| v["settings"].clone())
            .unwrap_or(Value::Null))
    }

    /// The indexes `alias` points at.
    pub async fn alias_indexes(&self, alias: &str) -> anyhow::Result<Vec<String>> {
        let body = self
            .call(reqwest::Method::GET, &format!("/_alias/{alias}"), None)
            .await?;
        Ok(body
            .as_object()
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default())
    }

    /// Every index whose name starts with `prefix`.
    pub async fn indexes_with_prefix(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let body = self
            .call(
                reqwest::Method::GET,
                &format!("/_cat/indices/{prefix}*?format=json&h=index&expand_wildcards=all"),
                None,
            )
            .await?;
        Ok(body
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|i| i["index"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Deletes every index named `<prefix>...` (by name: wildcard deletes are refused by
    /// default). Returns their names.
    pub async fn delete_prefixed(&self, prefix: &str) -> anyhow::Result<Vec<String>> {
        let indexes = self.indexes_with_prefix(prefix).await?;
        for index in &indexes {
            self.call(reqwest::Method::DELETE, &format!("/{index}"), None)
                .await?;
        }
        Ok(indexes)
    }

    pub async fn count(&self, index: &str) -> anyhow::Result<u64> {
        let body = self
            .call(reqwest::Method::GET, &format!("/{index}/_count"), None)
            .await?;
        body["count"].as_u64().context("no count in the answer")
    }

    /// Every document of `index` with its version, in pages of `page` (search_after on the
    /// order id; the index must not change meanwhile).
    pub async fn read_all(&self, index: &str, page: usize) -> anyhow::Result<Vec<StoredDoc>> {
        let mut docs = Vec::new();
        let mut after: Option<Value> = None;
        loop {
            let mut body = json!({
                "size": page,
                "version": true,
                "sort": [{ "order_id": "asc" }],
                "track_total_hits": false,
                "query": { "match_all": {} }
            });
            if let Some(after) = &after {
                body["search_after"] = after.clone();
            }
            let answer = self
                .call(
                    reqwest::Method::POST,
                    &format!("/{index}/_search"),
                    Some(&body),
                )
                .await?;
            let hits = answer["hits"]["hits"]
                .as_array()
                .context("no hits in a search answer")?;
            if hits.is_empty() {
                return Ok(docs);
            }
            for hit in hits {
                docs.push(StoredDoc {
                    id: hit["_id"].as_str().context("a hit without _id")?.to_owned(),
                    version: hit["_version"].as_u64().context("a hit without _version")?,
                    source: serde_json::to_vec(&hit["_source"])?,
                });
            }
            after = hits.last().map(|h| h["sort"].clone());
        }
    }

    /// One `_bulk` request of prepared NDJSON; fails on any item error. The answer is
    /// filtered to what an item's outcome needs, as the rebuild's loader asks for it.
    pub async fn bulk(&self, index: &str, body: Vec<u8>) -> anyhow::Result<()> {
        let response = self
            .client
            .post(format!(
                "{}/{index}/_bulk?filter_path=errors,items.*.status,items.*.error",
                self.url
            ))
            .header("Content-Type", "application/x-ndjson")
            .body(body)
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await?;
        anyhow::ensure!(status.is_success(), "_bulk: HTTP {status}: {answer}");
        if answer["errors"] == true {
            let first = answer["items"]
                .as_array()
                .and_then(|items| items.iter().find(|i| i["index"]["error"].is_object()))
                .cloned()
                .unwrap_or(Value::Null);
            anyhow::bail!("_bulk item failed: {first}");
        }
        Ok(())
    }
}

/// `_bulk` bodies of `batch` documents each: `index` actions with the documents' ids and
/// external versions, as the projector writes them.
pub fn bulk_bodies(docs: &[StoredDoc], batch: usize) -> Vec<Vec<u8>> {
    docs.chunks(batch.max(1))
        .map(|chunk| {
            let mut body = Vec::with_capacity(chunk.iter().map(|d| d.source.len() + 96).sum());
            for doc in chunk {
                let action = json!({ "index": {
                    "_id": doc.id, "version": doc.version, "version_type": "external"
                } });
                body.extend_from_slice(action.to_string().as_bytes());
                body.push(b'\n');
                body.extend_from_slice(&doc.source);
                body.push(b'\n');
            }
            body
        })
        .collect()
}
