//! The `search` read model: one Elasticsearch document per order behind the `orders` alias.

mod document;

pub use document::{index_body, index_name, LineDocument, OrderDocument, ShipmentDocument, ALIAS};
