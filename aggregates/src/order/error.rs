use thiserror::Error;

use super::OrderStatus;
use crate::RuleViolation;

/// The rule that refused an order command; the message can be shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OrderError {
    #[error("this order has already been placed")]
    AlreadyPlaced,
    #[error("no order has been placed under this id")]
    NotPlaced,
    #[error("the order is {status} and accepts no further changes")]
    Closed { status: OrderStatus },
    #[error("an order needs at least one line")]
    Empty,
    #[error("{field} must not be empty")]
    Required { field: &'static str },
    #[error("line `{sku}` must have a quantity of at least 1")]
    ZeroQuantity { sku: String },
    #[error("the order total is too large")]
    TotalOverflow,
    #[error("the order's payment has already been authorised")]
    PaymentAlreadyAuthorised,
    #[error("the order cannot be confirmed before its payment is authorised")]
    PaymentNotAuthorised,
    #[error("the order has already been confirmed")]
    AlreadyConfirmed,
    #[error("the order cannot ship before it is confirmed")]
    NotConfirmed,
    #[error("the order has already shipped")]
    AlreadyShipped,
    #[error("the order cannot be delivered before it ships")]
    NotShipped,
}

impl RuleViolation for OrderError {
    fn rule(&self) -> &'static str {
        match self {
            Self::AlreadyPlaced => "order-already-placed",
            Self::NotPlaced => "order-not-placed",
            Self::Closed { .. } => "order-closed",
            Self::Empty => "order-empty",
            Self::Required { .. } => "field-required",
            Self::ZeroQuantity { .. } => "line-quantity-zero",
            Self::TotalOverflow => "order-total-overflow",
            Self::PaymentAlreadyAuthorised => "payment-already-authorised",
            Self::PaymentNotAuthorised => "payment-not-authorised",
            Self::AlreadyConfirmed => "order-already-confirmed",
            Self::NotConfirmed => "order-not-confirmed",
            Self::AlreadyShipped => "order-already-shipped",
            Self::NotShipped => "order-not-shipped",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            Self::Required { field } => Some(field),
            Self::Empty | Self::TotalOverflow => Some("lines"),
            Self::ZeroQuantity { .. } => Some("lines.quantity"),
            _ => None,
        }
    }
}
