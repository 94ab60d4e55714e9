//! The query service's JSON: an order as the search model holds it (without the internal
//! folded `state`), and a page of search results.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// An order as the search model last saw it. It lags the order service by the projector's
/// delay; `version` says which of the order's events it reflects.
///
/// Read straight from the document's `_source` (with `state` left out by Elasticsearch), so
/// the field names are those of `keel_projections::search::OrderDocument`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct OrderHit {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub lines: Vec<LineHit>,
    /// The order's total, in minor units of `currency`.
    #[schema(minimum = 0)]
    pub total: u64,
    /// ISO 4217 code.
    pub currency: String,
    /// `placed`, `payment_authorised`, `confirmed`, `shipped`, `delivered` or `cancelled`.
    pub status: String,
    pub payment_id: Option<Uuid>,
    pub shipment: Option<ShipmentHit>,
    pub cancellation_reason: Option<String>,
    pub placed_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The order stream's version this document reflects (the ETag of `GET /orders/{id}`).
    #[schema(minimum = 1)]
    pub version: u64,
}

/// One line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct LineHit {
    pub sku: String,
    pub name: String,
    #[schema(minimum = 1)]
    pub quantity: u32,
    /// Per unit, in minor units of the order's currency.
    #[schema(minimum = 0)]
    pub unit_price: u64,
}

/// Where a shipped order went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShipmentHit {
    pub carrier: String,
    pub tracking_number: String,
}

/// One page of the orders that match a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchResults {
    /// How many orders match, exactly (not only those on this page).
    #[schema(minimum = 0)]
    pub total: u64,
    /// This page's number, from 1.
    #[schema(minimum = 1)]
    pub page: u32,
    /// The page size asked for; `hits` holds fewer on the last page.
    #[schema(minimum = 1, maximum = 100)]
    pub per_page: u32,
    pub hits: Vec<OrderHit>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use keel_projections::search::{LineDocument, OrderDocument, ShipmentDocument};

    /// A projector's document, without `state`, reads as a hit with every field kept: the
    /// two types cannot drift apart unnoticed.
    #[test]
    fn a_document_without_its_state_is_a_hit() {
        let document = OrderDocument {
            order_id: Uuid::now_v7(),
            customer_id: Uuid::now_v7(),
            customer_name: "Ada Lovelace".into(),
            lines: vec![LineDocument {
                sku: "SKU-1".into(),
                name: "Notebook".into(),
                quantity: 2,
                unit_price: 1250,
            }],
            total: 2500,
            currency: "EUR".into(),
            status: "shipped".into(),
            payment_id: Some(Uuid::now_v7()),
            shipment: Some(ShipmentDocument {
                carrier: "DHL".into(),
                tracking_number: "T-1".into(),
            }),
            cancellation_reason: None,
            placed_at: Utc::now(),
            updated_at: Utc::now(),
            version: 4,
            state: serde_json::json!({"anything": true}),
        };
        let mut source = serde_json::to_value(&document).unwrap();
        source.as_object_mut().unwrap().remove("state");
        let hit: OrderHit = serde_json::from_value(source.clone()).unwrap();
        assert_eq!(serde_json::to_value(&hit).unwrap(), source);
    }
}
