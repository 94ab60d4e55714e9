use std::fmt;

use keel_schemas::{
    order::{LineItem, OrderEvent},
    Currency, MinorUnits,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where an order is in its life.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// No order has been placed in this stream yet.
    #[default]
    NotPlaced,
    Placed,
    PaymentAuthorised,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    /// Delivered and cancelled orders accept no command.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Delivered | Self::Cancelled)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotPlaced => "not_placed",
            Self::Placed => "placed",
            Self::PaymentAuthorised => "payment_authorised",
            Self::Confirmed => "confirmed",
            Self::Shipped => "shipped",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the customer ordered, as placed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDetails {
    pub order_id: Uuid,
    pub customer_id: Uuid,
    pub customer_name: String,
    pub lines: Vec<LineItem>,
    pub currency: Currency,
    pub total: MinorUnits,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shipment {
    pub carrier: String,
    pub tracking_number: String,
}

/// The state of one order, rebuilt from its events (and snapshotted as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    status: OrderStatus,
    details: Option<OrderDetails>,
    payment_id: Option<Uuid>,
    shipment: Option<Shipment>,
    cancellation_reason: Option<String>,
}

impl Order {
    pub fn status(&self) -> OrderStatus {
        self.status
    }

    /// `None` until the order is placed.
    pub fn details(&self) -> Option<&OrderDetails> {
        self.details.as_ref()
    }

    pub fn payment_id(&self) -> Option<Uuid> {
        self.payment_id
    }

    pub fn shipment(&self) -> Option<&Shipment> {
        self.shipment.as_ref()
    }

    pub fn cancellation_reason(&self) -> Option<&str> {
        self.cancellation_reason.as_deref()
    }

    /// Folds one event in. Events are decided facts, so this only records them; an event
    /// that has nothing to attach to (before `OrderPlaced`, a second `OrderPlaced`, anything
    /// after a final status) is ignored rather than trusted.
    pub(super) fn record(&mut self, event: &OrderEvent) {
        if self.status.is_final() {
            return;
        }
        match (event, self.status) {
            (OrderEvent::OrderPlaced(placed), OrderStatus::NotPlaced) => {
                self.details = Some(OrderDetails {
                    order_id: placed.order_id,
                    customer_id: placed.customer_id,
                    customer_name: placed.customer_name.clone(),
                    lines: placed.lines.clone(),
                    currency: placed.currency,
                    total: placed.total,
                });
                self.status = OrderStatus::Placed;
            }
            (OrderEvent::OrderPlaced(_), _) | (_, OrderStatus::NotPlaced) => {}
            (OrderEvent::PaymentAuthorised(authorised), _) => {
                self.payment_id = Some(authorised.payment_id);
                self.status = OrderStatus::PaymentAuthorised;
            }
            (OrderEvent::OrderConfirmed(_), _) => self.status = OrderStatus::Confirmed,
            (OrderEvent::OrderShipped(shipped), _) => {
                self.shipment = Some(Shipment {
                    carrier: shipped.carrier.clone(),
                    tracking_number: shipped.tracking_number.clone(),
                });
                self.status = OrderStatus::Shipped;
            }
            (OrderEvent::OrderDelivered(_), _) => self.status = OrderStatus::Delivered,
            (OrderEvent::OrderCancelled(cancelled), _) => {
                self.cancellation_reason = Some(cancelled.reason.clone());
                self.status = OrderStatus::Cancelled;
            }
        }
    }
}
