use std::fmt;

use keel_schemas::{payment::PaymentEvent, Currency, MinorUnits};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a payment is in its life.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// No payment has been requested in this stream yet.
    #[default]
    NotRequested,
    Requested,
    Authorised,
    Declined,
    /// Some or all of the authorisation was captured; some may have been refunded.
    Captured,
    /// Everything captured was refunded.
    Refunded,
    Voided,
}

impl PaymentStatus {
    /// Declined, voided and fully refunded payments accept no command.
    pub fn is_final(self) -> bool {
        matches!(self, Self::Declined | Self::Voided | Self::Refunded)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotRequested => "not_requested",
            Self::Requested => "requested",
            Self::Authorised => "authorised",
            Self::Declined => "declined",
            Self::Captured => "captured",
            Self::Refunded => "refunded",
            Self::Voided => "voided",
        }
    }
}

impl fmt::Display for PaymentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The state of one payment, rebuilt from its events (and snapshotted as JSON).
/// Amounts are in minor units of `currency`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    status: PaymentStatus,
    payment_id: Option<Uuid>,
    order_id: Option<Uuid>,
    currency: Option<Currency>,
    requested: MinorUnits,
    authorised: MinorUnits,
    captured: MinorUnits,
    refunded: MinorUnits,
    authorisation_code: Option<String>,
    decline_reason: Option<String>,
}

impl Payment {
    pub fn status(&self) -> PaymentStatus {
        self.status
    }

    pub fn payment_id(&self) -> Option<Uuid> {
        self.payment_id
    }

    pub fn order_id(&self) -> Option<Uuid> {
        self.order_id
    }

    pub fn currency(&self) -> Option<Currency> {
        self.currency
    }

    pub fn requested(&self) -> MinorUnits {
        self.requested
    }

    pub fn authorised(&self) -> MinorUnits {
        self.authorised
    }

    pub fn captured(&self) -> MinorUnits {
        self.captured
    }

    pub fn refunded(&self) -> MinorUnits {
        self.refunded
    }

    pub fn authorisation_code(&self) -> Option<&str> {
        self.authorisation_code.as_deref()
    }

    pub fn decline_reason(&self) -> Option<&str> {
        self.decline_reason.as_deref()
    }

    /// Authorised but not yet captured.
    pub fn capturable(&self) -> MinorUnits {
        self.authorised.saturating_sub(self.captured)
    }

    /// Captured and not yet refunded.
    pub fn refundable(&self) -> MinorUnits {
        self.captured.saturating_sub(self.refunded)
    }

    /// Folds one event in. Events are decided facts, so this only records them (amounts
    /// saturate rather than panic); an event with nothing to attach to (before
    /// `PaymentRequested`, a second request, anything after a final status) is ignored.
    pub(super) fn record(&mut self, event: &PaymentEvent) {
        if self.status.is_final() {
            return;
        }
        match (event, self.status) {
            (PaymentEvent::PaymentRequested(requested), PaymentStatus::NotRequested) => {
                self.payment_id = Some(requested.payment_id);
                self.order_id = Some(requested.order_id);
                self.currency = Some(requested.currency);
                self.requested = requested.amount;
                self.status = PaymentStatus::Requested;
            }
            (PaymentEvent::PaymentRequested(_), _) | (_, PaymentStatus::NotRequested) => {}
            (PaymentEvent::PaymentAuthorised(authorised), _) => {
                self.authorised = self.requested;
                self.authorisation_code = authorised.authorisation_code.clone();
                self.status = PaymentStatus::Authorised;
            }
            (PaymentEvent::PaymentDeclined(declined), _) => {
                self.decline_reason = Some(declined.reason.clone());
                self.status = PaymentStatus::Declined;
            }
            (PaymentEvent::PaymentCaptured(captured), _) => {
                self.captured = self.captured.saturating_add(captured.amount);
                self.status = PaymentStatus::Captured;
            }
            (PaymentEvent::PaymentRefunded(refunded), _) => {
                self.refunded = self.refunded.saturating_add(refunded.amount);
                self.status = if self.refunded >= self.captured {
                    PaymentStatus::Refunded
                } else {
                    PaymentStatus::Captured
                };
            }
            (PaymentEvent::AuthorisationVoided(_), _) => self.status = PaymentStatus::Voided,
        }
    }
}
