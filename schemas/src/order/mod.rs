//! Events of the `order` stream type.
//!
//! # Schema history
//!
//! | event type          | version | shape                                                          |
//! |---------------------|---------|----------------------------------------------------------------|
//! | `OrderPlaced`       | v1      | `customer` is one string, `"<customer uuid>/<display name>"`, as the first storefront wrote it; every order is in EUR |
//! | `OrderPlaced`       | v2      | `customer` split into `customer_id` (UUID) and `customer_name`  |
//! | `OrderPlaced`       | v3      | adds `currency` per order; v1 and v2 orders upcast to `EUR`     |
//! | `OrderShipped`      | v1      | `carrier`, `tracking`                                           |
//! | `OrderShipped`      | v2      | `tracking` renamed `tracking_number`                            |
//! | `PaymentAuthorised`, `OrderConfirmed`, `OrderDelivered`, `OrderCancelled` | v1 | unchanged since the start |
//!
//! Upcasters are chained (v1 → v2 → v3), so each step only knows its neighbour. A published
//! version never changes shape: a change is a new version, a new JSON Schema document in
//! `json/order/` and a new upcaster (the tests in `tests/json_schemas.rs` enforce it).

mod codec;
mod events;
mod history;
mod line_item;

pub use events::{
    OrderCancelled, OrderConfirmed, OrderDelivered, OrderEvent, OrderPlaced, OrderShipped,
    PaymentAuthorised,
};
pub use line_item::{total_of, LineItem};
