//! The `search` read model: one Elasticsearch document per order behind an alias (`orders`
//! by default), kept by the search projector.
//!
//! Wire protocol, per batch of order events: one `_mget` through the alias for the
//! batch's orders (document id = the order's UUID, real time); for each order, the events
//! above the document's `version` are folded onto its stored `state` (events it missed are
//! read from the order service's event store first); one `_bulk` of `index` actions with
//! `version_type=external` and `version` = the stream version. Item outcomes: 2xx written,
//! 409 a newer (or the same) version is there already (fine), 429/5xx/404 retry the
//! batch, any other 4xx poisons that order's events (they are dead-lettered).
//!
//! Files: `document` (the document and the index mapping), `index` (the alias and its
//! first index), `config`, `client` (the HTTP calls), `retry` (what an answer means),
//! `fold` (the pure folding), `projector` (the [`crate::engine::Projector`]), `metrics`.
//! Operator commands ([`crate::operations::ReadModel`], in `read_model`): `rebuild`
//! (blue/green from the event store), `replay`, `verify` (and `difference`, one stream against its document), with `generations` (the
//! `<alias>-v<n>` indexes, the rebuild marker, the alias switch) and `bulk_load` (big
//! `_bulk` requests, several in flight).

mod bulk_load;
mod client;
mod config;
mod difference;
mod document;
mod fold;
mod generations;
mod index;
mod metrics;
mod projector;
mod read_model;
mod rebuild;
mod replay;
mod retry;
mod verify;

pub use client::SearchClient;
pub use config::{SearchConfig, DEFAULT_TOPIC};
pub use document::{index_body, index_name, LineDocument, OrderDocument, ShipmentDocument, ALIAS};
pub use index::{ensure_alias, index_for, IndexLayout};
pub use projector::{SearchError, SearchProjector};
pub use read_model::SearchReadModel;
