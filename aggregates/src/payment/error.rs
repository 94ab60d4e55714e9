use keel_schemas::MinorUnits;
use thiserror::Error;

use super::PaymentStatus;
use crate::RuleViolation;

/// The rule that refused a payment command; the message can be shown to the client.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PaymentError {
    #[error("this payment has already been requested")]
    AlreadyRequested,
    #[error("no payment has been requested under this id")]
    NotRequested,
    #[error("the payment is {status} and accepts no further changes")]
    Closed { status: PaymentStatus },
    #[error("{field} must not be empty")]
    Required { field: &'static str },
    #[error("the amount must be greater than zero")]
    AmountNotPositive,
    #[error("the payment has already been authorised")]
    AlreadyAuthorised,
    #[error("the payment has not been authorised")]
    NotAuthorised,
    #[error("cannot capture {amount}: only {capturable} of the authorisation is left")]
    CaptureExceedsAuthorised {
        amount: MinorUnits,
        capturable: MinorUnits,
    },
    #[error("nothing has been captured, so nothing can be refunded")]
    NothingCaptured,
    #[error("cannot refund {amount}: only {refundable} of the captured amount is left")]
    RefundExceedsCaptured {
        amount: MinorUnits,
        refundable: MinorUnits,
    },
    #[error("the authorisation cannot be voided: money has already been captured")]
    AlreadyCaptured,
}

impl RuleViolation for PaymentError {
    fn rule(&self) -> &'static str {
        match self {
            Self::AlreadyRequested => "payment-already-requested",
            Self::NotRequested => "payment-not-requested",
            Self::Closed { .. } => "payment-closed",
            Self::Required { .. } => "field-required",
            Self::AmountNotPositive => "amount-not-positive",
            Self::AlreadyAuthorised => "payment-already-authorised",
            Self::NotAuthorised => "payment-not-authorised",
            Self::CaptureExceedsAuthorised { .. } => "capture-exceeds-authorised",
            Self::NothingCaptured => "payment-not-captured",
            Self::RefundExceedsCaptured { .. } => "refund-exceeds-captured",
            Self::AlreadyCaptured => "payment-already-captured",
        }
    }

    fn field(&self) -> Option<&'static str> {
        match self {
            Self::Required { field } => Some(field),
            Self::AmountNotPositive
            | Self::CaptureExceedsAuthorised { .. }
            | Self::RefundExceedsCaptured { .. } => Some("amount"),
            _ => None,
        }
    }
}
