//! The search model's document: one per order, the fields the query service filters, sorts
//! and searches on, plus the order's folded state so a projector can apply the next event
//! without reading the event store.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

/// The alias every reader and writer goes through; it points at one `orders-v<n>` index.
pub const ALIAS: &str = "orders";

/// The index a rebuild or a first start creates: `orders-v<n>`.
pub fn index_name(generation: u32) -> String {
    format!("{ALIAS}-v{generation}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderDocument {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub lines: Vec<LineDocument>,
    /// In minor units of `currency`.
    pub total: u64,
    pub currency: String,
    /// `placed`, `payment_authorised`, `confirmed`, `shipped`, `delivered`, `cancelled`.
    pub status: String,
    pub payment_id: Option<Uuid>,
    pub shipment: Option<ShipmentDocument>,
    pub cancellation_reason: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The stream version the document reflects; also its Elasticsearch external version.
    pub version: u64,
    /// The order's aggregate state as JSON (stored, not indexed), for folding the next event.
    pub state: Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineDocument {
    pub sku: String,
    pub name: String,
    pub quantity: u32,
    /// Per unit, in minor units of the order's currency.
    pub unit_price: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShipmentDocument {
    pub carrier: String,
    pub tracking_number: String,
}

/// Settings and explicit mapping of an `orders-v<n>` index. `keyword` for what is filtered,
/// sorted or matched exactly (ids, status, currency, sku); `text` for what `q` searches
/// (customer name, line names; skus through their keyword); `dynamic: strict` so a field
/// the code does not know is an error, not a silently guessed mapping.
pub fn index_body(shards: u32, replicas: u32) -> Value {
    json!({
        "settings": {
            "number_of_shards": shards,
            "number_of_replicas": replicas,
            "refresh_interval": "1s"
        },
        "mappings": {
            "dynamic": "strict",
            "properties": {
                "order_id": { "type": "keyword" },
                "customer_id": { "type": "keyword" },
                "customer_name": {
                    "type": "text",
                    "fields": { "raw": { "type": "keyword", "ignore_above": 256 } }
                },
                "lines": {
                    "properties": {
                        "sku": { "type": "keyword" },
                        "name": { "type": "text" },
                        "quantity": { "type": "integer" },
                        "unit_price": { "type": "long" }
                    }
                },
                "total": { "type": "long" },
                "currency": { "type": "keyword" },
                "status": { "type": "keyword" },
                "payment_id": { "type": "keyword" },
                "shipment": {
                    "properties": {
                        "carrier": { "type": "keyword" },
                        "tracking_number": { "type": "keyword" }
                    }
                },
                "cancellation_reason": { "type": "text" },
                "placed_at": { "type": "date" },
                "updated_at": { "type": "date" },
                "version": { "type": "long" },
                "state": { "type": "object", "enabled": false }
            }
        }
    })
}
