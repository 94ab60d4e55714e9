//! What the `projection_ops_*` tests share: `keel projections ...` run as a child process
//! on a fixture's database, topics, group and alias; a loop that searches through the alias
//! all along; a writer that keeps appending orders until told to stop; the cleanup of the
//! generations a rebuild leaves behind.

use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use keel_eventstore::PgEventStore;
use keel_tests::{elasticsearch_url, eventually, keel_binary};
use serde_json::{json, Value};
use tokio::process::{Child, Command};
use uuid::Uuid;

use super::projection_support::{append, life, ProjectionFixture};

/// The longest one `keel projections` command may take in these tests.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// How a `keel projections` run ended.
#[derive(Debug)]
pub struct Outcome {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Outcome {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// `keel projections <args>` on the fixture's event store, topics, group and alias.
pub fn command(fixture: &ProjectionFixture, args: &[&str]) -> Command {
    let mut command = Command::new(keel_binary());
    command
        .arg("projections")
        .args(args)
        .args([
            "--alias",
            &fixture.index.alias,
            "--order-database-url",
            &fixture.database_url,
            "--topic",
            &fixture.topic,
            "--group-id",
            &fixture.group,
            "--dead-letter-topic",
            &fixture.dead_letter_topic,
            "--kafka-brokers",
            &fixture.brokers,
        ])
        .env("RUST_LOG", "warn,keel_projections=info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// Runs `keel projections <args>` to its end.
pub async fn run(fixture: &ProjectionFixture, args: &[&str]) -> Outcome {
    let child = command(fixture, args)
        .spawn()
        .expect("start keel projections");
    finish(child).await
}

/// Waits for a started `keel projections` to end.
pub async fn finish(child: Child) -> Outcome {
    let output = tokio::time::timeout(COMMAND_TIMEOUT, child.wait_with_output())
        .await
        .expect("keel projections did not end within a minute")
        .expect("keel projections output");
    Outcome {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A number from a summary line `  <label>   <number>`.
pub fn summary_number(stdout: &str, label: &str) -> u64 {
    stdout
        .lines()
        .find_map(|line| {
            let rest = line.trim_start().strip_prefix(label)?;
            rest.trim().replace(',', "").parse().ok()
        })
        .unwrap_or_else(|| panic!("no `{label}` in the summary:\n{stdout}"))
}

/// Appends each order's whole life in one append, `concurrency` orders at a time.
pub async fn append_orders(store: &PgEventStore, orders: usize, concurrency: usize) -> Vec<Uuid> {
    let ids: Vec<Uuid> = (0..orders).map(|_| Uuid::new_v4()).collect();
    let mut pending = ids.clone();
    while !pending.is_empty() {
        let chunk: Vec<Uuid> = pending.drain(..concurrency.min(pending.len())).collect();
        let appends = chunk.iter().map(|id| {
            let store = store.clone();
            let id = *id;
            async move { append(&store, id, life(id, id.as_u64_pair().1)).await }
        });
        futures::future::join_all(appends).await;
    }
    ids
}

/// Appends orders (each life one event per append) until stopped; returns them.
pub struct Writer {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<Uuid>>,
}

impl Writer {
    pub fn start(store: PgEventStore) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn({
            let stop = stop.clone();
            async move {
                let mut orders = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let lives: Vec<Uuid> = (0..5).map(|_| Uuid::new_v4()).collect();
                    for round in 0..5 {
                        for id in &lives {
                            if let Some(event) = life(*id, id.as_u64_pair().1).get(round) {
                                append(&store, *id, vec![event.clone()]).await;
                            }
                        }
                        // Pacing the load, not synchronising.
                        tokio::time::sleep(Duration::from_millis(3)).await;
                    }
                    orders.extend(lives);
                }
                orders
            }
        });
        Self { stop, task }
    }

    pub async fn stop(self) -> Vec<Uuid> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the writer")
    }
}

/// Searches through the alias for one order, over and over, and records every answer that
/// is an error or does not find it.
pub struct SearchLoop {
    stop: Arc<AtomicBool>,
    failures: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<u64>,
}

impl SearchLoop {
    pub async fn start(alias: &str, order: Uuid) -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .expect("an HTTP client");
        let url = format!("{}/{alias}/_search", elasticsearch_url());
        let body = json!({ "query": { "term": { "order_id": order.to_string() } } });
        // The order's document is written; wait until searches see it (the next refresh).
        let what = || format!("a search never found {order}");
        eventually(Duration::from_secs(10), what, || async {
            search(&client, &url, &body).await.ok()
        })
        .await;
        let stop = Arc::new(AtomicBool::new(false));
        let failures: Arc<Mutex<Vec<String>>> = Arc::default();
        let task = tokio::spawn({
            let (stop, failures) = (stop.clone(), failures.clone());
            async move {
                let mut searches = 0;
                while !stop.load(Ordering::Relaxed) {
                    if let Err(failure) = search(&client, &url, &body).await {
                        failures.lock().expect("failures").push(failure);
                    }
                    searches += 1;
                    // Pacing the searches, not synchronising.
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
                searches
            }
        });
        Self {
            stop,
            failures,
            task,
        }
    }

    /// Stops; returns how many searches ran and the failed ones.
    pub async fn finish(self) -> (u64, Vec<String>) {
        self.stop.store(true, Ordering::Relaxed);
        let searches = self.task.await.expect("the search loop");
        let failures = self.failures.lock().expect("failures").clone();
        (searches, failures)
    }
}

/// One search: `Ok` when it answered 200 with at least one hit.
async fn search(client: &reqwest::Client, url: &str, body: &Value) -> Result<(), String> {
    let response = client
        .post(url)
        .json(body)
        .send()
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    let status = response.status().as_u16();
    let answer: Value = response.json().await.unwrap_or_default();
    if status != 200 {
        return Err(format!("HTTP {status}: {answer}"));
    }
    let hits = answer["hits"]["hits"].as_array().map_or(0, Vec::len);
    if hits == 0 {
        return Err(format!("no hit: {answer}"));
    }
    Ok(())
}

/// An index's status code for `GET /<index>` (404 once deleted).
pub async fn index_status(index: &str) -> u16 {
    reqwest::get(format!("{}/{index}", elasticsearch_url()))
        .await
        .expect("GET index")
        .status()
        .as_u16()
}

/// Documents written to an index, refreshed or not.
pub async fn documents_written(index: &str) -> u64 {
    let Ok(response) =
        reqwest::get(format!("{}/{index}/_stats/indexing", elasticsearch_url())).await
    else {
        return 0;
    };
    let body: Value = response.json().await.unwrap_or_default();
    body["_all"]["primaries"]["indexing"]["index_total"]
        .as_u64()
        .unwrap_or(0)
}

/// The rebuild marker's last stream in an index's mapping, once there is one.
pub async fn marker_last_stream(index: &str) -> Option<String> {
    let response = reqwest::get(format!("{}/{index}/_mapping", elasticsearch_url()))
        .await
        .ok()?;
    let body: Value = response.json().await.ok()?;
    body[index]["mappings"]["_meta"]["keel_rebuild"]["last_stream"]
        .as_str()
        .map(str::to_owned)
}

/// Writes a document straight into the alias at the version it names (`external_gte`, so
/// the same version replaces it): how a test damages the read model.
pub async fn put_document(alias: &str, source: &Value) {
    let id = source["order_id"].as_str().expect("an order_id");
    let version = source["version"].as_u64().expect("a version");
    let url = format!(
        "{}/{alias}/_doc/{id}?version={version}&version_type=external_gte&refresh=true",
        elasticsearch_url()
    );
    let response = reqwest::Client::new()
        .put(url)
        .json(source)
        .send()
        .await
        .expect("PUT document");
    assert!(
        response.status().is_success(),
        "{:?}",
        response.text().await
    );
}

/// Deletes the generations a test's rebuilds may leave without the alias (the fixture's
/// index guard deletes those behind it); by name, as wildcards are refused.
pub struct Generations {
    alias: String,
}

impl Generations {
    pub fn of(fixture: &ProjectionFixture) -> Self {
        Self {
            alias: fixture.index.alias.clone(),
        }
    }
}

impl Drop for Generations {
    fn drop(&mut self) {
        let alias = self.alias.clone();
        let _ = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let client = reqwest::Client::new();
                for n in 1..=4 {
                    let url = format!("{}/{alias}-v{n}", elasticsearch_url());
                    let _ = client.delete(url).send().await;
                }
            });
        })
        .join();
    }
}
