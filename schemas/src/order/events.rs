use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::LineItem;
use crate::{Currency, MinorUnits};

/// Every event of an order's stream, in its current schema version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrderEvent {
    OrderPlaced(OrderPlaced),
    PaymentAuthorised(PaymentAuthorised),
    OrderConfirmed(OrderConfirmed),
    OrderShipped(OrderShipped),
    OrderDelivered(OrderDelivered),
    OrderCancelled(OrderCancelled),
}

/// A customer placed an order (v3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderPlaced {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub lines: Vec<LineItem>,
    pub currency: Currency,
    /// The sum of the line totals, in minor units of `currency`.
    pub total: MinorUnits,
}

/// The order's payment was authorised (the order's own record of it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentAuthorised {
    pub payment_id: Uuid,
}

/// The order was confirmed for fulfilment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderConfirmed {}

/// The order left the warehouse (v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderShipped {
    pub carrier: String,
    pub tracking_number: String,
}

/// The carrier delivered the order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderDelivered {}

/// The order was cancelled before it shipped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderCancelled {
    pub reason: String,
}
