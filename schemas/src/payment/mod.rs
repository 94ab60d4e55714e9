//! Events of the `payment` stream type.
//!
//! # Schema history
//!
//! | event type            | version | shape                                                        |
//! |-----------------------|---------|--------------------------------------------------------------|
//! | `PaymentRequested`    | v1      | the amount was called `amount_cents`                          |
//! | `PaymentRequested`    | v2      | renamed `amount` (minor units: there are no cents in JPY)     |
//! | `PaymentAuthorised`   | v1      | no fields: the first gateway returned no code                 |
//! | `PaymentAuthorised`   | v2      | adds the acquirer's `authorisation_code` (null for v1 events) |
//! | `PaymentDeclined`, `PaymentCaptured`, `PaymentRefunded`, `AuthorisationVoided` | v1 | unchanged since the start |
//!
//! All amounts are in minor units of the currency named by `PaymentRequested`.

mod codec;
mod events;
mod history;

pub use events::{
    AuthorisationVoided, PaymentAuthorised, PaymentCaptured, PaymentDeclined, PaymentEvent,
    PaymentRefunded, PaymentRequested,
};
