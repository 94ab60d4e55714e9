use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use reqwest::{Client, RequestBuilder, StatusCode};
use serde_json::{json, Value};
use uuid::Uuid;

use crate::driver;
use crate::stats::Sample;

/// A keep-alive HTTP client for one service, with a bearer token, that counts every answer
/// other than the expected status (and every transport error) instead of failing the run.
#[derive(Clone)]
pub struct Api {
    client: Client,
    base_url: String,
    token: String,
    /// Makes idempotency keys unique across runs on the same database.
    run: Uuid,
    unexpected: Arc<AtomicU64>,
    first_unexpected: Arc<Mutex<Option<String>>>,
}

impl Api {
    pub fn new(base_url: String, token: String) -> anyhow::Result<Self> {
        let client = Client::builder()
            .pool_max_idle_per_host(1024)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .timeout(Duration::from_secs(30))
            .build()
            .context("building the HTTP client")?;
        Ok(Self {
            client,
            base_url,
            token,
            run: Uuid::new_v4(),
            unexpected: Arc::default(),
            first_unexpected: Arc::default(),
        })
    }

    /// A unique `Idempotency-Key` for request `n` of client `w` in workload `tag`.
    pub fn key(&self, tag: &str, w: usize, n: usize) -> String {
        format!("bench-{}-{tag}-{w}-{n}", self.run.simple())
    }

    /// `POST /orders` (two lines, like the integration tests) with an idempotency key.
    pub fn place_order(&self, key: &str) -> RequestBuilder {
        self.command("/orders", &order_body())
            .header("Idempotency-Key", key)
    }

    /// `POST /orders/{id}/{name}` with `body` and an idempotency key.
    pub fn order_command(&self, id: Uuid, name: &str, body: &Value, key: &str) -> RequestBuilder {
        self.command(&format!("/orders/{id}/{name}"), body)
            .header("Idempotency-Key", key)
    }

    /// `GET /orders/{id}`: the aggregate loaded through the repository.
    pub fn get_order(&self, id: Uuid) -> RequestBuilder {
        self.client
            .get(format!("{}/orders/{id}", self.base_url))
            .bearer_auth(&self.token)
    }

    fn command(&self, path: &str, body: &Value) -> RequestBuilder {
        self.client
            .post(format!("{}{path}", self.base_url))
            .bearer_auth(&self.token)
            .json(body)
    }

    /// Sends, reads the whole body (so the connection is reused) and records an answer other
    /// than `expect`. Transport errors are recorded too, not returned: the run goes on.
    pub async fn send(&self, request: RequestBuilder, expect: StatusCode) {
        let problem = match request.send().await {
            Ok(response) => {
                let status = response.status();
                match response.bytes().await {
                    Ok(_) if status == expect => return,
                    Ok(body) => format!("{status}: {}", String::from_utf8_lossy(&body)),
                    Err(e) => format!("{status}, body unreadable: {e}"),
                }
            }
            Err(e) => format!("transport error: {e}"),
        };
        self.unexpected.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut first) = self.first_unexpected.lock() {
            first.get_or_insert(problem);
        }
    }

    /// How many answers were unexpected since the last call (and the first of them).
    pub fn take_unexpected(&self) -> (u64, Option<String>) {
        let count = self.unexpected.swap(0, Ordering::Relaxed);
        let first = self.first_unexpected.lock().ok().and_then(|mut f| f.take());
        (count, first)
    }

    /// `clients` closed-loop clients, each sending `per_client` requests one after the
    /// other; `request(api, client, n)` builds request `n` of a client and its expected status.
    pub async fn closed_loop<F>(
        &self,
        clients: usize,
        per_client: usize,
        request: F,
    ) -> anyhow::Result<Sample>
    where
        F: Fn(&Api, usize, usize) -> (RequestBuilder, StatusCode) + Clone + Send + Sync + 'static,
    {
        let api = self.clone();
        driver::run(clients, per_client, move |w, i| {
            let api = api.clone();
            let request = request.clone();
            async move {
                let (builder, expect) = request(&api, w, i);
                api.send(builder, expect).await;
                Ok(1)
            }
        })
        .await
    }
}

/// The body of `POST /orders`: a customer and two lines.
pub fn order_body() -> Value {
    json!({
        "customer_id": "0b8f7d0e-3c1a-4f7e-9a52-6f1d2c3b4a59",
        "customer_name": "Ada Lovelace",
        "currency": "EUR",
        "lines": [
            {"sku": "SKU-1", "name": "Notebook", "quantity": 2, "unit_price": 1250},
            {"sku": "SKU-2", "name": "Pencil", "quantity": 3, "unit_price": 99}
        ]
    })
}

/// A workload's figures, with the unexpected answers appended.
pub fn report(api: &Api, sample: &mut Sample, name: &str) -> String {
    report_counted(api, sample, name).0
}

/// [`report`], and how many answers were unexpected.
pub fn report_counted(api: &Api, sample: &mut Sample, name: &str) -> (String, u64) {
    let (count, first) = api.take_unexpected();
    let mut line = format!("{}   unexpected {count}", sample.line(name, "req"));
    if let Some(first) = first {
        line.push_str(&format!("\n{:<52} first unexpected: {first}", ""));
    }
    (line, count)
}
