//! The [`Aggregate`] trait and the platform's domain: [`order`] and [`payment`].
//!
//! Everything here is pure: no IO, no async, no clock. Time and ids come in with commands.
//! With the `testing` feature, [`testing`] property-tests any aggregate against the laws
//! every event-sourced aggregate must keep.

mod aggregate;
pub mod order;
pub mod payment;
#[cfg(feature = "testing")]
pub mod testing;

pub use aggregate::{Aggregate, RuleViolation};
pub use order::{Order, OrderCommand, OrderError, OrderEvent, OrderStatus};
pub use payment::{Payment, PaymentCommand, PaymentError, PaymentEvent, PaymentStatus};
