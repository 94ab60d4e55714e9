use keel_schemas::{order::LineItem, Currency};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What can be asked of an order. In JSON: `{"type": "ship_order", "carrier": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OrderCommand {
    PlaceOrder(PlaceOrder),
    MarkPaymentAuthorised(MarkPaymentAuthorised),
    ConfirmOrder,
    ShipOrder(ShipOrder),
    DeliverOrder,
    CancelOrder(CancelOrder),
}

/// Place a new order; the total is computed from the lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrder {
    /// Chosen by the caller (the service), so a retried command names the same order.
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub lines: Vec<LineItem>,
    pub currency: Currency,
}

/// Record that the order's payment was authorised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkPaymentAuthorised {
    pub payment_id: Uuid,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShipOrder {
    pub carrier: String,
    pub tracking_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    pub reason: String,
}

impl From<PlaceOrder> for OrderCommand {
    fn from(command: PlaceOrder) -> Self {
        Self::PlaceOrder(command)
    }
}

impl From<MarkPaymentAuthorised> for OrderCommand {
    fn from(command: MarkPaymentAuthorised) -> Self {
        Self::MarkPaymentAuthorised(command)
    }
}

impl From<ShipOrder> for OrderCommand {
    fn from(command: ShipOrder) -> Self {
        Self::ShipOrder(command)
    }
}

impl From<CancelOrder> for OrderCommand {
    fn from(command: CancelOrder) -> Self {
        Self::CancelOrder(command)
    }
}
