//! The order service's JSON: requests (checked for shape, turned into commands) and the
//! order view. Money is in integer minor units of the order's currency.

use keel_schemas::order::LineItem;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::validate;
use keel_aggregates::order::{
    CancelOrder, MarkPaymentAuthorised, Order, OrderCommand, OrderStatus, PlaceOrder, ShipOrder,
};

pub const MAX_LINES: usize = 100;
const MAX_NAME: usize = 200;
const MAX_CODE: usize = 64;

// Each text field's `pattern` below is `validate::TEXT_PATTERN` spelled out (utoipa takes
// literals only); `http::openapi::tests` checks that every one agrees with it.

/// An order to place.
///
/// Text fields: 1 to `maxLength` characters as sent, no ASCII control characters, not only
/// whitespace (stored trimmed).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaceOrderRequest {
    #[serde(deserialize_with = "validate::hyphenated_uuid")]
    pub customer_id: Uuid,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "Ada Lovelace"
    )]
    pub customer_name: String,
    /// ISO 4217 code of the order's currency.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
    #[schema(min_items = 1, max_items = 100)]
    pub lines: Vec<LineRequest>,
}

/// One line of an order.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LineRequest {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "SKU-1"
    )]
    pub sku: String,
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "Notebook"
    )]
    pub name: String,
    #[serde(deserialize_with = "validate::whole_number")]
    #[schema(minimum = 1, maximum = 2147483647, example = 2)]
    pub quantity: u32,
    /// Price of one unit in minor units (cents for EUR); 0 for a free item.
    #[serde(deserialize_with = "validate::whole_number")]
    #[schema(minimum = 0, maximum = 9007199254740991_u64, example = 1250)]
    pub unit_price: u64,
}

impl PlaceOrderRequest {
    pub fn into_command(self, order_id: Uuid) -> Result<OrderCommand, ApiError> {
        validate::at_most("lines", &self.lines, MAX_LINES)?;
        let lines = self
            .lines
            .into_iter()
            .enumerate()
            .map(|(i, line)| line.into_line(i))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OrderCommand::PlaceOrder(PlaceOrder {
            order_id,
            customer_id: self.customer_id,
            customer_name: validate::text("customer_name", self.customer_name, MAX_NAME)?,
            lines,
            currency: validate::currency("currency", &self.currency)?,
        }))
    }
}

impl LineRequest {
    fn into_line(self, index: usize) -> Result<LineItem, ApiError> {
        if self.quantity == 0 || self.quantity > validate::MAX_QUANTITY {
            return Err(validate::invalid(
                &format!("lines[{index}].quantity"),
                format!("`quantity` must be 1 to {}", validate::MAX_QUANTITY),
            ));
        }
        Ok(LineItem {
            sku: validate::text(&format!("lines[{index}].sku"), self.sku, MAX_CODE)?,
            name: validate::text(&format!("lines[{index}].name"), self.name, MAX_NAME)?,
            quantity: self.quantity,
            unit_price: validate::amount(
                &format!("lines[{index}].unit_price"),
                self.unit_price,
                0,
            )?,
        })
    }
}

/// The order's payment was authorised.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentAuthorizedRequest {
    #[serde(deserialize_with = "validate::hyphenated_uuid")]
    pub payment_id: Uuid,
}

impl PaymentAuthorizedRequest {
    pub fn into_command(self) -> Result<OrderCommand, ApiError> {
        Ok(OrderCommand::MarkPaymentAuthorised(MarkPaymentAuthorised {
            payment_id: self.payment_id,
        }))
    }
}

/// The shipment.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShipOrderRequest {
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "DHL"
    )]
    pub carrier: String,
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "JD014600006281234567"
    )]
    pub tracking_number: String,
}

impl ShipOrderRequest {
    pub fn into_command(self) -> Result<OrderCommand, ApiError> {
        Ok(OrderCommand::ShipOrder(ShipOrder {
            carrier: validate::text("carrier", self.carrier, MAX_CODE)?,
            tracking_number: validate::text("tracking_number", self.tracking_number, MAX_CODE)?,
        }))
    }
}

/// Why the order is cancelled.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrderRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "customer changed their mind"
    )]
    pub reason: String,
}

impl CancelOrderRequest {
    pub fn into_command(self) -> Result<OrderCommand, ApiError> {
        Ok(OrderCommand::CancelOrder(CancelOrder {
            reason: validate::text("reason", self.reason, MAX_NAME)?,
        }))
    }
}

pub fn confirm_command() -> OrderCommand {
    OrderCommand::ConfirmOrder
}

pub fn deliver_command() -> OrderCommand {
    OrderCommand::DeliverOrder
}

/// Where an order is in its life.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatusView {
    Placed,
    PaymentAuthorised,
    Confirmed,
    Shipped,
    Delivered,
    Cancelled,
}

/// How the order travels.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ShipmentView {
    pub carrier: String,
    pub tracking_number: String,
}

/// An order as of `version`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OrderView {
    pub id: Uuid,
    /// The stream version this state is at (also the `ETag`).
    pub version: u64,
    pub status: OrderStatusView,
    pub customer_id: Uuid,
    pub customer_name: String,
    /// ISO 4217.
    pub currency: String,
    pub lines: Vec<LineRequest>,
    /// Sum of the lines, in minor units.
    pub total: u64,
    pub payment_id: Option<Uuid>,
    pub shipment: Option<ShipmentView>,
    pub cancellation_reason: Option<String>,
}

impl OrderView {
    /// The view of a placed order (the services answer 404 for a stream without events, so
    /// `NotPlaced` is never shown; it reads as `placed` with empty details).
    pub fn new(id: Uuid, version: u64, order: &Order) -> Self {
        let status = match order.status() {
            OrderStatus::NotPlaced | OrderStatus::Placed => OrderStatusView::Placed,
            OrderStatus::PaymentAuthorised => OrderStatusView::PaymentAuthorised,
            OrderStatus::Confirmed => OrderStatusView::Confirmed,
            OrderStatus::Shipped => OrderStatusView::Shipped,
            OrderStatus::Delivered => OrderStatusView::Delivered,
            OrderStatus::Cancelled => OrderStatusView::Cancelled,
        };
        let details = order.details();
        Self {
            id,
            version,
            status,
            customer_id: details.map(|d| d.customer_id).unwrap_or_default(),
            customer_name: details.map(|d| d.customer_name.clone()).unwrap_or_default(),
            currency: details.map(|d| d.currency.to_string()).unwrap_or_default(),
            lines: details
                .map(|d| {
                    d.lines
                        .iter()
                        .map(|l| LineRequest {
                            sku: l.sku.clone(),
                            name: l.name.clone(),
                            quantity: l.quantity,
                            unit_price: l.unit_price.get(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            total: details.map_or(0, |d| d.total.get()),
            payment_id: order.payment_id(),
            shipment: order.shipment().map(|s| ShipmentView {
                carrier: s.carrier.clone(),
                tracking_number: s.tracking_number.clone(),
            }),
            cancellation_reason: order.cancellation_reason().map(str::to_owned),
        }
    }
}
