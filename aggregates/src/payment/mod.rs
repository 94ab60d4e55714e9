//! A payment of one order: requested, then authorised or declined; an authorisation is
//! captured (in one or more parts) or voided; captured money can be refunded.
//!
//! ```text
//! requested ──► authorised ──► captured ──► refunded (all of it)
//!     │              └──► voided
//!     └──► declined
//! ```
//! Amounts always hold `captured ≤ authorised ≤ requested` and `refunded ≤ captured`.
//! Declined, voided and fully refunded payments are final.

mod command;
mod decide;
mod error;
mod state;
#[cfg(all(test, feature = "testing"))]
mod tests;

pub use command::{
    AuthorisePayment, CapturePayment, DeclinePayment, PaymentCommand, RefundPayment, RequestPayment,
};
pub use error::PaymentError;
pub use keel_schemas::payment::PaymentEvent;
pub use state::{Payment, PaymentStatus};

use crate::Aggregate;

impl Aggregate for Payment {
    type Command = PaymentCommand;
    type Event = PaymentEvent;
    type Error = PaymentError;

    const SNAPSHOT_VERSION: u32 = 1;

    fn decide(&self, command: &PaymentCommand) -> Result<Vec<PaymentEvent>, PaymentError> {
        decide::decide(self, command)
    }

    fn apply(&mut self, event: &PaymentEvent) {
        self.record(event);
    }
}
