//! An order: placed by a customer, paid, confirmed, shipped, delivered — or cancelled.
//!
//! ```text
//! placed ──► payment_authorised ──► confirmed ──► shipped ──► delivered
//!    └──────────────┴───────────────────┴──► cancelled
//! ```
//! Delivered and cancelled are final; a shipped order can no longer be cancelled.

mod command;
mod decide;
mod error;
mod state;
#[cfg(all(test, feature = "testing"))]
mod tests;

pub use command::{CancelOrder, MarkPaymentAuthorised, OrderCommand, PlaceOrder, ShipOrder};
pub use error::OrderError;
pub use keel_schemas::order::{LineItem, OrderEvent};
pub use state::{Order, OrderDetails, OrderStatus, Shipment};

use crate::Aggregate;

impl Aggregate for Order {
    type Command = OrderCommand;
    type Event = OrderEvent;
    type Error = OrderError;

    const SNAPSHOT_VERSION: u32 = 1;

    fn decide(&self, command: &OrderCommand) -> Result<Vec<OrderEvent>, OrderError> {
        decide::decide(self, command)
    }

    fn apply(&mut self, event: &OrderEvent) {
        self.record(event);
    }
}
