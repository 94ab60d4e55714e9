//! A search-model index of its own for one test: `keel-test-<random>-v1` with the projector's
//! mapping, behind an alias of its own, filled directly with order documents (the projector
//! is not under test here). Deleted when dropped.

use keel_projections::search::{index_body, LineDocument, OrderDocument};
use reqwest::Client;
use serde_json::{json, Value};
use uuid::Uuid;

use crate::{elasticsearch_url, unique_suffix};

pub struct TestIndex {
    /// What the query service reads through (`SEARCH_ALIAS`).
    pub alias: String,
    /// The index behind the alias.
    pub index: String,
    url: String,
    http: Client,
}

impl TestIndex {
    /// Creates the index (one shard, no replica) and points a new alias at it.
    pub async fn create() -> Self {
        let alias = format!("keel-test-{}", unique_suffix());
        let index = format!("{alias}-v1");
        let url = elasticsearch_url();
        let http = Client::new();
        let mut body = index_body(1, 0);
        body["aliases"] = json!({ alias.clone(): {} });
        let response = http
            .put(format!("{url}/{index}"))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("Elasticsearch at {url} unreachable: {e}"));
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        assert!(status.is_success(), "creating {index}: {status} {text}");
        Self {
            alias,
            index,
            url,
            http,
        }
    }

    /// Indexes `documents` (id = order id, as the projector writes them) and refreshes, so
    /// a search sees them at once.
    pub async fn put(&self, documents: &[OrderDocument]) {
        let mut lines = String::new();
        for document in documents {
            let action = json!({ "index": { "_id": document.order_id.to_string() } });
            lines.push_str(&format!("{action}\n"));
            lines.push_str(&serde_json::to_string(document).expect("a document serialises"));
            lines.push('\n');
        }
        let response = self
            .http
            .post(format!("{}/{}/_bulk?refresh=true", self.url, self.index))
            .header("content-type", "application/x-ndjson")
            .body(lines)
            .send()
            .await
            .expect("bulk request");
        let status = response.status();
        let body: Value = response.json().await.expect("bulk answer");
        assert!(
            status.is_success() && body["errors"] == false,
            "bulk indexing: {status} {body}"
        );
    }
}

impl Drop for TestIndex {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot be blocked on: a thread of its own.
        let url = format!("{}/{}", self.url, self.index);
        let deleted = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime for deleting a test index");
            runtime.block_on(async move { Client::new().delete(&url).send().await })
        })
        .join();
        if let Ok(Err(e)) = deleted {
            eprintln!("could not delete test index {}: {e}", self.index);
        }
    }
}

/// An order as the projector would write it: placed at `placed_at` (RFC 3339) by
/// `customer_name`, one line per `(sku, name, quantity, unit_price)`, status `placed`,
/// version 1. Tests change the fields they are about.
pub fn order_document(
    customer_name: &str,
    placed_at: &str,
    lines: &[(&str, &str, u32, u64)],
) -> OrderDocument {
    let placed_at = placed_at.parse().expect("an RFC 3339 date-time");
    let lines: Vec<LineDocument> = lines
        .iter()
        .map(|&(sku, name, quantity, unit_price)| LineDocument {
            sku: sku.to_owned(),
            name: name.to_owned(),
            quantity,
            unit_price,
        })
        .collect();
    OrderDocument {
        order_id: Uuid::now_v7(),
        customer_id: Uuid::new_v4(),
        customer_name: customer_name.to_owned(),
        total: lines
            .iter()
            .map(|l| u64::from(l.quantity) * l.unit_price)
            .sum(),
        lines,
        currency: "EUR".to_owned(),
        status: "placed".to_owned(),
        payment_id: None,
        shipment: None,
        cancellation_reason: None,
        placed_at,
        updated_at: placed_at,
        version: 1,
        state: json!({ "folded": "state" }),
    }
}
