//! Event envelope, metadata and the typed, versioned event payloads of the platform.
//!
//! Storage and transport see events as [`EncodedEvent`]s (type, schema version, JSON);
//! the domain sees typed enums ([`order::OrderEvent`], [`payment::PaymentEvent`]).
//! [`VersionedEvent`] is the bridge, and decoding runs the upcasters so that old events
//! always come back in the current shape. Every published version of every event type has a
//! JSON Schema document under `json/<stream type>/<EventType>.v<N>.json`.

mod catalog;
mod codec;
mod currency;
mod envelope;
mod error;
mod metadata;
mod money;
pub mod order;
pub mod payment;
mod versioned;

pub use catalog::PublishedEvent;
pub use currency::{Currency, InvalidCurrency};
pub use envelope::{EventEnvelope, NewEvent};
pub use error::SchemaError;
pub use metadata::EventMetadata;
pub use money::MinorUnits;
pub use versioned::{EncodedEvent, VersionedEvent};
