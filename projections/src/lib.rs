//! Projector workers and read-model sinks.
//!
//! [`engine`] consumes Kafka and feeds batches to a [`engine::Projector`] (sink-agnostic);
//! [`search`] is the Elasticsearch read model of orders.

pub mod engine;
pub mod search;
