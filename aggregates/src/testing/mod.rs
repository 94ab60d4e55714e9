//! A law kit for property-testing any [`Aggregate`](crate::Aggregate) (feature `testing`).
//!
//! Give it a proptest strategy of command sequences; for every sequence it checks:
//! - a refused command leaves the state unchanged, and names its rule in kebab case;
//! - `decide` is deterministic;
//! - every event survives `encode` → `decode`, and the stream version counts the events;
//! - replaying all events from scratch gives the incremental state;
//! - a snapshot taken after any event (JSON round trip) plus the rest gives it too;
//! - events written in older schema versions (`encode_as`) and upcast by `decode` give it too;
//! - your own invariants, checked after every command (see [`Laws::invariant`]).
//!
//! ```
//! # use keel_aggregates::{order::Order, testing};
//! testing::Laws::<Order>::new()
//!     .invariant(testing::order::invariants)
//!     .check(testing::order::commands());
//! ```
//!
//! [`Scenario`] is the matching given/when/then helper for example-based unit tests.

mod config;
mod history;
mod law;
mod laws;
pub mod order;
pub mod payment;
mod scenario;
mod sequence;

pub use config::{cases_from_env_or, proptest_config, DEFAULT_CASES};
pub use law::{Law, LawBroken, Step};
pub use laws::{check_laws, Laws};
pub use scenario::{Scenario, Then};
pub use sequence::{interleave, path_with_noise};
