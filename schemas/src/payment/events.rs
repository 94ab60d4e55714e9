use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{Currency, MinorUnits};

/// Every event of a payment's stream, in its current schema version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PaymentEvent {
    PaymentRequested(PaymentRequested),
    PaymentAuthorised(PaymentAuthorised),
    PaymentDeclined(PaymentDeclined),
    PaymentCaptured(PaymentCaptured),
    PaymentRefunded(PaymentRefunded),
    AuthorisationVoided(AuthorisationVoided),
}

/// Payment of an order was requested (v2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRequested {
    pub payment_id: Uuid,
    pub order_id: Uuid,
    pub amount: MinorUnits,
    pub currency: Currency,
}

/// The acquirer authorised the full requested amount (v2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentAuthorised {
    /// The acquirer's code, where it returned one.
    pub authorisation_code: Option<String>,
}

/// The acquirer declined the payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentDeclined {
    pub reason: String,
}

/// Part or all of the authorised amount was captured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentCaptured {
    pub amount: MinorUnits,
}

/// Part or all of the captured amount was paid back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentRefunded {
    pub amount: MinorUnits,
}

/// The authorisation was released before anything was captured.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthorisationVoided {}
