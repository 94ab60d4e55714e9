use keel_schemas::{Currency, MinorUnits};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// What can be asked of a payment. In JSON: `{"type": "capture_payment", "amount": 500}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum PaymentCommand {
    RequestPayment(RequestPayment),
    AuthorisePayment(AuthorisePayment),
    DeclinePayment(DeclinePayment),
    CapturePayment(CapturePayment),
    RefundPayment(RefundPayment),
    VoidAuthorisation,
}

/// Ask for payment of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestPayment {
    /// Chosen by the caller, so a retried command names the same payment.
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount: MinorUnits,
    pub currency: Currency,
}

/// The acquirer authorised the full requested amount.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorisePayment {
    #[serde(default)]
    pub authorisation_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclinePayment {
    pub reason: String,
}

/// Take (part of) the authorised amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CapturePayment {
    pub amount: MinorUnits,
}

/// Pay back (part of) the captured amount.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundPayment {
    pub amount: MinorUnits,
}

impl From<RequestPayment> for PaymentCommand {
    fn from(command: RequestPayment) -> Self {
        Self::RequestPayment(command)
    }
}

impl From<AuthorisePayment> for PaymentCommand {
    fn from(command: AuthorisePayment) -> Self {
        Self::AuthorisePayment(command)
    }
}

impl From<DeclinePayment> for PaymentCommand {
    fn from(command: DeclinePayment) -> Self {
        Self::DeclinePayment(command)
    }
}

impl From<CapturePayment> for PaymentCommand {
    fn from(command: CapturePayment) -> Self {
        Self::CapturePayment(command)
    }
}

impl From<RefundPayment> for PaymentCommand {
    fn from(command: RefundPayment) -> Self {
        Self::RefundPayment(command)
    }
}
