//! A search alias of its own for one test (`t<random>-orders`), read through plain HTTP, and
//! removed with its indexes when the guard is dropped; and a watcher that reads documents
//! over and over to catch a version ever going back.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use uuid::Uuid;

use crate::{elasticsearch_url, unique_suffix};

/// A document as `_mget` returns it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredDocument {
    /// The external version (= stream version).
    pub version: u64,
    /// Changes on every write, even of the same content.
    pub seq_no: u64,
    pub source: Value,
}

pub struct SearchIndex {
    pub alias: String,
    url: String,
    client: reqwest::Client,
}

impl Default for SearchIndex {
    fn default() -> Self {
        Self::new()
    }
}

impl SearchIndex {
    pub fn new() -> Self {
        Self {
            alias: format!("t{}-orders", unique_suffix()),
            url: elasticsearch_url(),
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .expect("an HTTP client"),
        }
    }

    /// The documents of `ids` that exist (real time: no refresh needed).
    pub async fn documents(&self, ids: &[Uuid]) -> HashMap<Uuid, StoredDocument> {
        mget(&self.client, &self.url, &self.alias, ids).await
    }

    pub async fn document(&self, id: Uuid) -> Option<StoredDocument> {
        self.documents(&[id]).await.remove(&id)
    }

    /// Full-text search on the alias (after a refresh); returns the hits' ids.
    pub async fn search(&self, query: Value) -> Vec<Uuid> {
        let refresh = format!("{}/{}/_refresh", self.url, self.alias);
        self.client.post(refresh).send().await.expect("refresh");
        let response = self
            .client
            .post(format!("{}/{}/_search", self.url, self.alias))
            .json(&json!({ "query": query, "size": 100 }))
            .send()
            .await
            .expect("search");
        let body: Value = response.json().await.expect("search JSON");
        body["hits"]["hits"]
            .as_array()
            .map(|hits| {
                hits.iter()
                    .filter_map(|h| h["_id"].as_str()?.parse().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The indexes the alias points at.
    pub async fn indexes(&self) -> Vec<String> {
        indexes(&self.client, &self.url, &self.alias).await
    }
}

async fn mget(
    client: &reqwest::Client,
    url: &str,
    alias: &str,
    ids: &[Uuid],
) -> HashMap<Uuid, StoredDocument> {
    let mut found = HashMap::new();
    if ids.is_empty() {
        return found;
    }
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    let Ok(response) = client
        .post(format!("{url}/{alias}/_mget"))
        .json(&json!({ "ids": ids }))
        .send()
        .await
    else {
        return found;
    };
    let Ok(body) = response.json::<Value>().await else {
        return found;
    };
    for doc in body["docs"].as_array().into_iter().flatten() {
        if doc["found"] != true {
            continue;
        }
        let (Some(id), Some(version), Some(seq_no)) = (
            doc["_id"].as_str().and_then(|id| id.parse().ok()),
            doc["_version"].as_u64(),
            doc["_seq_no"].as_u64(),
        ) else {
            continue;
        };
        found.insert(
            id,
            StoredDocument {
                version,
                seq_no,
                source: doc["_source"].clone(),
            },
        );
    }
    found
}

async fn indexes(client: &reqwest::Client, url: &str, alias: &str) -> Vec<String> {
    let Ok(response) = client.get(format!("{url}/_alias/{alias}")).send().await else {
        return Vec::new();
    };
    let body: Value = response.json().await.unwrap_or_default();
    body.as_object()
        .map(|o| {
            o.keys()
                .filter(|k| *k != "error" && *k != "status")
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread of
        // its own. Indexes are deleted by name (wildcards are refused by default).
        let (url, alias) = (self.url.clone(), self.alias.clone());
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let client = reqwest::Client::new();
                for index in indexes(&client, &url, &alias).await {
                    let _ = client.delete(format!("{url}/{index}")).send().await;
                }
            });
        })
        .join();
    }
}

/// Reads the documents of the ids it is given, over and over, and counts every time a
/// document's version was lower than one seen before.
pub struct VersionWatcher {
    ids: Arc<Mutex<Vec<Uuid>>>,
    regressions: Arc<Mutex<Vec<String>>>,
    reads: Arc<Mutex<u64>>,
    stop: Arc<AtomicBool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl VersionWatcher {
    pub fn start(index: &SearchIndex) -> Self {
        let ids: Arc<Mutex<Vec<Uuid>>> = Arc::default();
        let regressions: Arc<Mutex<Vec<String>>> = Arc::default();
        let reads: Arc<Mutex<u64>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let (client, url, alias) = (index.client.clone(), index.url.clone(), index.alias.clone());
        let task = tokio::spawn({
            let (ids, regressions, reads, stop) = (
                ids.clone(),
                regressions.clone(),
                reads.clone(),
                stop.clone(),
            );
            async move {
                let mut seen: HashMap<Uuid, u64> = HashMap::new();
                while !stop.load(Ordering::Relaxed) {
                    let wanted = ids.lock().expect("ids").clone();
                    for (id, doc) in mget(&client, &url, &alias, &wanted).await {
                        let last = seen.entry(id).or_insert(0);
                        if doc.version < *last {
                            regressions
                                .lock()
                                .expect("regressions")
                                .push(format!("{id}: version {} after {last}", doc.version));
                        }
                        *last = (*last).max(doc.version);
                        *reads.lock().expect("reads") += 1;
                    }
                    // Pacing the reads, not synchronising.
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            }
        });
        Self {
            ids,
            regressions,
            reads,
            stop,
            task: Some(task),
        }
    }

    pub fn watch(&self, id: Uuid) {
        self.ids.lock().expect("ids").push(id);
    }

    /// Stops; returns the regressions seen and how many document reads were made.
    pub async fn finish(mut self) -> (Vec<String>, u64) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
        let regressions = self.regressions.lock().expect("regressions").clone();
        let reads = *self.reads.lock().expect("reads");
        (regressions, reads)
    }
}

impl Drop for VersionWatcher {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
