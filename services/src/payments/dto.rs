//! The payment service's JSON: requests (checked for shape, turned into commands) and the
//! payment view. Money is in integer minor units of the payment's currency.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;
use crate::http::validate;
use keel_aggregates::payment::{
    AuthorisePayment, CapturePayment, DeclinePayment, Payment, PaymentCommand, PaymentStatus,
    RefundPayment, RequestPayment,
};

const MAX_TEXT: usize = 200;

// Each text field's `pattern` below is `validate::TEXT_PATTERN` spelled out (utoipa takes
// literals only); `http::openapi::tests` checks that every one agrees with it.

/// Payment of an order to request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestPaymentRequest {
    #[serde(deserialize_with = "validate::hyphenated_uuid")]
    pub order_id: Uuid,
    /// In minor units of `currency` (cents for EUR).
    #[serde(deserialize_with = "validate::whole_number")]
    #[schema(minimum = 1, maximum = 9007199254740991_u64, example = 2500)]
    pub amount: u64,
    /// ISO 4217.
    #[schema(pattern = "^[A-Z]{3}$", example = "EUR")]
    pub currency: String,
}

impl RequestPaymentRequest {
    pub fn into_command(self, payment_id: Uuid) -> Result<PaymentCommand, ApiError> {
        Ok(PaymentCommand::RequestPayment(RequestPayment {
            payment_id,
            order_id: self.order_id,
            amount: validate::positive_amount("amount", self.amount)?,
            currency: validate::currency("currency", &self.currency)?,
        }))
    }
}

/// The acquirer's authorisation.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthorizeRequest {
    /// The acquirer's authorisation code, where it returned one.
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 64,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "A1B2C3"
    )]
    pub authorisation_code: Option<String>,
}

impl AuthorizeRequest {
    pub fn into_command(self) -> Result<PaymentCommand, ApiError> {
        let code = self
            .authorisation_code
            .map(|c| validate::text("authorisation_code", c, 64))
            .transpose()?;
        Ok(PaymentCommand::AuthorisePayment(AuthorisePayment {
            authorisation_code: code,
        }))
    }
}

/// Why the acquirer declined.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeclineRequest {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\u0000-\u001F\u007F]*[^\u0000-\u0020\u007F\u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u001F\u007F]*$",
        example = "insufficient funds"
    )]
    pub reason: String,
}

impl DeclineRequest {
    pub fn into_command(self) -> Result<PaymentCommand, ApiError> {
        Ok(PaymentCommand::DeclinePayment(DeclinePayment {
            reason: validate::text("reason", self.reason, MAX_TEXT)?,
        }))
    }
}

/// An amount to capture or refund.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AmountRequest {
    /// In minor units of the payment's currency.
    #[serde(deserialize_with = "validate::whole_number")]
    #[schema(minimum = 1, maximum = 9007199254740991_u64, example = 2500)]
    pub amount: u64,
}

impl AmountRequest {
    pub fn into_capture(self) -> Result<PaymentCommand, ApiError> {
        Ok(PaymentCommand::CapturePayment(CapturePayment {
            amount: validate::positive_amount("amount", self.amount)?,
        }))
    }

    pub fn into_refund(self) -> Result<PaymentCommand, ApiError> {
        Ok(PaymentCommand::RefundPayment(RefundPayment {
            amount: validate::positive_amount("amount", self.amount)?,
        }))
    }
}

pub fn void_command() -> PaymentCommand {
    PaymentCommand::VoidAuthorisation
}

/// Where a payment is in its life.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatusView {
    Requested,
    Authorised,
    Declined,
    /// Some or all was captured; some may have been refunded.
    Captured,
    /// Everything captured was refunded.
    Refunded,
    Voided,
}

/// A payment as of `version`. Amounts are in minor units of `currency`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: Uuid,
    /// The stream version this state is at (also the `ETag`).
    pub version: u64,
    pub status: PaymentStatusView,
    pub order_id: Uuid,
    /// ISO 4217.
    pub currency: String,
    pub requested: u64,
    pub authorised: u64,
    pub captured: u64,
    pub refunded: u64,
    pub authorisation_code: Option<String>,
    pub decline_reason: Option<String>,
}

impl PaymentView {
    /// The view of a requested payment (a stream without events is answered with 404).
    pub fn new(id: Uuid, version: u64, payment: &Payment) -> Self {
        let status = match payment.status() {
            PaymentStatus::NotRequested | PaymentStatus::Requested => PaymentStatusView::Requested,
            PaymentStatus::Authorised => PaymentStatusView::Authorised,
            PaymentStatus::Declined => PaymentStatusView::Declined,
            PaymentStatus::Captured => PaymentStatusView::Captured,
            PaymentStatus::Refunded => PaymentStatusView::Refunded,
            PaymentStatus::Voided => PaymentStatusView::Voided,
        };
        Self {
            id,
            version,
            status,
            order_id: payment.order_id().unwrap_or_default(),
            currency: payment
                .currency()
                .map(|c| c.to_string())
                .unwrap_or_default(),
            requested: payment.requested().get(),
            authorised: payment.authorised().get(),
            captured: payment.captured().get(),
            refunded: payment.refunded().get(),
            authorisation_code: payment.authorisation_code().map(str::to_owned),
            decline_reason: payment.decline_reason().map(str::to_owned),
        }
    }
}

/// The payments of one order.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PaymentList {
    pub order_id: Uuid,
    pub payments: Vec<PaymentView>,
}
